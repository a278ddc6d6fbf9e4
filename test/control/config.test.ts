// Settings read once: defaults, the config file, the environment over the file, BuildKit's names
// for the log limits, and a clear error for anything the file says that kitbuild does not know.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { readConfig } from "../../src/control/config.ts";
import { DEFAULT_LOG_LIMITS } from "../../src/worker/log-limit.ts";
import { tempDir } from "../harness.ts";

function withFile(text: string): Record<string, string> {
  const dir = tempDir();
  writeFileSync(`${dir}/config.toml`, text);
  return { KITBUILD_CONFIG: `${dir}/config.toml` };
}

describe("readConfig", () => {
  test("defaults for root and for other users, without a config file", () => {
    const home = tempDir();
    const rootCfg = readConfig({ HOME: home }, true);
    expect(rootCfg).toMatchObject({ root: "/var/lib/kitbuild", snapshotter: undefined, debugCache: false, file: undefined });
    expect(rootCfg.runc).toEqual({ path: undefined, stateRoot: "/run/kitbuild/runc" });
    expect(rootCfg.stepLogs).toEqual(DEFAULT_LOG_LIMITS);
    expect(readConfig({ HOME: home }, false).root).toBe(`${home}/.local/share/kitbuild`);
    expect(readConfig({ HOME: home, XDG_DATA_HOME: `${home}/data` }, false).root).toBe(`${home}/data/kitbuild`);
  });

  test("the environment, with BuildKit's names for the log limits", () => {
    const cfg = readConfig({ HOME: tempDir(), KITBUILD_ROOT: "/r", KITBUILD_SNAPSHOTTER: "native", KITBUILD_RUNC: "/x/runc", KITBUILD_RUNC_ROOT: "/s", KITBUILD_STEP_LOG_MAX_SIZE: "1000", BUILDKIT_STEP_LOG_MAX_SPEED: "-1", KITBUILD_DEBUG_CACHE: "1" }, true);
    expect(cfg).toMatchObject({ root: "/r", snapshotter: "native", runc: { path: "/x/runc", stateRoot: "/s" }, stepLogs: { maxSize: 1000, maxSpeed: -1 }, debugCache: true });
    expect(readConfig({ HOME: tempDir(), KITBUILD_STEP_LOG_MAX_SIZE: "lots" }, true).stepLogs).toEqual(DEFAULT_LOG_LIMITS);
  });

  test("the XDG config file, under the environment", () => {
    const xdg = tempDir();
    mkdirSync(`${xdg}/kitbuild`);
    writeFileSync(`${xdg}/kitbuild/config.toml`, 'root = "/from-file"\nsnapshotter = "native"\ndebug-cache = true\n[runc]\npath = "/f/runc"\nstate-root = "/f/state"\n[step-log]\nmax-size = 5\nmax-speed = 6\n');
    const cfg = readConfig({ XDG_CONFIG_HOME: xdg }, true);
    expect(cfg).toMatchObject({ root: "/from-file", snapshotter: "native", debugCache: true, runc: { path: "/f/runc", stateRoot: "/f/state" }, stepLogs: { maxSize: 5, maxSpeed: 6 }, file: `${xdg}/kitbuild/config.toml` });
    expect(readConfig({ XDG_CONFIG_HOME: xdg, KITBUILD_ROOT: "/env", KITBUILD_STEP_LOG_MAX_SIZE: "7" }, true)).toMatchObject({ root: "/env", stepLogs: { maxSize: 7, maxSpeed: 6 } });
  });

  test("what kitbuild does not know is an error that names it", () => {
    expect(() => readConfig({ ...withFile("rot = 1\n") }, true)).toThrow(expect.objectContaining({ code: "E_CONFIG", message: expect.stringContaining('unknown setting "rot"') }));
    expect(() => readConfig({ ...withFile("[runc]\npath = 3\n") }, true)).toThrow(expect.objectContaining({ code: "E_CONFIG", message: expect.stringContaining('"runc.path"') }));
    expect(() => readConfig({ ...withFile("root = \n") }, true)).toThrow(expect.objectContaining({ code: "E_CONFIG", message: expect.stringContaining("not valid TOML") }));
    expect(() => readConfig({ KITBUILD_CONFIG: `${tempDir()}/missing.toml` }, true)).toThrow(expect.objectContaining({ code: "E_CONFIG" }));
    expect(() => readConfig({ HOME: tempDir(), KITBUILD_SNAPSHOTTER: "zfs" }, true)).toThrow(expect.objectContaining({ code: "E_USAGE", message: 'unknown snapshotter "zfs" in KITBUILD_SNAPSHOTTER' }));
  });
});
