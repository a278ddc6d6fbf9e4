// kitbuild's settings, read once at start-up and passed down: the environment variables
// (KITBUILD_*, BuildKit's BUILDKIT_STEP_LOG_* names) over an optional config file
// ($KITBUILD_CONFIG, else $XDG_CONFIG_HOME/kitbuild/config.toml, else ~/.config/kitbuild/config.toml).
// Nothing below this file reads a setting from the environment. An unknown key or a value of the
// wrong type in the file is an error, never ignored.
import { accessSync, constants, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { errnoCode, KitError } from "../util/errors.ts";
import { parseBytes } from "../util/units.ts";
import { DEFAULT_LOG_LIMITS, type LogLimits } from "../worker/log-limit.ts";
import type { UserMode } from "../worker/rootless/id-map.ts";

export type SnapshotterName = "overlay" | "native";

export type KitConfig = {
  /** The cache root. */
  root: string;
  /** A forced snapshotter; undefined lets the cache root's record or a probe decide. */
  snapshotter: SnapshotterName | undefined;
  /** runc's binary (undefined: found on PATH) and its state directory. */
  runc: { path: string | undefined; stateRoot: string };
  /** Per-stream limits of a RUN step's output. */
  stepLogs: LogLimits;
  /** Explain every cache miss (also --debug-cache). */
  debugCache: boolean;
  /** Automatic GC after a build: the cache's size limit in bytes, 0 for off, undefined for the default (10% of the cache root's filesystem, 2 GB to 100 GB). */
  gcKeepStorage: number | undefined;
  /** Give up on a registry connection after this long without data (ms; 0: never). */
  registryIdleTimeoutMs: number;
  /** The config file that was read, if any (for messages). */
  file: string | undefined;
  /** Root on the host, or rootless in the user namespace kitbuild made (with its id mapping). */
  user: UserMode;
  /** Whether kitbuild runs in a user namespace (its own, or a rootless container's): overlay and runc need other options there. */
  inUserNamespace: boolean;
};

type Env = Record<string, string | undefined>;

/** The file's keys: a dotted name for each setting, with its type. */
const FILE_KEYS = {
  root: "string",
  snapshotter: "string",
  "debug-cache": "boolean",
  "runc.path": "string",
  "runc.state-root": "string",
  "step-log.max-size": "number",
  "step-log.max-speed": "number",
  "registry.idle-timeout": "number",
  "gc.keep-storage": "string",
} as const;

type FileValues = { -readonly [K in keyof typeof FILE_KEYS]?: (typeof FILE_KEYS)[K] extends "string" ? string : (typeof FILE_KEYS)[K] extends "number" ? number : boolean };

export function readConfig(env: Env, isRoot = process.getuid?.() === 0): KitConfig {
  const user = userMode(env);
  const hostRoot = isRoot && user.kind === "root";
  const file = readConfigFile(configPath(env), env.KITBUILD_CONFIG !== undefined && env.KITBUILD_CONFIG !== "");
  const f = file.values;
  const snapshotter = env.KITBUILD_SNAPSHOTTER || f.snapshotter || undefined;
  if (snapshotter !== undefined && snapshotter !== "overlay" && snapshotter !== "native") {
    const where = env.KITBUILD_SNAPSHOTTER ? "KITBUILD_SNAPSHOTTER" : `"snapshotter" in ${file.path}`;
    throw new KitError("E_USAGE", `unknown snapshotter "${snapshotter}" in ${where}`, { hint: "use overlay or native" });
  }
  return {
    root: env.KITBUILD_ROOT || f.root || defaultRoot(env, hostRoot),
    snapshotter,
    runc: { path: env.KITBUILD_RUNC || f["runc.path"] || undefined, stateRoot: env.KITBUILD_RUNC_ROOT || f["runc.state-root"] || defaultStateRoot(user) },
    stepLogs: {
      maxSize: logLimit(env, "STEP_LOG_MAX_SIZE", f["step-log.max-size"] ?? DEFAULT_LOG_LIMITS.maxSize),
      maxSpeed: logLimit(env, "STEP_LOG_MAX_SPEED", f["step-log.max-speed"] ?? DEFAULT_LOG_LIMITS.maxSpeed),
    },
    debugCache: env.KITBUILD_DEBUG_CACHE === "1" || f["debug-cache"] === true,
    gcKeepStorage: gcKeepStorage(env.KITBUILD_GC_KEEP_STORAGE, f["gc.keep-storage"], file.path),
    registryIdleTimeoutMs: idleTimeoutMs(env.KITBUILD_REGISTRY_IDLE_TIMEOUT, f["registry.idle-timeout"], file.path),
    file: file.path,
    user,
    inUserNamespace: user.kind === "rootless" || !initialUserNamespace(),
  };
}

/** The mode the parent process recorded when it made the namespace (cli/user-namespace.ts), else root. */
function userMode(env: Env): UserMode {
  const text = env.KITBUILD_USERNS;
  if (!text) return { kind: "root" };
  try {
    return JSON.parse(text) as UserMode;
  } catch (e) {
    throw new KitError("E_INTERNAL", "KITBUILD_USERNS is not what kitbuild writes there", { cause: e });
  }
}

/** Whether this process sees the initial user namespace's identity map (so it is not in a user namespace). */
function initialUserNamespace(): boolean {
  try {
    return readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/).join(" ") === "0 0 4294967295";
  } catch {
    return true;
  }
}

/**
 * runc's state: the rootless user's runtime directory; /run/kitbuild/runc as root, unless /run is not
 * writable (root of a user namespace kitbuild did not make, such as a rootless container's).
 */
function defaultStateRoot(user: UserMode): string {
  if (user.kind === "rootless") return `${user.runtimeDir}/runc`;
  try {
    accessSync("/run", constants.W_OK);
    return "/run/kitbuild/runc";
  } catch {
    return `/tmp/kitbuild-${process.getuid?.() ?? 0}/runc`;
  }
}

/** /var/lib/kitbuild for root, else $XDG_DATA_HOME/kitbuild (~/.local/share/kitbuild). */
function defaultRoot(env: Env, isRoot: boolean): string {
  if (isRoot) return "/var/lib/kitbuild";
  return `${env.XDG_DATA_HOME || `${env.HOME || homedir()}/.local/share`}/kitbuild`;
}

/** $KITBUILD_CONFIG (which must exist), else the XDG location (read when it exists). */
function configPath(env: Env): string {
  if (env.KITBUILD_CONFIG) return env.KITBUILD_CONFIG;
  return `${env.XDG_CONFIG_HOME || `${env.HOME || homedir()}/.config`}/kitbuild/config.toml`;
}

function readConfigFile(path: string, required: boolean): { values: FileValues; path: string | undefined } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (errnoCode(e) === "ENOENT" && !required) return { values: {}, path: undefined };
    throw new KitError("E_CONFIG", `cannot read the config file "${path}": ${errnoCode(e) ?? "error"}`, { cause: e, hint: "fix or remove the file" });
  }
  let parsed: unknown;
  try {
    parsed = Bun.TOML.parse(text);
  } catch (e) {
    throw new KitError("E_CONFIG", `the config file "${path}" is not valid TOML: ${e instanceof Error ? e.message : String(e)}`, { cause: e, hint: "fix its syntax (see docs/architecture.md, Configuration)" });
  }
  return { values: fileValues(parsed as Record<string, unknown>, path), path };
}

function fileValues(doc: Record<string, unknown>, path: string): FileValues {
  const out: Record<string, unknown> = {};
  const visit = (obj: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix + key;
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        visit(value as Record<string, unknown>, `${name}.`);
        continue;
      }
      const type = FILE_KEYS[name as keyof typeof FILE_KEYS];
      if (type === undefined) {
        throw new KitError("E_CONFIG", `unknown setting "${name}" in the config file "${path}"`, { hint: `the settings are ${Object.keys(FILE_KEYS).join(", ")}` });
      }
      if (typeof value !== type) throw new KitError("E_CONFIG", `"${name}" in the config file "${path}" must be a ${type}`, { hint: "fix its value" });
      out[name] = value;
    }
  };
  visit(doc, "");
  return out as FileValues;
}

/** KITBUILD_GC_KEEP_STORAGE, else the file's gc.keep-storage: a size ("20GB"), "0" for off; unset for the default. */
function gcKeepStorage(envText: string | undefined, fileText: string | undefined, path: string | undefined): number | undefined {
  const text = envText || fileText;
  if (text === undefined) return undefined;
  const bytes = parseBytes(text);
  if (bytes === undefined) {
    const where = envText ? "KITBUILD_GC_KEEP_STORAGE" : `"gc.keep-storage" in ${path}`;
    throw new KitError("E_CONFIG", `invalid size "${text}" in ${where}`, { hint: "use a size such as 512MB or 20GB, or 0 to turn automatic garbage collection off" });
  }
  return bytes;
}

/** KITBUILD_REGISTRY_IDLE_TIMEOUT, else the file's registry.idle-timeout: seconds (fractions allowed), 0 for none; 30 by default. */
function idleTimeoutMs(envText: string | undefined, fileValue: number | undefined, path: string | undefined): number {
  const value = envText ? Number(envText.trim()) : (fileValue ?? 30);
  if (!Number.isFinite(value) || value < 0 || (envText !== undefined && !/^\d+(\.\d+)?$/.test(envText.trim()))) {
    const where = envText ? "KITBUILD_REGISTRY_IDLE_TIMEOUT" : `"registry.idle-timeout" in ${path}`;
    throw new KitError("E_CONFIG", `invalid idle timeout "${envText ?? fileValue}" in ${where}`, { hint: "use a number of seconds, such as 30 (0: never give up)" });
  }
  return value * 1000;
}

/** KITBUILD_<name>, else BUILDKIT_<name>, else the file's value; in bytes, negative for no limit. */
function logLimit(env: Env, name: string, fallback: number): number {
  const text = env[`KITBUILD_${name}`] ?? env[`BUILDKIT_${name}`];
  const n = text !== undefined && /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : fallback;
  return n < 0 ? -1 : n;
}
