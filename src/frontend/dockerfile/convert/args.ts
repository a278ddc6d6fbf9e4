// Build arguments before any stage: the predefined platform ARGs (TARGETPLATFORM, BUILDOS, …),
// the ARGs above the first FROM with --build-arg overrides, the proxy variables and
// SOURCE_DATE_EPOCH.
import { formatPlatform, formatPlatformAll, normalizePlatform } from "../../../oci/platform.ts";
import type { Platform } from "../../../oci/types.ts";
import { KitError } from "../../../util/errors.ts";
import { InstructionError } from "../instructions/request.ts";
import type { ArgCommand } from "../instructions/types.ts";
import { envFromList, type EnvGetter, ShellLex } from "../shell/lex.ts";

/** An ordered set of variables (BuildKit's EnvList): a key set again moves to the end. */
export class ArgList {
  private readonly values = new Map<string, string>();

  set(key: string, value: string): void {
    this.values.delete(key);
    this.values.set(key, value);
  }

  delete(key: string): void {
    this.values.delete(key);
  }

  getter(): EnvGetter {
    return envFromList([...this.values].map(([k, v]) => `${k}=${v}`));
  }
}

const PROXY_ARGS = ["HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"];

/** ARGs every Dockerfile may use without declaring them globally; never reported as unused. */
export function isPredefinedArg(key: string): boolean {
  return PROXY_ARGS.includes(key.toUpperCase()) || key === "SOURCE_DATE_EPOCH" || DEFAULT_ARG_NAMES.includes(key) || BUILDKIT_ARGS.includes(key);
}

/** Build args that configure the build itself (BuildKit's dockerui options), never reported as unused. */
const BUILDKIT_ARGS = ["BUILDKIT_SANDBOX_HOSTNAME", "BUILDKIT_CONTEXT_KEEP_GIT_DIR", "BUILDKIT_INLINE_CACHE", "BUILDKIT_DOCKERFILE_CHECK", "BUILDKIT_SBOM_SCAN_STAGE", "BUILDKIT_SBOM_SCAN_CONTEXT"];

const DEFAULT_ARG_NAMES = [
  "BUILDPLATFORM", "BUILDOS", "BUILDOSVERSION", "BUILDARCH", "BUILDVARIANT",
  "TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
];

/**
 * The platform ARGs and TARGETSTAGE, each overridable with --build-arg, as BuildKit's defaultArgs:
 * both platforms in containerd's normal form (so linux/arm64/v8 gives TARGETPLATFORM=linux/arm64 and
 * an empty TARGETVARIANT, linux/arm gives linux/arm/v7), BUILDPLATFORM without the OS version,
 * TARGETPLATFORM with it (platforms.Format and FormatAll).
 */
export function defaultArgs(buildPlatform: Platform, targetPlatform: Platform, targetStage: string, buildArgs: Record<string, string>): ArgList {
  const build = normalizePlatform(buildPlatform);
  const target = normalizePlatform(targetPlatform);
  const values = [
    formatPlatform(build), build.os, build["os.version"] ?? "", build.architecture, build.variant ?? "",
    formatPlatformAll(target), target.os, target["os.version"] ?? "", target.architecture, target.variant ?? "",
    targetStage || "default",
  ];
  const list = new ArgList();
  DEFAULT_ARG_NAMES.forEach((name, i) => list.set(name, Object.hasOwn(buildArgs, name) ? (buildArgs[name] as string) : (values[i] as string)));
  return list;
}

/** Adds the ARGs above the first FROM: a --build-arg wins, else the default expanded with what came before. */
export function globalArgs(defaults: ArgList, metaArgs: readonly ArgCommand[], lex: ShellLex, buildArgs: Record<string, string>, used: Set<string>): ArgList {
  for (const cmd of metaArgs) {
    for (const arg of cmd.args) {
      let value = arg.value;
      if (Object.hasOwn(buildArgs, arg.key)) {
        value = buildArgs[arg.key];
        used.add(arg.key);
      } else if (value !== undefined) {
        try {
          value = lex.processWord(value, defaults.getter()).result;
        } catch (e) {
          throw new InstructionError((e as Error).message, cmd.location, undefined, "E_DOCKERFILE_EXPANSION");
        }
      }
      if (value !== undefined) defaults.set(arg.key, value);
    }
  }
  return defaults;
}

/**
 * Proxy variables given as build args (in any case), for RUN's environment as BuildKit's worker
 * sets them: both the upper- and lowercase names.
 */
export function proxyEnv(buildArgs: Record<string, string>): Record<string, string> | undefined {
  const found = new Map<string, string>();
  for (const key of Object.keys(buildArgs).sort()) {
    const upper = key.toUpperCase();
    if (PROXY_ARGS.includes(upper)) found.set(upper, buildArgs[key] as string);
  }
  if (found.size === 0) return undefined;
  const env: Record<string, string> = {};
  for (const name of PROXY_ARGS) {
    const v = found.get(name);
    if (v) {
      env[name] = v;
      env[name.toLowerCase()] = v;
    }
  }
  return Object.keys(env).length > 0 ? env : undefined;
}

/**
 * SOURCE_DATE_EPOCH from --build-arg or a global ARG: seconds since the epoch, or undefined. The
 * normalized value replaces the given one in both places.
 */
export function sourceDateEpoch(buildArgs: Record<string, string>, globals: ArgList): number | undefined {
  const value = Object.hasOwn(buildArgs, "SOURCE_DATE_EPOCH") ? buildArgs.SOURCE_DATE_EPOCH : globals.getter().get("SOURCE_DATE_EPOCH");
  if (value === undefined || value === "") return undefined;
  if (!/^[+-]?\d+$/.test(value)) {
    throw new KitError("E_DOCKERFILE_SOURCE_DATE_EPOCH", `invalid SOURCE_DATE_EPOCH: ${value}`, {
      hint: "give SOURCE_DATE_EPOCH as seconds since 1970-01-01 UTC, e.g. --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)",
    });
  }
  const epoch = Number(value);
  if (Object.hasOwn(buildArgs, "SOURCE_DATE_EPOCH")) buildArgs.SOURCE_DATE_EPOCH = String(epoch);
  if (globals.getter().get("SOURCE_DATE_EPOCH") !== undefined) globals.set("SOURCE_DATE_EPOCH", String(epoch));
  return epoch;
}
