// The step's resolv.conf, derived from the host's as BuildKit derives it.
import { describe, expect, test } from "bun:test";
import { deriveResolvConf, forwardedResolvConf, hasLoopbackResolver, hostsFile } from "../../src/worker/runc/etc-files.ts";

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

describe("resolv.conf and hosts of a sandboxed step", () => {
  test("with pasta forwarding DNS: its address alone, the host's search and options kept", () => {
    expect(forwardedResolvConf("nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch lan\noptions edns0\n", "10.0.2.3")).toBe("nameserver 10.0.2.3\nsearch lan\noptions edns0\n");
    expect(hasLoopbackResolver("nameserver 10.0.0.2\nnameserver 127.0.0.53\n")).toBe(true);
    expect(hasLoopbackResolver("nameserver 10.255.255.53\n")).toBe(false);
  });

  test("--add-host entries follow BuildKit's lines, in order", () => {
    expect(hostsFile("box", [{ host: "a.example", ip: "192.0.2.1" }, { host: "b.example", ip: "2001:db8::1" }])).toBe(
      "127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n192.0.2.1\ta.example\n2001:db8::1\tb.example\n",
    );
  });
});
