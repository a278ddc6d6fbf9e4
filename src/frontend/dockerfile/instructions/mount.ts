// RUN --mount values ("type=cache,target=/root/.cache,sharing=locked"): CSV fields parsed and
// checked as BuildKit does. Without an expander only `from` is read (to find the stages a RUN
// depends on before any variable is known); with one, every value is expanded first.
import { closest } from "./suggest.ts";

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export type MountSharing = "shared" | "private" | "locked";

export type RunMount = {
  type: MountType;
  from: string;
  source: string;
  target: string;
  readonly: boolean;
  /** tmpfs size in bytes (0: the kernel default). */
  sizeLimit: number;
  /** `id=`: the cache id, or the secret/ssh id. */
  id: string;
  sharing: MountSharing | "";
  required: boolean;
  /** secret: the environment variable the secret is exposed as. */
  env: string | undefined;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
};

export type Expander = (word: string) => string;

/** A mount option error; `hint` names the closest valid value when there is one. */
export class MountError extends Error {
  override name = "MountError";
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const TYPES: readonly MountType[] = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING: readonly MountSharing[] = ["shared", "private", "locked"];
const KEYS = [
  "type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid", "gid", "src", "dst",
  "destination", "ro", "rw", "readwrite", "env",
];

export function parseMount(value: string, expand?: Expander): RunMount {
  const m: RunMount = {
    type: "bind", from: "", source: "", target: "", readonly: false, sizeLimit: 0, id: "", sharing: "", required: false,
    env: undefined, mode: undefined, uid: undefined, gid: undefined,
  };
  let roAuto = true;
  for (const field of csvFields(value)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (!expand) continue;
      if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") {
        m.readonly = key === "readonly" || key === "ro";
        roAuto = false;
      } else if (key === "required") {
        onlyFor(m, key, ["secret", "ssh"]);
        m.required = true;
      } else {
        throw new MountError(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    let v = field.slice(eq + 1);
    if (!expand) {
      if (key !== "from") continue;
      const dollar = v.indexOf("$");
      if (dollar >= 0 && dollar !== v.length - 1) {
        throw new MountError(`'${key}' doesn't support variable expansion, define alias stage instead`);
      }
    } else {
      v = expand(v);
    }
    if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") roAuto = false;
    setField(m, key, field, v);
  }
  return validate(m, roAuto);
}

function setField(m: RunMount, key: string, field: string, v: string): void {
  switch (key) {
    case "type":
      m.type = oneOf(v, TYPES, "mount type");
      return;
    case "from":
      m.from = v;
      return;
    case "source":
    case "src":
      m.source = v;
      return;
    case "target":
    case "dst":
    case "destination":
      m.target = v;
      return;
    case "readonly":
    case "ro":
      m.readonly = parseBool(key, v);
      return;
    case "readwrite":
    case "rw":
      m.readonly = !parseBool(key, v);
      return;
    case "required":
      onlyFor(m, key, ["secret", "ssh"]);
      m.required = parseBool(key, v);
      return;
    case "size":
      onlyFor(m, key, ["tmpfs"]);
      m.sizeLimit = ramInBytes(key, v);
      return;
    case "id":
      m.id = v;
      return;
    case "sharing":
      m.sharing = oneOf(v, SHARING, "sharing value");
      return;
    case "mode":
      m.mode = parseUint(key, v, 8, `invalid value ${v} for mode`);
      return;
    case "uid":
    case "gid":
      m[key] = parseUint(key, v, 10, `invalid value ${v} for ${key}`);
      return;
    case "env":
      m.env = v;
      return;
    default:
      throw new MountError(`unexpected key '${key}' in '${field}'`, suggestion(key, KEYS));
  }
}

function validate(m: RunMount, roAuto: boolean): RunMount {
  if (m.type !== "secret" && m.type !== "ssh" && m.type !== "cache") {
    for (const k of ["mode", "uid", "gid"] as const) {
      if (m[k] !== undefined) throw new MountError(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (roAuto) m.readonly = !(m.type === "cache" || m.type === "tmpfs");
  if (m.type === "secret") {
    if (m.from !== "") throw new MountError("secret mount should not have a from");
    if (m.sharing !== "") throw new MountError("secret mount should not define sharing");
    if (m.source === "" && m.target === "" && m.id === "") {
      throw new MountError("invalid secret mount. one of source, target required", "name the secret with id=ID or give target=PATH");
    }
    if (m.source !== "" && m.id !== "") throw new MountError("both source and id can't be set");
  }
  if (m.sharing !== "" && m.type !== "cache") throw new MountError(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

function oneOf<T extends string>(v: string, options: readonly T[], what: string): T {
  const lower = v.toLowerCase() as T;
  if (!options.includes(lower)) throw new MountError(`unsupported ${what} "${v}"`, suggestion(v, options));
  return lower;
}

function onlyFor(m: RunMount, key: string, types: readonly MountType[]): void {
  if (!types.includes(m.type)) throw new MountError(`unexpected key '${key}' for mount type '${m.type}'`);
}

function suggestion(value: string, options: readonly string[]): string {
  const near = closest(value, options, true);
  return near ? `did you mean ${near}?` : `use one of: ${options.join(", ")}`;
}

function parseBool(key: string, v: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new MountError(`invalid value for ${key}: ${v}`);
}

function parseUint(key: string, v: string, radix: 8 | 10, message: string): number {
  const digits = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  const n = digits.test(v) ? Number.parseInt(v, radix) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new MountError(message, `${key}= takes a ${radix === 8 ? "octal" : "decimal"} number`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** docker's RAMInBytes: "64m", "1.5g", "512k", "100MiB", binary units. */
function ramInBytes(key: string, v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  const size = m ? Number.parseFloat(m[1] as string) : Number.NaN;
  if (!m || Number.isNaN(size)) throw new MountError(`invalid value for ${key}: ${v}`, "write a size like 64m or 1g");
  return Math.trunc(size * (m[2] ? (SIZE_UNITS[m[2].toLowerCase()] as number) : 1));
}

/** One CSV record: fields split on commas; a field starting with a quote runs to its closing quote. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new MountError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ",") throw new MountError(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      const end = line.indexOf(",", i);
      field = line.slice(i, end < 0 ? line.length : end);
      if (field.includes('"')) throw new MountError(`failed to parse csv mounts: bare " in non-quoted-field`);
      i += field.length;
    }
    fields.push(field);
    i++;
  }
  return fields;
}
