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

  test("registry hosts and ports follow the distribution grammar: no request goes to a malformed one", () => {
    const refused: Array<[string, string]> = [
      ["127.0.0.1:/img", 'the registry "127.0.0.1:" has an empty port'],
      ["host:99999/img", 'the registry port "99999" is not a number from 1 to 65535'],
      ["host:0/img", 'the registry port "0" is not a number from 1 to 65535'],
      ["host:5x/img", 'the registry port "5x" is not a number from 1 to 65535'],
      [":5000/img", 'the registry ":5000" has no host name'],
      ["::1/img", 'the registry "::1" has no host name'],
      ["a..b/img", '"a..b" is not a valid registry host name'],
      ["-x.example.com/img", '"-x.example.com" is not a valid registry host name'],
      ["my_host.example.com/img", '"my_host.example.com" is not a valid registry host name'],
      ["[fe80::1%eth0]:5000/img", '"[fe80::1%eth0]" is not a valid registry host name'],
      ["localhost:5000/", "a path component is empty"],
      ["a//b", "a path component is empty"],
      ["/img", "a path component is empty"],
      [`x.example.com/${"a".repeat(250)}`, "the name is longer than 255 characters"],
      ["a".repeat(64), "a 64-character hexadecimal name looks like an image ID, not a name"],
      ["img:", '"" is not a valid tag'],
      ["img@", '"" is not a sha256 digest'],
    ];
    for (const [input, why] of refused) {
      let err: unknown;
      try {
        parseReference(input);
      } catch (e) {
        err = e;
      }
      expect({ input, code: (err as { code?: string })?.code, message: (err as Error)?.message }).toEqual({
        input,
        code: "E_REGISTRY_INVALID_REFERENCE",
        message: `invalid image reference "${input}": ${why}`,
      });
    }
  });

  test("valid hosts: IPv6 in brackets, upper case, ports; a lone host:port is docker's image name with a tag", () => {
    expect(parseReference("[::1]:5000/img")).toEqual({ domain: "[::1]:5000", path: "img", tag: "latest" });
    expect(parseReference("Registry.Example.com:443/a/b:t")).toEqual({ domain: "Registry.Example.com:443", path: "a/b", tag: "t" });
    expect(parseReference("host:5000")).toEqual({ domain: "docker.io", path: "library/host", tag: "5000" });
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
