// Platform parsing, normalization and the choice of an index entry, against containerd's rules
// (platforms.Parse + Normalize as BuildKit reads --platform; platforms.Only as BuildKit's image
// resolver matches). Indexes are built here from descriptors; nothing touches a registry.
import { describe, expect, test } from "bun:test";
import { formatPlatform, formatPlatformAll, hostPlatform, normalizePlatform, parsePlatform, parsePlatformSpec } from "../../src/oci/platform.ts";
import type { Descriptor, Platform } from "../../src/oci/types.ts";
import { choosePlatform, platformVector } from "../../src/registry/platform.ts";

const shown = (s: string) => {
  const p = parsePlatform(s);
  return p ? formatPlatform(p) : undefined;
};

describe("parsing and normalizing a platform", () => {
  test("architecture aliases and default variants become containerd's canonical form", () => {
    expect(shown("linux/aarch64")).toBe("linux/arm64");
    expect(shown("linux/arm64/v8")).toBe("linux/arm64");
    expect(shown("linux/arm64/8")).toBe("linux/arm64");
    expect(shown("linux/arm64/v9.0")).toBe("linux/arm64/v9");
    expect(shown("linux/arm64/v8.2")).toBe("linux/arm64/v8.2");
    expect(shown("linux/x86_64")).toBe("linux/amd64");
    expect(shown("linux/x86-64")).toBe("linux/amd64");
    expect(shown("linux/amd64/v1")).toBe("linux/amd64");
    expect(shown("linux/amd64/v3")).toBe("linux/amd64/v3");
    expect(shown("linux/i386")).toBe("linux/386");
    expect(shown("linux/armhf")).toBe("linux/arm/v7");
    expect(shown("linux/armel")).toBe("linux/arm/v6");
    expect(shown("linux/arm")).toBe("linux/arm/v7");
    expect(shown("linux/arm/7")).toBe("linux/arm/v7");
    expect(shown("linux/arm/6")).toBe("linux/arm/v6");
    expect(shown("Linux/ARM64")).toBe("linux/arm64");
    expect(shown("linux/riscv64")).toBe("linux/riscv64");
  });

  test("a lone architecture is linux's; a lone OS takes the host's architecture", () => {
    expect(shown("arm64")).toBe("linux/arm64");
    expect(shown("aarch64")).toBe("linux/arm64");
    expect(shown("s390x")).toBe("linux/s390x");
    expect(shown("linux")).toBe(formatPlatform(hostPlatform()));
  });

  test("what is not a platform says why", () => {
    for (const bad of ["linux/arm64/v8/x", "linux/*", "linux/", "li nux/amd64", "nosuch", ""]) {
      const parsed = parsePlatformSpec(bad);
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
    }
  });

  test("the OS version is kept and shown only by formatPlatformAll", () => {
    const p = parsePlatform("windows(10.0.20348)/amd64") as Platform;
    expect(p["os.version"]).toBe("10.0.20348");
    expect(formatPlatform(p)).toBe("windows/amd64");
    expect(formatPlatformAll(p)).toBe("windows(10.0.20348)/amd64");
  });

  test("normalizing is idempotent and the host has no arm64 variant", () => {
    for (const s of ["linux/arm64/v8", "linux/arm", "linux/amd64/v1", "linux/armhf"]) {
      const once = parsePlatform(s) as Platform;
      expect(normalizePlatform(once)).toEqual(once);
    }
    expect(hostPlatform().variant).toBeUndefined();
  });
});

describe("the platforms a platform also runs (containerd's Only)", () => {
  const vector = (s: string) => platformVector(parsePlatform(s) as Platform).map(formatPlatform);

  test("amd64 runs lower micro-architecture levels, then 386", () => {
    expect(vector("linux/amd64")).toEqual(["linux/amd64", "linux/386"]);
    expect(vector("linux/amd64/v3")).toEqual(["linux/amd64/v3", "linux/amd64/v2", "linux/amd64/v1", "linux/386"]);
  });

  test("32-bit arm runs older variants down to v5", () => {
    expect(vector("linux/arm/v7")).toEqual(["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    expect(vector("linux/arm/v5")).toEqual(["linux/arm/v5"]);
  });

  test("arm64 runs arm64/v8 first, then 32-bit arm", () => {
    expect(vector("linux/arm64")).toEqual(["linux/arm64/v8", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]);
    expect(vector("linux/arm64/v8.2").slice(0, 3)).toEqual(["linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64/v8"]);
  });

  test("other architectures run only themselves", () => {
    expect(vector("linux/riscv64")).toEqual(["linux/riscv64"]);
    expect(vector("linux/s390x")).toEqual(["linux/s390x"]);
  });
});

describe("choosing an index entry", () => {
  let n = 0;
  /** An index entry with a distinct digest per call. */
  const entry = (platform?: Platform): Descriptor => {
    const digest = `sha256:${(++n).toString(16).padStart(64, "0")}` as const;
    return { mediaType: "application/vnd.oci.image.manifest.v1+json", digest, size: 1, ...(platform ? { platform } : {}) };
  };
  const chosen = (manifests: Descriptor[], wanted: string) => {
    const d = choosePlatform(manifests, parsePlatform(wanted) as Platform);
    return d?.platform ? formatPlatform(d.platform) : undefined;
  };

  test("the exact platform wins over every fallback, wherever it stands", () => {
    const index = [entry({ os: "linux", architecture: "386" }), entry({ os: "linux", architecture: "arm", variant: "v6" }), entry({ os: "linux", architecture: "arm", variant: "v7" }), entry({ os: "linux", architecture: "amd64" })];
    expect(chosen(index, "linux/amd64")).toBe("linux/amd64");
    expect(chosen(index, "linux/arm/v7")).toBe("linux/arm/v7");
    expect(chosen(index, "linux/arm/v6")).toBe("linux/arm/v6");
  });

  test("arm64 and arm64/v8 match each other, in the index and in the request", () => {
    expect(chosen([entry({ os: "linux", architecture: "arm64", variant: "v8" })], "linux/arm64")).toBe("linux/arm64/v8");
    expect(chosen([entry({ os: "linux", architecture: "arm64" })], "linux/arm64/v8")).toBe("linux/arm64");
    expect(chosen([entry({ os: "linux", architecture: "aarch64" })], "linux/arm64")).toBe("linux/aarch64");
  });

  test("fallbacks go in containerd's order: arm/v7 → v6 → v5, amd64/v3 → v2 → amd64", () => {
    const arm = [entry({ os: "linux", architecture: "arm", variant: "v5" }), entry({ os: "linux", architecture: "arm", variant: "v6" })];
    expect(chosen(arm, "linux/arm/v7")).toBe("linux/arm/v6");
    expect(chosen(arm.slice(0, 1), "linux/arm/v7")).toBe("linux/arm/v5");
    const amd = [entry({ os: "linux", architecture: "amd64" }), entry({ os: "linux", architecture: "amd64", variant: "v2" })];
    expect(chosen(amd, "linux/amd64/v3")).toBe("linux/amd64/v2");
    expect(chosen(amd.slice(0, 1), "linux/amd64/v3")).toBe("linux/amd64");
  });

  test("another architecture only as containerd allows it: amd64 runs 386, arm64 runs 32-bit arm", () => {
    expect(chosen([entry({ os: "linux", architecture: "386" })], "linux/amd64")).toBe("linux/386");
    expect(chosen([entry({ os: "linux", architecture: "arm", variant: "v7" })], "linux/arm64")).toBe("linux/arm/v7");
    expect(chosen([entry({ os: "linux", architecture: "amd64" })], "linux/386")).toBeUndefined();
    expect(chosen([entry({ os: "linux", architecture: "arm64" })], "linux/arm/v7")).toBeUndefined();
  });

  test("a newer variant never serves an older one; another OS or architecture never matches", () => {
    expect(chosen([entry({ os: "linux", architecture: "arm", variant: "v7" })], "linux/arm/v6")).toBeUndefined();
    expect(chosen([entry({ os: "linux", architecture: "amd64", variant: "v3" })], "linux/amd64")).toBeUndefined();
    const other = [entry({ os: "linux", architecture: "amd64" }), entry({ os: "windows", architecture: "arm64" }), entry({ os: "linux", architecture: "s390x" })];
    expect(chosen(other, "linux/arm64")).toBeUndefined();
    expect(chosen(other, "linux/riscv64")).toBeUndefined();
    expect(chosen(other, "linux/ppc64le")).toBeUndefined();
  });

  test("entries without a platform or of an unknown one (attestations) are never chosen", () => {
    const index = [entry(), entry({ os: "unknown", architecture: "unknown" })];
    expect(choosePlatform(index, parsePlatform("linux/amd64") as Platform)).toBeUndefined();
  });

  test("among equal entries the first is chosen", () => {
    const first = entry({ os: "linux", architecture: "arm64" });
    const second = entry({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(choosePlatform([first, second], parsePlatform("linux/arm64") as Platform)?.digest).toBe(first.digest);
  });
});
