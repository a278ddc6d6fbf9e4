// Node modules loaded on first use: node:zlib costs about 1.5 ms to load and node:net (with the
// streams it brings) about 1 ms, and a build that compresses nothing, validates no address and
// forwards no ssh agent (a no-op rebuild, most cached builds) never needs them.
import type * as Net from "node:net";
import type * as Stream from "node:stream";
import type * as StreamPromises from "node:stream/promises";
import type * as Zlib from "node:zlib";

let zlibModule: typeof Zlib | undefined;
let netModule: typeof Net | undefined;
let streamModule: typeof Stream | undefined;
let streamPromisesModule: typeof StreamPromises | undefined;

/**
 * node:stream: 1 ms to load in a build that has node:util already (4 ms in a bare compiled
 * program), which a build that moves no layer or archive (a no-op rebuild) never needs.
 */
export function stream(): typeof Stream {
  streamModule ??= require("node:stream") as typeof Stream;
  return streamModule;
}

export function streamPromises(): typeof StreamPromises {
  streamPromisesModule ??= require("node:stream/promises") as typeof StreamPromises;
  return streamPromisesModule;
}

export function zlib(): typeof Zlib {
  zlibModule ??= require("node:zlib") as typeof Zlib;
  return zlibModule;
}

/** 4 or 6 for an IPv4 or IPv6 address, 0 for anything else (node:net's isIP). */
export function isIP(address: string): number {
  netModule ??= require("node:net") as typeof Net;
  return netModule.isIP(address);
}
