// Node modules loaded on first use: node:zlib costs about 1.5 ms to load and node:net (with the
// streams it brings) about 1 ms, and a build that compresses nothing, validates no address and
// forwards no ssh agent (a no-op rebuild, most cached builds) never needs them.
import type * as Net from "node:net";
import type * as Zlib from "node:zlib";

let zlibModule: typeof Zlib | undefined;
let netModule: typeof Net | undefined;

export function zlib(): typeof Zlib {
  zlibModule ??= require("node:zlib") as typeof Zlib;
  return zlibModule;
}

/** 4 or 6 for an IPv4 or IPv6 address, 0 for anything else (node:net's isIP). */
export function isIP(address: string): number {
  netModule ??= require("node:net") as typeof Net;
  return netModule.isIP(address);
}
