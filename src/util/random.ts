// Random names and ids from the Web Crypto source the runtime always has: node:crypto, for
// randomBytes alone, cost about 1 ms of every build's start to load.

/** `bytes` random bytes as lowercase hex (twice as many characters). */
export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}
