// The two waits a registry request can be given: the idle timeout (KITBUILD_REGISTRY_IDLE_TIMEOUT
// or the config file's registry.idle-timeout, in seconds, 30 by default, 0 for none; anything else
// is a config error) and a server's Retry-After (delay-seconds or an HTTP date).
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { readConfig } from "../../src/control/config.ts";
import { retryAfterMs } from "../../src/registry/retry.ts";
import { tempDir } from "../harness.ts";

const env = (extra: Record<string, string>) => ({ HOME: tempDir(), ...extra });

describe("the registry idle timeout setting", () => {
  test("30 s by default; seconds (with fractions) from the environment or the file; 0 for none", () => {
    expect(readConfig(env({}), true).registryIdleTimeoutMs).toBe(30_000);
    expect(readConfig(env({ KITBUILD_REGISTRY_IDLE_TIMEOUT: "1.5" }), true).registryIdleTimeoutMs).toBe(1500);
    expect(readConfig(env({ KITBUILD_REGISTRY_IDLE_TIMEOUT: "0" }), true).registryIdleTimeoutMs).toBe(0);
    const dir = tempDir();
    writeFileSync(`${dir}/config.toml`, "[registry]\nidle-timeout = 5\n");
    expect(readConfig(env({ KITBUILD_CONFIG: `${dir}/config.toml` }), true).registryIdleTimeoutMs).toBe(5000);
    // The environment wins over the file.
    expect(readConfig(env({ KITBUILD_CONFIG: `${dir}/config.toml`, KITBUILD_REGISTRY_IDLE_TIMEOUT: "2" }), true).registryIdleTimeoutMs).toBe(2000);
  });

  test("anything else is a config error (exit code 2) naming where it came from", () => {
    for (const bad of ["-1", "abc", "30s", "1e3"]) {
      let err: { code?: string; exitCode?: number; message?: string } | undefined;
      try {
        readConfig(env({ KITBUILD_REGISTRY_IDLE_TIMEOUT: bad }), true);
      } catch (e) {
        err = e as typeof err;
      }
      expect({ bad, code: err?.code, exitCode: err?.exitCode, message: err?.message }).toEqual({
        bad,
        code: "E_CONFIG",
        exitCode: 2,
        message: `invalid idle timeout "${bad}" in KITBUILD_REGISTRY_IDLE_TIMEOUT`,
      });
    }
    const dir = tempDir();
    writeFileSync(`${dir}/config.toml`, "[registry]\nidle-timeout = -3\n");
    expect(() => readConfig(env({ KITBUILD_CONFIG: `${dir}/config.toml` }), true)).toThrow(`invalid idle timeout "-3" in "registry.idle-timeout" in ${dir}/config.toml`);
  });
});

describe("Retry-After", () => {
  test("delay-seconds, an HTTP date (from now, never negative), or nothing usable", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("30", now)).toBe(30_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("1.5", now)).toBe(1500);
    expect(retryAfterMs("-1", now)).toBeUndefined();
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:45 GMT", now)).toBe(45_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs("", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
