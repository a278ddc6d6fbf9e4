// A stage's environment as BuildKit orders it: RUN's environment moves a key set again to the end,
// the image config's Env keeps it in place; sets and gets take constant time (see env-list.ts).
import { describe, expect, test } from "bun:test";
import { EnvList } from "../../src/frontend/dockerfile/convert/env-list.ts";
import { convert, execs } from "./convert-helpers.ts";

describe("EnvList", () => {
  test("move-to-end: a key set again is removed, every copy of it, and appended", () => {
    const env = new EnvList("move-to-end", ["PATH=/bin", "A=1", "B", "A=dup"]);
    expect(env.get("A")).toBe("dup");
    expect(env.get("B")).toBe("");
    env.set("A", "2");
    expect(env.list()).toEqual(["PATH=/bin", "B", "A=2"]);
    env.set("PATH", "/usr/bin");
    expect(env.list()).toEqual(["B", "A=2", "PATH=/usr/bin"]);
    expect(env.getter().keys()).toEqual(["B", "A", "PATH"]);
  });

  test("in-place: the first entry of a key is replaced, a new key appended", () => {
    const env = new EnvList("in-place", ["PATH=/bin", "A=1", "A=dup"]);
    env.set("A", "2");
    env.set("C", "3");
    expect(env.list()).toEqual(["PATH=/bin", "A=2", "A=dup", "C=3"]);
  });

  test("a list once read never changes; a clone changes apart", () => {
    const env = new EnvList("move-to-end", ["A=1", "B=2"]);
    const before = env.list();
    const copy = env.clone();
    env.set("A", "3");
    copy.set("C", "4");
    expect(before).toEqual(["A=1", "B=2"]);
    expect(env.list()).toEqual(["B=2", "A=3"]);
    expect(copy.list()).toEqual(["A=1", "B=2", "C=4"]);
  });

  test("many sets of distinct and repeated keys stay in order", () => {
    const env = new EnvList("move-to-end");
    for (let i = 0; i < 50_000; i++) env.set(`K${i % 1000}`, String(i));
    const list = env.list();
    expect(list.length).toBe(1000);
    expect(list[0]).toBe("K0=49000");
    expect(list.at(-1)).toBe("K999=49999");
  });
});

describe("ENV order through a conversion", () => {
  test("RUN sees a key set again last; the image config keeps its place; a stage FROM it inherits both", async () => {
    const result = await convert("FROM busybox AS base\nENV A=1 B=2\nRUN one\nENV A=3\nRUN two\nFROM base\nENV B=4\nRUN three\n");
    const envOf = (word: string) => execs(result.definition).find((e) => e.meta.args.join(" ").includes(word))?.meta.env;
    expect(envOf("one")).toEqual(["PATH=/usr/bin:/bin", "A=1", "B=2"]);
    expect(envOf("two")).toEqual(["PATH=/usr/bin:/bin", "B=2", "A=3"]);
    expect(envOf("three")).toEqual(["PATH=/usr/bin:/bin", "A=3", "B=4"]);
    expect(result.image.config.Env).toEqual(["PATH=/usr/bin:/bin", "A=3", "B=4"]);
  });
});
