// Canonical encoding: msgpack with object keys sorted and undefined values dropped, so the same op
// always has the same bytes (and so the same digest) whatever order its fields were built in.
import { encode } from "@msgpack/msgpack";

export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value instanceof Uint8Array) return value;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  return value;
}

export function encodeCanonical(value: unknown): Uint8Array {
  return encode(canonicalize(value), { sortKeys: true, ignoreUndefined: true });
}
