// Sizes and durations as docker's flags take them.
import { describe, expect, test } from "bun:test";
import { formatBytes, parseBytes, parseDuration, relativeTime } from "../../src/util/units.ts";

describe("units", () => {
  test("parseBytes uses docker's binary multiples", () => {
    expect(parseBytes("512")).toBe(512);
    expect(parseBytes("10GB")).toBe(10 * 1024 ** 3);
    expect(parseBytes("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseBytes("200MiB")).toBe(200 * 1024 ** 2);
    expect(parseBytes("ten")).toBeUndefined();
  });

  test("parseDuration reads Go-style durations", () => {
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("7d")).toBe(7 * 86_400_000);
    expect(parseDuration("soon")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  test("formatBytes and relativeTime print as BuildKit and docker do", () => {
    expect(formatBytes(300)).toBe("300B");
    expect(formatBytes(1_062_446)).toBe("1.06MB");
    expect(formatBytes(1100)).toBe("1.10kB");
    expect(relativeTime(0, 90_000)).toBe("1 minute ago");
    expect(relativeTime(0, 3 * 86_400_000)).toBe("3 days ago");
  });
});
