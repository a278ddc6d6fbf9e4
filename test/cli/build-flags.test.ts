// `kitbuild build` flags, parsed as docker buildx parses them.
import { describe, expect, test } from "bun:test";
import { helpArgs } from "../../src/cli/build-flag-table.ts";
import { parseBuildFlags, parseDebugFlags } from "../../src/cli/build-flags.ts";
import { parseExtraHost, parseSecret, parseShmSize, parseSsh, parseUlimit } from "../../src/cli/run-flags.ts";
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

describe("the image store's flags", () => {
  test("-t alone (or -q alone) writes an image kept in the store; with another output, -t names only image outputs", () => {
    expect(parseBuildFlags(["-t", "base", "."], {}).exports.outputs).toEqual([expect.objectContaining({ type: "image", push: false, names: ["base"] })]);
    const quiet = parseBuildFlags(["-q", "."], {});
    expect(quiet.exports.outputs).toEqual([expect.objectContaining({ type: "image", push: false, names: [] })]);
    expect(quiet.printImageId).toBe(true);
    expect(parseBuildFlags(["-t", "base", "-o", "out", "."], {}).exports.outputs).toEqual([{ type: "local", dest: "out" }]);
    expect(parseBuildFlags(["."], {}).exports.outputs).toEqual([]);
    expect(parseBuildFlags(["--progress=quiet", "."], {}).printImageId).toBe(false);
  });

  test("--pull asks the frontend to resolve in the registry", () => {
    expect(parseBuildFlags(["--pull", "."], {}).frontend.pull).toBe(true);
    expect(parseBuildFlags(["."], {}).frontend.pull).toBeUndefined();
    expect(parseBuildFlags(["--pull=false", "."], {}).frontend.pull).toBeUndefined();
  });
});

describe("parseDebugFlags", () => {
  test("takes the conversion's flags, and --format for debug llb", () => {
    const f = parseDebugFlags("debug llb", ["--format=dot", "-f", "x.Dockerfile", "--build-arg", "A=1", "--target", "t", "--no-cache-filter", "s", "--insecure-registry", "r", "."], {});
    expect(f).toEqual({
      frontend: { contextDir: ".", dockerfilePath: "x.Dockerfile", dockerfileText: undefined, buildArgs: { A: "1" }, target: "t", noCacheFilter: ["s"] },
      registry: { insecureRegistries: ["r"] },
      format: "dot",
      dockerfileOnStdin: false,
    });
    expect(parseDebugFlags("debug image-config", ["."], {}).format).toBe("json");
  });

  test("refuses a flag it does not take instead of ignoring it", () => {
    const cases: [Parameters<typeof parseDebugFlags>[0], string[], string][] = [
      ["debug llb", ["--push", "."], "unknown flag: --push"],
      ["debug llb", ["-t", "x", "."], "unknown shorthand flag: 't' in -t"],
      ["debug image-config", ["--format", "dot", "."], "unknown flag: --format"],
      ["debug image-config", ["--no-cache", "."], "unknown flag: --no-cache"],
      ["debug llb", ["--format", "svg", "."], 'invalid --format "svg"'],
    ];
    for (const [command, argv, message] of cases) {
      let err: { code?: string; message?: string; hint?: string } | undefined;
      try {
        parseDebugFlags(command, argv, {});
      } catch (e) {
        err = e as typeof err;
      }
      expect(err).toMatchObject({ code: "E_USAGE", message });
    }
  });
});

describe("the flag table", () => {
  test("--help lists what each command parses", () => {
    // --network, --add-host, --ulimit, --shm-size and --platform change the graph, so a conversion without solving reads them too.
    const convert = ["context", "file", "build-arg", "build-context", "target", "no-cache-filter", "insecure-registry", "network", "add-host", "ulimit", "shm-size", "platform"];
    expect(Object.keys(helpArgs("debug image-config"))).toEqual(convert);
    expect(Object.keys(helpArgs("debug llb"))).toEqual([...convert, "format"]);
    const build = helpArgs("build");
    expect(build.file).toMatchObject({ type: "string", alias: "f" });
    expect(build.quiet).toMatchObject({ type: "boolean", alias: "q" });
    expect(build.platform).toMatchObject({ type: "string" });
    expect(build["cache-from"]).toMatchObject({ type: "string" });
    expect(build["cache-to"]).toMatchObject({ type: "string" });
    expect(build.check).toMatchObject({ type: "boolean" });
    expect(build.call).toMatchObject({ type: "string" });
    expect(build.provenance).toMatchObject({ type: "string" });
    expect(build.sbom).toMatchObject({ type: "string" });
    expect(build.attest).toMatchObject({ type: "string" });
    expect(build.annotation).toMatchObject({ type: "string" });
    expect(build.pull).toMatchObject({ type: "boolean" });
    expect(Object.keys(build)).toHaveLength(36);
  });
});

describe("--call and --check (buildx's ParseCallFunc)", () => {
  const call = (...argv: string[]) => parseBuildFlags([...argv, "."], {}).call;
  test("NAME[,format=json][,ignorestatus=true]; check and lint are one; build is no call", () => {
    expect(call("--check")).toEqual({ name: "check", format: "text", ignoreStatus: false });
    expect(call("--call=lint")).toEqual({ name: "check", format: "text", ignoreStatus: false });
    expect(call("--call", "outline,format=json")).toEqual({ name: "outline", format: "json", ignoreStatus: false });
    expect(call("--call=check,ignorestatus=true")).toEqual({ name: "check", format: "text", ignoreStatus: true });
    expect(call("--call=build")).toBeUndefined();
    expect(call()).toBeUndefined();
  });
  test("anything else is a usage error", () => {
    expect(() => call("--call=describe")).toThrow('unsupported --call "describe"');
    expect(() => call("--call=outline,format=yaml")).toThrow('invalid --call format "yaml"');
    expect(() => call("--call=outline,targets")).toThrow("invalid print value: outline,targets");
    expect(() => call("--call=outline,color=1")).toThrow("invalid print field: color=1");
  });
});

describe("--cache-from and --cache-to", () => {
  test("as buildx reads them: a plain reference is a registry cache; CSV attributes otherwise", () => {
    const flags = parseBuildFlags(["--cache-from", "reg/app:cache", "--cache-from", "type=local,src=/c,tag=v1", "--cache-to", "type=registry,ref=reg/app:cache,mode=max", "."], {});
    expect(flags.cacheImports).toEqual([{ type: "registry", attrs: { ref: "reg/app:cache" } }, { type: "local", attrs: { src: "/c", tag: "v1" } }]);
    expect(flags.cacheExports).toEqual([{ type: "registry", attrs: { ref: "reg/app:cache", mode: "max" } }]);
    expect(() => parseBuildFlags(["--cache-to", "type=s3,bucket=b", "."], {})).toThrow("type=s3 is not supported yet");
    const inline = parseBuildFlags(["--build-arg", "BUILDKIT_INLINE_CACHE=1", "--build-arg", "A=b", "."], {});
    expect(inline.cacheExports).toEqual([{ type: "inline", attrs: {} }]);
    expect(inline.frontend.buildArgs).toEqual({ A: "b" });
    expect(() => parseBuildFlags(["--cache-from", "type=inline", "."], {})).toThrow("name the image itself");
    expect(() => parseBuildFlags(["--cache-from", "type=registry,ref=r,mode=max", "."], {})).toThrow('unknown attribute "mode"');
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

  test("--network and --add-host as buildx reads them", () => {
    const f = parseBuildFlags(["--network", "none", "--add-host", "a.example:192.0.2.1", "--add-host", "b.example=[2001:db8::2]", "."], {});
    expect(f.frontend.forceNetwork).toBe("none");
    expect(f.frontend.extraHosts).toEqual([{ host: "a.example", ip: "192.0.2.1" }, { host: "b.example", ip: "2001:db8::2" }]);
    expect(parseBuildFlags(["--network=default", "."], {}).frontend.forceNetwork).toBeUndefined();
    expect(() => parseBuildFlags(["--network", "bridge", "."], {})).toThrow('network mode "bridge" is not supported');
    expect(parseExtraHost("gw:host-gateway").ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(parseExtraHost("gw:host-gateway").ip.startsWith("127.")).toBe(false);
    for (const bad of ["nohost", "=1.2.3.4", "a:b:c", "name:300.1.1.1"]) expect(() => parseExtraHost(bad)).toThrow(`invalid --add-host "${bad}"`);
  });
});

describe("issue 17: --ulimit, --shm-size, --progress=none", () => {
  test("--ulimit TYPE=SOFT[:HARD] as docker reads it; a repeated TYPE replaces the earlier one", () => {
    expect(parseUlimit("nofile=512:4096")).toEqual({ name: "nofile", soft: 512, hard: 4096 });
    expect(parseUlimit("nproc=300")).toEqual({ name: "nproc", soft: 300, hard: 300 });
    expect(parseUlimit("core=-1")).toEqual({ name: "core", soft: -1, hard: -1 });
    expect(parseUlimit("stack=100:-1")).toEqual({ name: "stack", soft: 100, hard: -1 });
    expect(() => parseUlimit("nofile=-1:10")).toThrow("ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 10");
    expect(() => parseUlimit("nofile=11:10")).toThrow("ulimit soft limit must be less than or equal to hard limit: 11 > 10");
    expect(() => parseUlimit("files=1")).toThrow("invalid ulimit type: files");
    const f = parseBuildFlags(["--ulimit", "nofile=1", "--ulimit", "nproc=2", "--ulimit=nofile=3:4", "."], {});
    expect(f.frontend.ulimits).toEqual([{ name: "nofile", soft: 3, hard: 4 }, { name: "nproc", soft: 2, hard: 2 }]);
    expect(parseBuildFlags(["."], {}).frontend.ulimits).toBeUndefined();
  });

  test("--shm-size takes docker's sizes (powers of 1024); 0 keeps the default", () => {
    expect(parseShmSize("128m")).toBe(128 * 1024 * 1024);
    expect(parseShmSize("1g")).toBe(1024 ** 3);
    expect(parseShmSize("1.5GB")).toBe(1.5 * 1024 ** 3);
    expect(parseShmSize("2048")).toBe(2048);
    expect(parseShmSize("64 MiB")).toBe(64 * 1024 * 1024);
    expect(parseShmSize("0")).toBeUndefined();
    expect(() => parseShmSize("-1m")).toThrow('invalid --shm-size "-1m"');
    expect(() => parseShmSize("10ib")).toThrow('invalid --shm-size "10ib"');
    expect(parseBuildFlags(["--shm-size", "1g", "."], {}).frontend.shmSize).toBe(1024 ** 3);
  });

  test("--progress=none is accepted, and the new flags are in build's --help", () => {
    expect(parseBuildFlags(["--progress=none", "."], {}).progress).toBe("none");
    // buildx: -q is quiet mode, which only auto, quiet and none agree with.
    for (const p of ["auto", "quiet", "none"]) expect(parseBuildFlags(["-q", `--progress=${p}`, "."], {}).progress).toBe("quiet");
    expect(() => parseBuildFlags(["-q", "--progress=plain", "."], {})).toThrow("progress=plain and quiet cannot be used together");
    const help = helpArgs("build");
    for (const name of ["ulimit", "shm-size", "progress"]) expect(help[name]).toBeDefined();
    expect(String(help.progress?.description)).toContain("none");
  });
});

describe("issue 18: --platform", () => {
  test("comma-separated and repeatable, normalized as containerd's, duplicates dropped, local the host's", () => {
    const parse = (...values: string[]) => parseBuildFlags(["--platform", ...values.flatMap((v, i) => (i === 0 ? [v] : ["--platform", v])), "."], {}).frontend.platforms;
    expect(parse("linux/amd64,linux/arm64")).toEqual([{ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "arm64" }]);
    expect(parse("linux/aarch64", "linux/arm64/v8", "LINUX/x86_64")).toEqual([{ os: "linux", architecture: "arm64" }, { os: "linux", architecture: "amd64" }]);
    expect(parse("linux/armhf", "linux/arm", "linux/arm/6", "linux/armel")).toEqual([{ os: "linux", architecture: "arm", variant: "v7" }, { os: "linux", architecture: "arm", variant: "v6" }]);
    expect(parse("linux/i386", "riscv64", "linux/ppc64le,linux/s390x")).toEqual([
      { os: "linux", architecture: "386" }, { os: "linux", architecture: "riscv64" }, { os: "linux", architecture: "ppc64le" }, { os: "linux", architecture: "s390x" },
    ]);
    const host = parse("local");
    expect(host).toHaveLength(1);
    expect(host?.[0]?.os).toBe("linux");
    expect(host?.[0]?.variant).toBeUndefined();
    expect(parseBuildFlags(["."], {}).frontend.platforms).toBeUndefined();
  });

  test("bad values and --load of several platforms are usage errors", () => {
    for (const bad of ["linux/", "/amd64", "foo", "linux/arm64/v8/x", "linux/a b"]) {
      expect(() => parseBuildFlags(["--platform", bad, "."], {})).toThrow(`invalid platform "${bad}"`);
    }
    expect(() => parseBuildFlags(["--platform", "linux/amd64,linux/arm64", "--load", "."], {})).toThrow("docker exporter does not currently support exporting manifest lists");
    expect(parseBuildFlags(["--platform", "linux/arm64", "--load", "."], {}).frontend.platforms).toHaveLength(1);
  });
});
