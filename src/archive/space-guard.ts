// Stops a write that would fill a filesystem (a decompression bomb, a huge download) while space is
// still left: after every few megabytes or files it checks the free blocks and inodes, and fails
// with a clear error once they fall under a reserve kept for everything else on the machine.
import { statfsSync } from "node:fs";
import { KitError } from "../util/errors.ts";
import { formatBytes } from "../util/units.ts";

const CHECK_EVERY_BYTES = 1 << 20;
const CHECK_EVERY_FILES = 256;
const MAX_RESERVE_BYTES = 1 << 30;
const MAX_RESERVE_FILES = 10_000;

export class SpaceGuard {
  private bytes = 0;
  private files = 0;
  private sinceCheck = 0;
  private filesSinceCheck = 0;
  private readonly reserveBytes: number;
  private readonly reserveFiles: number;

  /** `what` names the write in the error ("layer \"sha256:…\"", "download of \"https://…\""). */
  constructor(
    private readonly dir: string,
    private readonly what: string,
  ) {
    const st = statfsSync(dir);
    // 5% of the filesystem, at most 1 GiB (and 10,000 inodes): small disks keep a useful share.
    this.reserveBytes = Math.min(MAX_RESERVE_BYTES, Math.floor(st.blocks * st.bsize * 0.05));
    this.reserveFiles = Math.min(MAX_RESERVE_FILES, Math.floor(st.files * 0.05));
    this.check();
  }

  /** Counts bytes about to be written. */
  addBytes(n: number): void {
    this.bytes += n;
    this.sinceCheck += n;
    if (this.sinceCheck >= CHECK_EVERY_BYTES) this.check();
  }

  /** Counts one more file, directory or link. */
  addFile(): void {
    this.files++;
    if (++this.filesSinceCheck >= CHECK_EVERY_FILES) this.check();
  }

  private check(): void {
    this.sinceCheck = 0;
    this.filesSinceCheck = 0;
    const st = statfsSync(this.dir);
    const freeBytes = st.bavail * st.bsize;
    // Some filesystems (btrfs, tmpfs without nr_inodes) report no inode limit: files is 0.
    const outOfInodes = st.files > 0 && st.ffree < this.reserveFiles;
    if (freeBytes >= this.reserveBytes && !outOfInodes) return;
    const left = outOfInodes ? `${st.ffree} inodes` : formatBytes(freeBytes);
    // The disk is (nearly) full: because of this archive (a decompression bomb) or of everything else on it.
    throw new KitError("E_ARCHIVE_TOO_LARGE", `no space left on device writing "${this.dir}": ${this.what} stopped after writing ${formatBytes(this.bytes)} in ${this.files} files, only ${left} left on the filesystem`, {
      hint: "free space on that filesystem (kitbuild prune removes unused cache) or set KITBUILD_ROOT to a larger disk; an archive that expands to more than the free space (a decompression bomb) stops here too",
    });
  }
}
