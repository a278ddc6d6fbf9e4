// The libc calls on file descriptors behave as node:fs's: the same bytes read, and a
// failure thrown with node's code, errno, syscall, path and message (node itself is the oracle).
import { describe, expect, test } from "bun:test";
import { constants, openSync, symlinkSync, writeFileSync } from "node:fs";

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;
import { closeFd, O_RDONLY, openFd, readFd } from "../../src/fs/libc.ts";
import { tempDir } from "../harness.ts";

function thrown(f: () => unknown): Record<string, unknown> {
  try {
    f();
  } catch (e) {
    const err = e as Error & Record<string, unknown>;
    return { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path };
  }
  throw new Error("nothing was thrown");
}

describe("openFd, readFd", () => {
  test("a file read through them has its bytes, one more asked for or not", () => {
    const dir = tempDir();
    const body = Buffer.from("x".repeat(70_000) + "end");
    writeFileSync(`${dir}/f`, body);
    const fd = openFd(`${dir}/f`, O_RDONLY);
    const into = Buffer.alloc(body.length + 10);
    let got = 0;
    for (let n = -1; n !== 0; got += n) n = readFd(fd, into, got, Math.min(4096, into.length - got), `${dir}/f`);
    closeFd(fd);
    expect(into.subarray(0, got).equals(body)).toBe(true);
  });

  test("failures are thrown as node:fs throws them", () => {
    const dir = tempDir();
    writeFileSync(`${dir}/exists`, "");
    symlinkSync("exists", `${dir}/link`);
    const cases: Array<[() => unknown, () => unknown]> = [
      [() => openFd(`${dir}/missing`, O_RDONLY), () => openSync(`${dir}/missing`, O_RDONLY)],
      [() => openFd(`${dir}/exists`, O_WRONLY | O_CREAT | O_EXCL, 0o644), () => openSync(`${dir}/exists`, O_WRONLY | O_CREAT | O_EXCL, 0o644)],
      [() => openFd(`${dir}/link`, O_RDONLY | O_NOFOLLOW), () => openSync(`${dir}/link`, O_RDONLY | O_NOFOLLOW)],
    ];
    for (const [ours, node] of cases) expect(thrown(ours)).toEqual(thrown(node));
  });
});
