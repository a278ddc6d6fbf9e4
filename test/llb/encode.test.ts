// Canonical encoding: the same op has the same digest whatever order its fields were built in.
import { describe, expect, test } from "bun:test";
import { digestOf } from "../../src/llb/digest.ts";

describe("canonical encoding", () => {
  test("key order and undefined fields do not change the digest; values do", () => {
    const a = digestOf({ kind: "exec", meta: { args: ["sh"], cwd: "/" }, extra: undefined });
    const b = digestOf({ meta: { cwd: "/", args: ["sh"] }, kind: "exec" });
    expect(a).toBe(b);
    expect(digestOf({ kind: "exec", meta: { args: ["sh"], cwd: "/tmp" } })).not.toBe(a);
    expect(digestOf({ kind: "exec", meta: { args: ["sh", "-c"], cwd: "/" } })).not.toBe(a);
    expect(a).toMatch(/^sha256:[a-f0-9]{64}$/);
  });
});
