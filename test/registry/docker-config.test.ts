// Where docker keeps a registry's credentials: the keys of "auths", credHelpers and credsStore, and
// the server names `login` accepts.
import { describe, expect, test } from "bun:test";
import { fromAuthEntry } from "../../src/registry/credentials.ts";
import { findAuthKey, helperFor, hostnameOfKey, serverKey } from "../../src/registry/docker-config.ts";
import { loginDomain } from "../../src/registry/login.ts";
import { apiHost, parseReference } from "../../src/registry/reference.ts";

describe("docker config keys", () => {
  test("Docker Hub is stored under its v1 index address and served by its API host", () => {
    expect(serverKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(serverKey("reg.example.com:5000")).toBe("reg.example.com:5000");
    expect(apiHost(parseReference("alpine").domain)).toBe("registry-1.docker.io");
    expect(parseReference("index.docker.io/library/alpine").domain).toBe("docker.io");
  });

  test("an auths entry is found under the host, a URL of it, or Hub's aliases", () => {
    const config = { auths: { "https://index.docker.io/v1/": {}, "http://reg.example.com:5000/v2/": {}, "other.example.com": {} } };
    expect(findAuthKey(config, "docker.io")).toBe("https://index.docker.io/v1/");
    expect(findAuthKey(config, "reg.example.com:5000")).toBe("http://reg.example.com:5000/v2/");
    expect(findAuthKey(config, "other.example.com")).toBe("other.example.com");
    expect(findAuthKey(config, "reg.example.com")).toBeUndefined();
    expect(findAuthKey({ auths: { "registry-1.docker.io": {} } }, "docker.io")).toBe("registry-1.docker.io");
  });

  test("a credHelper for the host wins over the credsStore", () => {
    const config = { credsStore: "desktop", credHelpers: { "gcr.io": "gcloud" } };
    expect(helperFor(config, "gcr.io")).toBe("gcloud");
    expect(helperFor(config, "docker.io")).toBe("desktop");
    expect(helperFor({}, "docker.io")).toBeUndefined();
  });

  test("auth entries decode as docker encodes them; an identity token wins", () => {
    const auth = Buffer.from("me:pa:ss").toString("base64");
    expect(fromAuthEntry({ auth })).toEqual({ username: "me", password: "pa:ss" });
    expect(fromAuthEntry({ auth, identitytoken: "tok" })).toEqual({ identityToken: "tok" });
    expect(fromAuthEntry({ auth: Buffer.from("nocolon").toString("base64") })).toBeUndefined();
  });

  test("login accepts a host, a URL or nothing (Docker Hub)", () => {
    expect(loginDomain("")).toBe("docker.io");
    expect(loginDomain("https://index.docker.io/v1/")).toBe("docker.io");
    expect(loginDomain("https://reg.example.com:5000/")).toBe("reg.example.com:5000");
    expect(hostnameOfKey("reg.example.com")).toBe("reg.example.com");
  });
});
