// InvalidBaseImagePlatform as BuildKit's validateBaseImagePlatform: the base image resolved for a
// stage's platform (FROM --platform, else the target's) is of another OS or architecture. Images
// are given as data (what the resolver returned for that name and platform); the e2e test
// (test/e2e/base-platform.test.ts) resolves real ones from the test registry.
import { describe, expect, test } from "bun:test";
import { type BaseImageInfo, lintDockerfile } from "../../src/frontend/dockerfile/lint/lint.ts";
import { shortText } from "../../src/frontend/dockerfile/lint/report.ts";
import { formatPlatform, parsePlatform } from "../../src/oci/platform.ts";
import type { Platform } from "../../src/oci/types.ts";

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const at = (s: string) => parsePlatform(s) as Platform;

type Run = { source: string; target?: string; build?: string; image: (name: string, asked: Platform) => Platform };

/** The findings of this rule, and every (name, platform) the linter asked the resolver's results for. */
function check(r: Run): { warnings: string[]; asked: string[] } {
  const asked: string[] = [];
  const result = lintDockerfile({
    allStages: true,
    source: r.source,
    buildArgs: {},
    excludePatterns: [],
    platform: at(r.target ?? "linux/amd64"),
    buildPlatform: r.build ? at(r.build) : undefined,
    target: undefined,
    baseImage: (name, p): BaseImageInfo => {
      asked.push(`${name} ${formatPlatform(p)}`);
      return { env: [PATH], shell: false, platform: r.image(name, p) };
    },
  });
  return { warnings: result.warnings.filter((w) => w.name === "InvalidBaseImagePlatform").map(shortText), asked };
}

const sameAsAsked = (_: string, p: Platform) => p;

describe("InvalidBaseImagePlatform", () => {
  test("a single-platform base of another architecture: BuildKit's message, at the FROM line", () => {
    const r = check({ source: "FROM scratch AS x\nFROM armonly\n", image: () => at("linux/arm64") });
    expect(r.warnings).toEqual(['InvalidBaseImagePlatform: Base image armonly was pulled with platform "linux/arm64", expected "linux/amd64" for current build (line 2)']);
  });

  test("a fallback to another architecture is not silent: 386 for amd64, arm/v7 for arm64", () => {
    expect(check({ source: "FROM old\n", image: () => at("linux/386") }).warnings).toEqual([
      'InvalidBaseImagePlatform: Base image old was pulled with platform "linux/386", expected "linux/amd64" for current build (line 1)',
    ]);
    expect(check({ source: "FROM old\n", target: "linux/arm64", image: () => at("linux/arm/v7") }).warnings).toEqual([
      'InvalidBaseImagePlatform: Base image old was pulled with platform "linux/arm/v7", expected "linux/arm64" for current build (line 1)',
    ]);
  });

  test("only the OS and architecture count: another variant of the same architecture is fine", () => {
    expect(check({ source: "FROM a\n", target: "linux/arm/v7", image: () => at("linux/arm/v6") }).warnings).toEqual([]);
    expect(check({ source: "FROM a\n", target: "linux/arm64", image: () => ({ os: "linux", architecture: "aarch64", variant: "v8" }) }).warnings).toEqual([]);
  });

  test("FROM --platform is what the image is judged against, however it is written", () => {
    expect(check({ source: "FROM --platform=arm64 a AS x\n", image: () => at("linux/arm64") }).warnings).toEqual([]);
    expect(check({ source: "FROM --platform=linux/arm64/v8 a AS x\n", image: () => at("linux/amd64") }).warnings).toEqual([
      'InvalidBaseImagePlatform: Base image a was pulled with platform "linux/amd64", expected "linux/arm64" for current build (line 1)',
    ]);
  });

  test("each stage's image is looked up for its own platform: $BUILDPLATFORM is the build's, the others the target's", () => {
    const source = "FROM --platform=$BUILDPLATFORM busybox AS builder\nFROM busybox\nCOPY --from=builder / /\n";
    const r = check({ source, target: "linux/arm64", build: "linux/amd64", image: sameAsAsked });
    expect(r.asked.sort()).toEqual(["busybox linux/amd64", "busybox linux/arm64"]);
    expect(r.warnings).toEqual([]);
  });

  test("# check=skip=InvalidBaseImagePlatform silences it", () => {
    expect(check({ source: "# check=skip=InvalidBaseImagePlatform\nFROM armonly\n", image: () => at("linux/arm64") }).warnings).toEqual([]);
  });
});
