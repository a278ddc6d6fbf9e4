// --call=outline and --call=targets on BuildKit's own test Dockerfiles
// (frontend/dockerfile/dockerfile_outline_test.go, dockerfile_targets_test.go), the `# syntax=`
// check, and the text buildx prints for them (subrequests/outline, targets and lint printers).
import { describe, expect, test } from "bun:test";
import { buildWarningsText, checkText, outlineText, sourceFrame, tabwrite, targetsJson, targetsText } from "../../src/cli/call-output.ts";
import { lintDockerfile } from "../../src/frontend/dockerfile/lint/lint.ts";
import { listTargets, outlineOf } from "../../src/frontend/dockerfile/outline.ts";
import { checkSyntax } from "../../src/frontend/dockerfile/syntax.ts";
import { KitError } from "../../src/util/errors.ts";

const amd64 = { os: "linux", architecture: "amd64" };

describe("outline (BuildKit's testOutlineArgs, testOutlineSecrets, testOutlineRecursiveArgs)", () => {
  test("args a target uses, through its base and COPY --from stages, with values and doc comments, by line", () => {
    const df = `
ARG inherited=box
ARG inherited2=box2
ARG unused=abc\${inherited2}
# sfx is a suffix
ARG sfx="usy\${inherited}"

FROM b\${sfx} AS first
# this is not assigned to anything
ARG FOO=123
# BAR is a number
ARG BAR=456
RUN true

FROM alpine\${unused} AS second
ARG BAZ
RUN true

FROM scratch AS third
ARG ABC=a
# check=skip=all
ARG password
# alternate_password will show up in the outline
# check=skip=all
ARG alternate_password

# target defines build target
FROM third AS target
COPY --from=first /etc/passwd /

FROM second
`;
    const o = outlineOf(df, { BAR: "678" }, "target", amd64);
    expect(o.name).toBe("target");
    expect(o.description).toBe("defines build target");
    expect(o.args.map((a) => [a.name, a.value, a.description, a.location.startLine])).toEqual([
      ["inherited", "box", "", 2],
      ["sfx", "usybox", "is a suffix", 6],
      ["FOO", "123", "", 10],
      ["BAR", "678", "is a number", 12],
      ["ABC", "a", "", 20],
      ["password", "", "", 22],
      ["alternate_password", "", "will show up in the outline", 25],
    ]);
    // The same file's check: "# check=skip=all" above `ARG password` silences SecretsUsedInArgOrEnv there.
    const checks = lintDockerfile({ allStages: true, source: df, buildArgs: {}, excludePatterns: [], platform: amd64, target: undefined, baseImage: () => undefined });
    expect(checks.warnings.filter((w) => w.name === "SecretsUsedInArgOrEnv")).toEqual([]);
  });

  test("secrets and ssh of the target and its dependencies only, ids expanded, required flags", () => {
    const df = `
FROM busybox AS first
RUN --mount=type=secret,target=/etc/passwd,required=true --mount=type=ssh true
FROM alpine AS second
RUN --mount=type=secret,id=unused --mount=type=ssh,id=ssh2 true
FROM scratch AS third
ARG BAR
RUN --mount=type=secret,id=second\${BAR} true
FROM third AS target
COPY --from=first /foo /
RUN --mount=type=ssh,id=ssh3,required true
FROM second
`;
    const o = outlineOf(df, { BAR: "678" }, "target", amd64);
    expect(o.secrets.map((s) => [s.name, s.required, s.location.startLine])).toEqual([["passwd", true, 3], ["second678", false, 8]]);
    expect(o.ssh.map((s) => [s.name, s.required, s.location.startLine])).toEqual([["default", false, 3], ["ssh3", true, 11]]);
    expect(outlineText(o)).toBe(
      "TARGET: target\n\nBUILD ARG   VALUE   DESCRIPTION\nBAR         678     \n\nSECRET      REQUIRED\npasswd      true\nsecond678   \n\nSSH       REQUIRED\ndefault   \nssh3      true\n\n",
    );
  });

  test("global args that reference each other are all listed, with their final values", () => {
    const df = "\nARG FOO=123\nARG ABC=abc\nARG DEF=def\nARG FOO=${FOO}${ABC}\nARG BAR=${FOO}456\nARG FOO=${FOO}456${BAR}\nFROM scratch\nARG FOO\nARG INFOO=123\nARG INBAR=${INFOO}456\nARG INFOO=${INFOO}456${INBAR}\n";
    const o = outlineOf(df, {}, undefined, amd64);
    expect(o.args.map((a) => [a.name, a.value])).toEqual([
      ["ABC", "abc"], ["BAR", "123abc456"], ["FOO", "123abc456123abc456"], ["INBAR", "123456"], ["INFOO", "123456123456"],
    ]);
  });

  test("an unknown --target is an error", () => {
    expect(() => outlineOf("FROM scratch AS a\n", {}, "nope", amd64)).toThrow('target stage "nope" could not be found');
  });
});

describe("targets (BuildKit's testTargetsList)", () => {
  const df = "\n# build defines stage for compiling the binary\nFROM alpine AS build\nRUN true\n\nFROM busybox as second\nRUN false\n\nFROM alpine\nRUN false\n\n# binary returns the compiled binary\nFROM second AS binary\n";
  test("every stage with its description, base, line and the default one", () => {
    expect(listTargets(df).map((t) => [t.name, t.base, t.description, t.default, t.location.startLine])).toEqual([
      ["build", "alpine", "defines stage for compiling the binary", false, 3],
      ["second", "busybox", "", false, 6],
      ["", "alpine", "", false, 9],
      ["binary", "second", "returns the compiled binary", true, 13],
    ]);
  });
  test("printed as buildx's targets printer (tabwriter, padding 1) and as JSON", () => {
    expect(targetsText(listTargets(df))).toBe(
      "TARGET           DESCRIPTION\nbuild            defines stage for compiling the binary\nsecond           \n                 \nbinary (default) returns the compiled binary\n",
    );
    const json = JSON.parse(targetsJson(listTargets(df), { name: "Dockerfile", text: df }));
    expect(json.targets[3]).toEqual({ name: "binary", default: true, description: "returns the compiled binary", base: "second", location: { ranges: [{ start: { line: 13 }, end: { line: 13 } }] } });
    expect(Buffer.from(json.sources[0], "base64").toString()).toBe(df);
  });
});

describe("printing", () => {
  test("tabwriter pads each tab-ended cell to its column's widest plus the padding", () => {
    expect(tabwrite([["a", "bb", "c"], ["ccc", "", "d"]], 3)).toBe("a     bb   c\nccc        d\n");
  });
  test("a finding's code frame as BuildKit's errdefs.Source.Print (4 lines of context around one line)", () => {
    const text = "FROM alpine\nRUN a\nRUN b\nENTRYPOINT x\nRUN c\nRUN d\nRUN e\n";
    expect(sourceFrame({ name: "Dockerfile", text }, { startLine: 4, endLine: 4 })).toBe(
      "Dockerfile:4\n--------------------\n   2 |     RUN a\n   3 |     RUN b\n   4 | >>> ENTRYPOINT x\n   5 |     RUN c\n   6 |     RUN d\n--------------------\n",
    );
  });
  test("--check with no findings, and a build's warning list", () => {
    expect(checkText([], { name: "Dockerfile", text: "" })).toBe("Check complete, no warnings found.\n");
    const src = { name: "Dockerfile", text: "FROM alpine AS A\nMAINTAINER x\n" };
    const r = lintDockerfile({ allStages: true, source: src.text, buildArgs: {}, excludePatterns: [], platform: amd64, target: undefined, baseImage: () => undefined });
    expect(buildWarningsText(r.warnings, src, false)).toBe(
      "\n 2 warnings found (use docker --debug to expand):\n - StageNameCasing: Stage name 'A' should be lowercase (line 1)\n - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)\n",
    );
  });
});

describe("# syntax= (only the built-in frontend)", () => {
  const refused = (source: string, args: Record<string, string> = {}) => {
    try {
      checkSyntax(source, "Dockerfile", args);
      return undefined;
    } catch (e) {
      return e as KitError;
    }
  };
  test("docker/dockerfile 1.x tags, labs tags and digests are accepted silently", () => {
    for (const v of ["docker/dockerfile:1", "docker/dockerfile:1.7", "docker/dockerfile:1.7.1", "docker/dockerfile:1-labs", "docker.io/docker/dockerfile:1.4-labs", `docker/dockerfile:1@sha256:${"a".repeat(64)}`, `docker/dockerfile@sha256:${"b".repeat(64)}`, "docker/dockerfile"]) {
      expect(refused(`# syntax=${v}\nFROM scratch\n`)).toBeUndefined();
    }
  });
  test("any other frontend image is an error naming it, at the directive's line", () => {
    const e = refused("# escape=`\n# syntax=example.com/frontends/toml:2\nFROM scratch\n");
    expect(e).toBeInstanceOf(KitError);
    expect(e?.message).toBe('unsupported frontend "example.com/frontends/toml:2": only the built-in Dockerfile frontend (docker/dockerfile:1) is supported');
    expect(e?.location?.startLine).toBe(2);
    expect(refused("# syntax=docker/dockerfile:0.9\nFROM scratch\n")?.code).toBe("E_DOCKERFILE_FRONTEND_UNSUPPORTED");
  });
  test("BUILDKIT_SYNTAX build arg wins over the directive (BuildKit's dockerui)", () => {
    expect(refused("# syntax=other/frontend\nFROM scratch\n", { BUILDKIT_SYNTAX: "docker/dockerfile:1" })).toBeUndefined();
    expect(refused("FROM scratch\n", { BUILDKIT_SYNTAX: "tonistiigi/frontend" })?.message).toContain('"tonistiigi/frontend"');
  });
  test("a # syntax= line after an instruction is a comment", () => {
    expect(refused("FROM scratch\n# syntax=example.com/x\n")).toBeUndefined();
  });
});

test("outline: an ARG default reads the variables of the stage it is built on", () => {
  const o = outlineOf("FROM scratch AS base\nENV ROOT=/srv\nFROM base\nARG DIR=$ROOT/app\n", {}, undefined, { os: "linux", architecture: "amd64" });
  expect(o.args.map((a) => [a.name, a.value])).toEqual([["DIR", "/srv/app"]]);
});
