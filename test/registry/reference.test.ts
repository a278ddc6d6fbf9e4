// Image references normalized as docker does.
import { describe, expect, test } from "bun:test";
import { formatReference, parseReference, usesPlainHttp } from "../../src/registry/reference.ts";

describe("parseReference", () => {
  test("docker's normalization", () => {
    expect(formatReference(parseReference("alpine"))).toBe("docker.io/library/alpine:latest");
    expect(formatReference(parseReference("user/app:1.0"))).toBe("docker.io/user/app:1.0");
    expect(formatReference(parseReference("localhost/app"))).toBe("localhost/app:latest");
    expect(formatReference(parseReference("127.0.0.1:5000/a/b:t"))).toBe("127.0.0.1:5000/a/b:t");
    expect(formatReference(parseReference("registry.example.com/team/app"))).toBe("registry.example.com/team/app:latest");
    const d = `sha256:${"b".repeat(64)}`;
    expect(parseReference(`alpine@${d}`)).toEqual({ domain: "docker.io", path: "library/alpine", digest: d });
    expect(parseReference(`alpine:3@${d}`)).toEqual({ domain: "docker.io", path: "library/alpine", tag: "3", digest: d });
  });

  test("invalid references are refused with a hint", () => {
    expect(() => parseReference("Alpine")).toThrow('invalid image reference "Alpine"');
    expect(() => parseReference("alpine@sha256:xyz")).toThrow("is not a sha256 digest");
    expect(() => parseReference("")).toThrow("the name is empty");
  });

  test("loopback registries speak plain HTTP, others only when named insecure", () => {
    expect(usesPlainHttp("localhost:5000", [])).toBe(true);
    expect(usesPlainHttp("127.0.0.1:5000", [])).toBe(true);
    expect(usesPlainHttp("127.1.2.3", [])).toBe(true);
    expect(usesPlainHttp("[::1]:5000", [])).toBe(true);
    expect(usesPlainHttp("registry.example.com", [])).toBe(false);
    expect(usesPlainHttp("registry.example.com:5000", ["registry.example.com:5000"])).toBe(true);
  });
});
