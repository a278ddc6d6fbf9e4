// The automatic GC's limit: KITBUILD_GC_KEEP_STORAGE over the config file's gc.keep-storage, 0 for
// off, a bad size an E_CONFIG error; unset, buildkitd's default of 10% of the cache root's filesystem
// between 2 GB and 100 GB.
import { describe, expect, test } from "bun:test";
import { statfsSync, writeFileSync } from "node:fs";
import { gcLimit } from "../../src/control/auto-gc.ts";
import { readConfig } from "../../src/control/config.ts";
import { tempDir } from "../harness.ts";

function withFile(text: string): Record<string, string> {
  const dir = tempDir();
  writeFileSync(`${dir}/config.toml`, text);
  return { KITBUILD_CONFIG: `${dir}/config.toml` };
}

describe("the GC limit", () => {
  test("from the environment, else the config file; 0 turns it off; unset is the default", () => {
    expect(readConfig({ HOME: tempDir(), KITBUILD_GC_KEEP_STORAGE: "60MB" }, true).gcKeepStorage).toBe(60 * 1024 * 1024);
    expect(readConfig({ HOME: tempDir(), KITBUILD_GC_KEEP_STORAGE: "0" }, true).gcKeepStorage).toBe(0);
    expect(readConfig({ HOME: tempDir() }, true).gcKeepStorage).toBeUndefined();
    const file = withFile('[gc]\nkeep-storage = "20GB"\n');
    expect(readConfig(file, true).gcKeepStorage).toBe(20 * 1024 ** 3);
    expect(readConfig({ ...file, KITBUILD_GC_KEEP_STORAGE: "1GB" }, true).gcKeepStorage).toBe(1024 ** 3);
  });

  test("a size kitbuild cannot read is a usage error naming where it came from", () => {
    expect(() => readConfig({ HOME: tempDir(), KITBUILD_GC_KEEP_STORAGE: "lots" }, true)).toThrow(
      expect.objectContaining({ code: "E_CONFIG", message: expect.stringContaining('invalid size "lots" in KITBUILD_GC_KEEP_STORAGE') }),
    );
    expect(() => readConfig(withFile('[gc]\nkeep-storage = "big"\n'), true)).toThrow(expect.objectContaining({ code: "E_CONFIG", message: expect.stringContaining('"gc.keep-storage"') }));
    expect(() => readConfig(withFile("[gc]\nkeep-storage = 5\n"), true)).toThrow(expect.objectContaining({ code: "E_CONFIG" }));
  });

  test("the default is 10% of the cache root's filesystem, clamped to 2 GB .. 100 GB", () => {
    const root = tempDir();
    const st = statfsSync(root);
    const tenth = Math.floor(st.blocks * st.bsize * 0.1);
    expect(gcLimit(undefined, root)).toBe(Math.min(100e9, Math.max(2e9, tenth)));
    expect(gcLimit(0, root)).toBe(0);
    expect(gcLimit(12345, root)).toBe(12345);
  });
});
