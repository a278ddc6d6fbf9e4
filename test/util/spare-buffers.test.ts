// Spare buffers: one size only, at most so many, and a buffer given back is the one taken next.
import { expect, test } from "bun:test";
import { SpareBuffers } from "../../src/util/spare-buffers.ts";

test("keeps given buffers of its size, up to its limit, and hands them out again", () => {
  const pool = new SpareBuffers(16, 2);
  const [a, b, c] = [pool.take(), pool.take(), pool.take()];
  expect([a.length, b.length, c.length]).toEqual([16, 16, 16]);
  pool.give(new ArrayBuffer(8));
  for (const buf of [a, b, c]) pool.give(buf.buffer);
  const again = [pool.take(), pool.take(), pool.take()];
  expect(again[0]?.buffer).toBe(b.buffer);
  expect(again[1]?.buffer).toBe(a.buffer);
  expect(again[2]?.buffer === a.buffer || again[2]?.buffer === b.buffer || again[2]?.buffer === c.buffer).toBe(false);
  expect(again[2]?.length).toBe(16);
});
