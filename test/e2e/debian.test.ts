// A build on a Debian base image (made with debootstrap by scripts/test-debian.ts; skipped with the
// reason where that cannot run): `useradd` in one step, then `USER` by that name. The expected ids
// are what BuildKit (docker 20.10's `docker build`) gives for the same Dockerfile. Needs root and runc.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { debianImage } from "../../scripts/test-debian.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry, expectExit } from "../harness.ts";

const skipRun = skipBecause(!IS_ROOT || !HAS_RUNC, `Debian build: ${NEEDS_ROOT_AND_RUNC}`);
const debian = skipRun ? undefined : await debianImage(await testRegistry());
const skip = skipRun || skipBecause(debian?.kind !== "ready", `Debian build: no Debian image (${debian?.kind === "unavailable" ? debian.reason : "skipped"})`);

describe.skipIf(skip)("a Debian base image", () => {
  test("useradd, then USER by name", async () => {
    const ctx = tempDir("kitbuild-ctx-");
    const ref = debian?.kind === "ready" ? debian.ref : "";
    writeFileSync(
      `${ctx}/Dockerfile`,
      [
        `FROM ${ref}`,
        "RUN groupadd -g 1600 extra && useradd -m -u 1500 -s /bin/bash builder && usermod -aG extra builder",
        "USER builder",
        'RUN id > /home/builder/id.txt && echo "$HOME" >> /home/builder/id.txt && whoami >> /home/builder/id.txt',
        "",
      ].join("\n"),
    );
    const work = tempDir();
    const res = await runKitbuild(["build", "--progress=plain", "-o", `${work}/out`, ctx], { env: { KITBUILD_ROOT: `${work}/root` } });
    expectExit(res, 0);
    expect(readFileSync(`${work}/out/home/builder/id.txt`, "utf8")).toBe("uid=1500(builder) gid=1500(builder) groups=1500(builder),1600(extra)\n/home/builder\nbuilder\n");
    expect(readFileSync(`${work}/out/etc/passwd`, "utf8")).toContain("builder:x:1500:1500::/home/builder:/bin/bash\n");
  }, 120_000);
});
