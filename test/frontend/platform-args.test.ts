// The automatic platform ARGs as BuildKit's dockerfile2llb gives them (defaultArgs over platforms
// that dockerui parsed with containerd's Parse + Normalize): values per target, the build platform
// beside it, --build-arg overrides, and FROM --platform=$BUILDPLATFORM resolving the build's image.
import { describe, expect, test } from "bun:test";
import { parsePlatform } from "../../src/oci/platform.ts";
import type { Platform } from "../../src/oci/types.ts";
import type { ImageConfig } from "../../src/oci/types.ts";
import { convert, execs, fakeResolver, pinned, type Resolved, sources } from "./convert-helpers.ts";

const NAMES = ["TARGETPLATFORM", "TARGETOS", "TARGETOSVERSION", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"];
const DOCKERFILE = `FROM busybox\n${NAMES.map((n) => `ARG ${n}`).join("\n")}\nRUN x\n`;

/** The ARGs' values a RUN sees when building for `target` on `build` (both as --platform strings). */
async function argsFor(target: string, build = "linux/amd64", buildArgs: Record<string, string> = {}): Promise<Record<string, string>> {
  const result = await convert(DOCKERFILE, { platform: parsePlatform(target) as Platform, buildPlatform: parsePlatform(build) as Platform, buildArgs });
  const env = execs(result.definition)[0]?.meta.env ?? [];
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]).filter(([k]) => NAMES.includes(k as string)));
}

describe("automatic platform ARGs", () => {
  test("linux/arm64 (and linux/arm64/v8, aarch64) has no TARGETVARIANT", async () => {
    for (const spec of ["linux/arm64", "linux/arm64/v8", "linux/aarch64", "arm64"]) {
      expect(await argsFor(spec), spec).toEqual({
        TARGETPLATFORM: "linux/arm64", TARGETOS: "linux", TARGETOSVERSION: "", TARGETARCH: "arm64", TARGETVARIANT: "",
        BUILDPLATFORM: "linux/amd64", BUILDOS: "linux", BUILDARCH: "amd64", BUILDVARIANT: "",
      });
    }
  });

  test("32-bit arm always names its variant: linux/arm is arm/v7", async () => {
    for (const [spec, variant] of [["linux/arm/v7", "v7"], ["linux/arm", "v7"], ["linux/armhf", "v7"], ["linux/arm/v6", "v6"], ["linux/armel", "v6"]] as const) {
      const args = await argsFor(spec);
      expect(args.TARGETPLATFORM, spec).toBe(`linux/arm/${variant}`);
      expect(args.TARGETARCH, spec).toBe("arm");
      expect(args.TARGETVARIANT, spec).toBe(variant);
    }
  });

  test("amd64 micro-architecture levels above v1 are variants; 386 and the others have none", async () => {
    expect((await argsFor("linux/amd64/v3")).TARGETVARIANT).toBe("v3");
    expect((await argsFor("linux/amd64/v1")).TARGETPLATFORM).toBe("linux/amd64");
    const i386 = await argsFor("linux/i386");
    expect([i386.TARGETPLATFORM, i386.TARGETARCH, i386.TARGETVARIANT]).toEqual(["linux/386", "386", ""]);
    for (const arch of ["riscv64", "ppc64le", "s390x"]) {
      const a = await argsFor(`linux/${arch}`);
      expect([a.TARGETPLATFORM, a.TARGETARCH, a.TARGETVARIANT]).toEqual([`linux/${arch}`, arch, ""]);
    }
  });

  test("the build platform's ARGs describe the build platform, whatever the target", async () => {
    const args = await argsFor("linux/amd64", "linux/arm/v7");
    expect([args.BUILDPLATFORM, args.BUILDARCH, args.BUILDVARIANT]).toEqual(["linux/arm/v7", "arm", "v7"]);
    expect([args.TARGETPLATFORM, args.TARGETVARIANT]).toEqual(["linux/amd64", ""]);
  });

  test("TARGETPLATFORM carries the OS version (FormatAll); BUILDPLATFORM never does (Format)", async () => {
    const args = await argsFor("windows(10.0.20348)/amd64", "windows(10.0.17763)/amd64");
    expect(args.TARGETPLATFORM).toBe("windows(10.0.20348)/amd64");
    expect(args.TARGETOSVERSION).toBe("10.0.20348");
    expect(args.BUILDPLATFORM).toBe("windows/amd64");
  });

  test("a --build-arg overrides an automatic ARG", async () => {
    const args = await argsFor("linux/arm64", "linux/amd64", { TARGETARCH: "custom", BUILDVARIANT: "x" });
    expect(args.TARGETARCH).toBe("custom");
    expect(args.BUILDVARIANT).toBe("x");
    expect(args.TARGETPLATFORM).toBe("linux/arm64");
  });

  test("FROM --platform=$BUILDPLATFORM resolves for the build platform, the other stage for the target", async () => {
    const log: Resolved[] = [];
    const src = "FROM --platform=$BUILDPLATFORM busybox AS builder\nARG TARGETARCH\nRUN echo $TARGETARCH > /out\nFROM busybox\nCOPY --from=builder /out /\n";
    const result = await convert(src, { resolveImage: fakeResolver({}, log), platform: parsePlatform("linux/arm64") as Platform, buildPlatform: parsePlatform("linux/amd64") as Platform });
    expect(log.map((r) => r.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    const run = execs(result.definition)[0];
    expect(run?.meta.env).toContain("TARGETARCH=arm64");
    expect(run?.platform?.architecture).toBe("amd64");
    expect(sources(result.definition).map((s) => s.platform?.architecture).sort()).toEqual(["amd64", "arm64"]);
  });
});

describe("the target image's platform", () => {
  /** A resolver whose images all say `platform`, whatever was asked. */
  const resolverOf = (platform: Platform) => async (ref: string) => {
    const config: ImageConfig = { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}), config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${"c".repeat(64)}`] } };
    return { ref: pinned(ref), config };
  };
  const imageOf = async (target: string, base: Platform, explicitPlatform: boolean) => {
    const result = await convert("FROM base\n", { platform: parsePlatform(target) as Platform, resolveImage: resolverOf(base), explicitPlatform });
    return [result.image.os, result.image.architecture, result.image.variant];
  };

  test("--platform given: the config names the target, even over a base of another architecture (BuildKit's explicit target)", async () => {
    expect(await imageOf("linux/amd64", { os: "linux", architecture: "arm64", variant: "v8" }, true)).toEqual(["linux", "amd64", undefined]);
    expect(await imageOf("linux/arm/v7", { os: "linux", architecture: "arm", variant: "v6" }, true)).toEqual(["linux", "arm", "v7"]);
  });

  test("no --platform: the base's platform stays, in containerd's normal form", async () => {
    expect(await imageOf("linux/amd64", { os: "linux", architecture: "arm64", variant: "v8" }, false)).toEqual(["linux", "arm64", undefined]);
    expect(await imageOf("linux/amd64", { os: "linux", architecture: "amd64" }, false)).toEqual(["linux", "amd64", undefined]);
  });
});
