// `kitbuild build` flags, parsed as docker buildx parses them.
import { describe, expect, test } from "bun:test";
import { parseBuildFlags, parseSecret, parseSsh } from "../../src/cli/build-flags.ts";
import { parseOutput } from "../../src/cli/output-flags.ts";

describe("parseBuildFlags", () => {
  test("long, short, inline and repeated flags", () => {
    const f = parseBuildFlags(
      ["-f", "ci.Dockerfile", "--build-arg", "A=1", "--build-arg=B=x=y", "--build-arg", "FROM_ENV", "--target=test", "-otype=local,dest=out", "--no-cache", "--progress", "plain", "."],
      { FROM_ENV: "env value" },
    );
    expect(f).toMatchObject({
      frontend: { contextDir: ".", dockerfilePath: "ci.Dockerfile", buildArgs: { A: "1", B: "x=y", FROM_ENV: "env value" }, target: "test" },
      exports: { outputs: [{ type: "local", dest: "out" }] },
      solve: { noCache: true },
      progress: "plain",
      dockerfileOnStdin: false,
    });
    expect(parseBuildFlags(["-q", "--no-cache=false", "dir"], {})).toMatchObject({ progress: "quiet", solve: { noCache: false }, frontend: { contextDir: "dir" } });
  });

  test("outputs: type=local, type=tar, and the shorthands", () => {
    expect(parseOutput("type=local,dest=out")).toEqual({ type: "local", dest: "out" });
    expect(parseOutput("type=tar,dest=-")).toEqual({ type: "tar", dest: "-" });
    expect(parseOutput("out")).toEqual({ type: "local", dest: "out" });
    expect(parseOutput("-")).toEqual({ type: "tar", dest: "-" });
    expect(() => parseOutput("type=local")).toThrow("has no dest");
    expect(() => parseOutput("type=bogus,dest=x.tar")).toThrow('unknown output type "bogus"');
  });

  test("usage errors have the E_USAGE code", () => {
    for (const argv of [[], ["a", "b"], ["--bogus", "."], ["--progress=fancy", "."], ["-f"]]) {
      let code: string | undefined;
      try {
        parseBuildFlags(argv, {});
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe("E_USAGE");
    }
  });

  test("every flag lands in its group of the request", () => {
    const f = parseBuildFlags(
      ["-f-", "--no-cache-filter", "a,b", "--insecure-registry", "r:5000", "--label", "k=v", "--iidfile", "id", "--metadata-file", "m.json", "--max-parallelism", "3", "--debug-cache", "-t", "x/y", "--push", "ctx"],
      {},
    );
    expect(f).toMatchObject({
      frontend: { contextDir: "ctx", dockerfilePath: undefined, dockerfileText: undefined, noCacheFilter: ["a", "b"] },
      exports: { labels: { k: "v" }, iidFile: "id", metadataFile: "m.json", outputs: [{ type: "image", push: true, names: ["x/y"] }] },
      cacheImports: [],
      cacheExports: [],
      solve: { noCache: false, maxParallelism: 3, debugCache: true },
      registry: { insecureRegistries: ["r:5000"] },
      dockerfileOnStdin: true,
    });
  });
});

describe("--secret, --ssh and --allow", () => {
  test("secrets as buildx reads them", () => {
    expect(parseSecret("id=a,src=/path/file")).toEqual({ id: "a", file: "/path/file" });
    expect(parseSecret("id=a,source=/p")).toEqual({ id: "a", file: "/p" });
    expect(parseSecret("id=tok,env=MY_TOKEN")).toEqual({ id: "tok", env: "MY_TOKEN" });
    expect(parseSecret("type=env,id=tok,src=MY_TOKEN")).toEqual({ id: "tok", env: "MY_TOKEN" });
    expect(parseSecret("id=only")).toEqual({ id: "only" });
    expect(() => parseSecret("src=/x")).toThrow("has no id");
    expect(() => parseSecret("id=a,type=ftp")).toThrow('unsupported --secret type "ftp"');
    expect(() => parseSecret("id=a,bogus")).toThrow("fields are key=value pairs");
  });

  test("ssh agents and entitlements", () => {
    expect(parseSsh("default")).toEqual({ id: "default", paths: [] });
    expect(parseSsh("git=/run/agent.sock")).toEqual({ id: "git", paths: ["/run/agent.sock"] });
    expect(parseSsh("keys=/a/id_ed25519,/b/id_rsa")).toEqual({ id: "keys", paths: ["/a/id_ed25519", "/b/id_rsa"] });
    const f = parseBuildFlags(["--secret", "id=a,src=f", "--ssh", "default", "--allow", "security.insecure,network.host", "."], {});
    expect(f.session).toEqual({ secrets: [{ id: "a", file: "f" }], ssh: [{ id: "default", paths: [] }], allow: ["security.insecure", "network.host"] });
    expect(() => parseBuildFlags(["--allow", "device", "."], {})).toThrow('unknown entitlement "device"');
  });
});
