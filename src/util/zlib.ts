// node:zlib, loaded on first use: it costs about 1.5 ms to load, and a build that compresses and
// decompresses nothing (a no-op rebuild, most cached builds) never needs it.
import type * as Zlib from "node:zlib";

let loaded: typeof Zlib | undefined;

export function zlib(): typeof Zlib {
  loaded ??= require("node:zlib") as typeof Zlib;
  return loaded;
}
