// The flags that shape RUN steps and the session they run in, read as buildx and docker read them:
// --secret, --ssh, --allow, --network, --add-host, --ulimit and --shm-size.
import { isIP } from "../util/lazy-modules.ts";
import { parseBytes } from "../util/units.ts";
import type { ExtraHost } from "../worker/executor.ts";
import { primaryHostIPv4 } from "../worker/network/host-address.ts";
import { ENTITLEMENTS, type Entitlement } from "../worker/session/exec-services.ts";
import type { SecretSource } from "../worker/session/secrets.ts";
import type { SshSource } from "../worker/session/ssh-agents.ts";
import { usageError } from "./build-flag-table.ts";
import { splitCsv } from "./output-flags.ts";

const usage = (message: string, hint?: string) => usageError("build", message, hint);

/** `id=ID[,src=FILE|,env=VAR][,type=file|env]`, as buildx reads --secret. */
export function parseSecret(spec: string): SecretSource {
  const out: SecretSource = { id: "" };
  let type: string | undefined;
  for (const field of splitCsv(spec)) {
    const eq = field.indexOf("=");
    if (eq < 0) throw usage(`invalid --secret field "${field}" in "${spec}": fields are key=value pairs`, "write it as --secret id=ID,src=FILE or --secret id=ID,env=VAR");
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (key === "id") out.id = value;
    else if (key === "src" || key === "source") out.file = value;
    else if (key === "env") out.env = value;
    else if (key === "type") {
      if (value !== "file" && value !== "env") throw usage(`unsupported --secret type "${value}"`, "use type=file or type=env");
      type = value;
    } else throw usage(`unknown --secret field "${key}" in "${spec}"`, "the fields are id, src (or source), env and type");
  }
  if (!out.id) throw usage(`--secret "${spec}" has no id`, "write it as --secret id=ID,src=FILE or --secret id=ID,env=VAR");
  // type=env with src= names the variable (buildx).
  if (type === "env" && out.env === undefined && out.file !== undefined) return { id: out.id, env: out.file };
  return out;
}

/** `default`, `ID`, `ID=SOCKET` or `ID=KEY[,KEY…]`, as buildx reads --ssh. */
export function parseSsh(spec: string): SshSource {
  const eq = spec.indexOf("=");
  const id = eq < 0 ? spec : spec.slice(0, eq);
  if (!id) throw usage(`--ssh "${spec}" has no id`, "write it as --ssh default or --ssh ID=SOCKET|KEYFILE");
  return { id, paths: eq < 0 ? [] : spec.slice(eq + 1).split(",") };
}

export function parseEntitlement(value: string): Entitlement {
  if ((ENTITLEMENTS as readonly string[]).includes(value)) return value as Entitlement;
  throw usage(`unknown entitlement "${value}" in --allow`, `kitbuild grants ${ENTITLEMENTS.join(" and ")}`);
}

/** --network as buildx takes it: default (the sandbox), none or host. */
export function parseNetwork(value: string | undefined): "host" | "none" | undefined {
  if (value === undefined || value === "default") return undefined;
  if (value === "host" || value === "none") return value;
  throw usage(`network mode "${value}" is not supported`, "use --network default, none or host");
}

/** `NAME:IP` or `NAME=IP` (for IPv6 addresses), IP possibly in brackets or host-gateway, as buildx reads --add-host. */
export function parseExtraHost(spec: string): ExtraHost {
  const sep = spec.includes("=") ? "=" : ":";
  const at = spec.indexOf(sep);
  const host = at < 0 ? "" : spec.slice(0, at);
  let ip = at < 0 ? "" : spec.slice(at + 1).replace(/^\[(.*)\]$/, "$1");
  if (ip === "host-gateway") {
    const found = primaryHostIPv4();
    if (!found) throw usage(`--add-host "${spec}": the host has no IPv4 address for host-gateway`, "give the address itself: --add-host NAME:IP");
    ip = found;
  }
  if (host === "" || /\s/.test(host) || isIP(ip) === 0) {
    throw usage(`invalid --add-host "${spec}"`, "write it as --add-host NAME:IP, NAME=IP (IPv6) or NAME:host-gateway");
  }
  return { host, ip };
}

/** docker's ulimit names (go-units), each an RLIMIT_ of the same name upper-cased. */
const ULIMIT_NAMES = ["core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"];

/** `TYPE=SOFT[:HARD]` as docker reads --ulimit: HARD defaults to SOFT, -1 is unlimited, SOFT may not exceed HARD; a repeated TYPE replaces the earlier one. */
export function parseUlimit(spec: string): { name: string; soft: number; hard: number } {
  const eq = spec.indexOf("=");
  const hint = "write it as --ulimit TYPE=SOFT[:HARD], for example --ulimit nofile=1024:2048";
  if (eq < 0) throw usage(`invalid ulimit argument: ${spec}`, hint);
  const name = spec.slice(0, eq);
  if (!ULIMIT_NAMES.includes(name)) throw usage(`invalid ulimit type: ${name}`, `the types are ${ULIMIT_NAMES.join(", ")}`);
  const values = spec.slice(eq + 1).split(":");
  if (values.length > 2) throw usage(`too many limit value arguments - ${spec.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``, hint);
  const num = (v: string) => {
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < -1) throw usage(`invalid --ulimit value "${v}" in "${spec}"`, hint);
    return Number(v);
  };
  const soft = num(values[0] as string);
  const hard = values.length === 2 ? num(values[1] as string) : soft;
  if (hard !== -1 && soft === -1) throw usage(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`, hint);
  if (hard !== -1 && soft > hard) throw usage(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`, hint);
  return { name, soft, hard };
}

/** docker's memory sizes (go-units RAMInBytes, as util/units parses them); 0 or unset keeps 64m. */
export function parseShmSize(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const bytes = parseBytes(value);
  if (bytes === undefined) throw usage(`invalid --shm-size "${value}"`, "give a size such as 128m or 1g");
  return bytes === 0 ? undefined : bytes;
}
