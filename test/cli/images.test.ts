// `kitbuild images` sizes as docker prints them (go-units HumanSizeWithPrecision, 3 digits).
import { describe, expect, test } from "bun:test";
import { humanSize } from "../../src/cli/images.ts";

describe("kitbuild images", () => {
  test("sizes in decimal units with three significant digits, as docker images", () => {
    expect(humanSize(0)).toBe("0B");
    expect(humanSize(624)).toBe("624B");
    expect(humanSize(1_062_000)).toBe("1.06MB");
    expect(humanSize(4_200_000)).toBe("4.2MB");
    expect(humanSize(123_456_789)).toBe("123MB");
    expect(humanSize(1_000_000_000)).toBe("1GB");
  });
});
