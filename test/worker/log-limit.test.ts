// The per-step log limits, with a clock the test controls: BuildKit's size and speed limits, its
// clip message, output allowed again once the speed allows it, and the kept tail of what was dropped.
import { describe, expect, test } from "bun:test";
import { DEFAULT_LOG_LIMITS, formatLimit, StreamLimiter } from "../../src/worker/log-limit.ts";

function limiter(maxSize: number, maxSpeed: number) {
  let now = 0;
  const out: string[] = [];
  const l = new StreamLimiter({ maxSize, maxSpeed }, (d) => out.push(Buffer.from(d).toString()), 0, () => now);
  return { l, out, text: () => out.join(""), advance: (ms: number) => (now += ms) };
}

describe("log limits", () => {
  test("BuildKit's defaults and its size format", () => {
    expect(DEFAULT_LOG_LIMITS).toEqual({ maxSize: 2 * 1024 * 1024, maxSpeed: 200 * 1024 });
    expect([formatLimit(2 * 1024 * 1024), formatLimit(200 * 1024), formatLimit(1536), formatLimit(100)]).toEqual(["2MiB", "200KiB", "1.5KiB", "100B"]);
  });

  test("past the size limit: the clip message once, then nothing until the end, then the tail", () => {
    const { l, out, text } = limiter(10, -1);
    l.write(Buffer.from("0123456"));
    l.write(Buffer.from("789abc\n"));
    l.write(Buffer.from("more\nlast line\n"));
    expect(text()).toBe("0123456789\n[output clipped, log limit 10B reached]\n");
    l.finish();
    expect(out.at(-1)).toBe("abc\nmore\nlast line\n");
  });

  test("the speed limit: clipped within a second, allowed again the next", () => {
    const { l, text, advance } = limiter(1000, 4);
    l.write(Buffer.from("abcdef"));
    expect(text()).toBe("abcd\n[output clipped, log limit 4B/s reached]\n");
    advance(1500); // two seconds' worth allowed now: 8 bytes in all
    l.write(Buffer.from("gh"));
    expect(text()).toBe("abcd\n[output clipped, log limit 4B/s reached]\ngh");
  });

  test("no limits: everything passes; a size of -1 lifts the speed limit too, as in BuildKit", () => {
    const { l, text } = limiter(-1, 4);
    l.write(Buffer.from("a".repeat(100)));
    l.finish();
    expect(text()).toBe("a".repeat(100));
  });

  test("the kept tail is bounded and starts at a line", () => {
    const { l, out } = limiter(1, -1);
    for (let i = 0; i < 60_000; i++) l.write(Buffer.from(`line ${i}\n`));
    l.finish();
    const tail = out.at(-1) ?? "";
    expect(tail.length).toBeLessThanOrEqual(256 * 1024);
    expect(tail.startsWith("line ")).toBe(true);
    expect(tail.endsWith("line 59999\n")).toBe(true);
  });
});
