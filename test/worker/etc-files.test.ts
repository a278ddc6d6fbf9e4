// The step's resolv.conf, derived from the host's as BuildKit derives it.
import { describe, expect, test } from "bun:test";
import { deriveResolvConf } from "../../src/worker/runc/etc-files.ts";

const upstream = () => "nameserver 192.0.2.1\nsearch corp.example\n";

describe("resolv.conf for a step", () => {
  test("the host's network keeps the host's file, loopback resolvers included", () => {
    const host = "nameserver 127.0.0.53\noptions edns0\n";
    expect(deriveResolvConf(host, "host", upstream)).toBe(host);
  });

  test("a network of its own: loopback resolvers dropped, public ones when none is left", () => {
    expect(deriveResolvConf("nameserver 127.0.0.1\nnameserver 10.0.0.2\nsearch lan\n", "none", upstream)).toBe("nameserver 10.0.0.2\nsearch lan\n");
    expect(deriveResolvConf("nameserver ::1\nsearch lan\n", "none", upstream)).toBe(
      "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n",
    );
  });

  test("systemd-resolved's stub is replaced by its upstream file; a host without resolvers gets public ones", () => {
    expect(deriveResolvConf("nameserver 127.0.0.53\n", "none", upstream)).toBe("nameserver 192.0.2.1\nsearch corp.example\n");
    expect(deriveResolvConf("", "host", upstream)).toBe("nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n");
  });
});
