// The build checks on BuildKit's documented examples (frontend/dockerfile/docs/rules/<rule>.md):
// each "bad" example gives the rule's message at BuildKit's line, each "good" one does not fire it.
import { describe, expect, test } from "bun:test";
import { type BaseImageInfo, lintDockerfile } from "../../src/frontend/dockerfile/lint/lint.ts";
import { shortText } from "../../src/frontend/dockerfile/lint/report.ts";
import { RULE_NAMES } from "../../src/frontend/dockerfile/lint/rules.ts";

const amd64 = { os: "linux", architecture: "amd64" };
const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// What the examples' base images declare (from their image configs): the linter is given a
// resolved image's variables; the e2e test (test/e2e/checks.test.ts) resolves real ones.
const IMAGES: Record<string, BaseImageInfo> = {
  alpine: { env: [PATH], shell: false, platform: amd64 },
  python: { env: [PATH, "PYTHON_VERSION=3.13.0"], shell: false, platform: amd64 },
};

type Opts = { ignore?: string[]; buildArgs?: Record<string, string> };

function lint(source: string, o: Opts = {}) {
  return lintDockerfile({
    allStages: true,
    source,
    buildArgs: o.buildArgs ?? {},
    excludePatterns: o.ignore ?? [],
    platform: amd64,
    target: undefined,
    baseImage: (name) => IMAGES[name.split(":")[0] as string] ?? { env: [PATH], shell: false, platform: amd64 },
  });
}
const shorts = (source: string, o?: Opts) => lint(source, o).warnings.map(shortText);
const rulesOf = (source: string, o?: Opts) => lint(source, o).warnings.map((w) => w.name);

type Case = { bad: Array<[string, string[], Opts?]>; good: Array<[string, Opts?]> };

const CASES: Record<string, Case> = {
  ConsistentInstructionCasing: {
    bad: [["From alpine\nRun echo hello > /greeting.txt\nEntRYpOiNT [\"cat\", \"/greeting.txt\"]\n", [
      "ConsistentInstructionCasing: Command 'From' should match the case of the command majority (uppercase) (line 1)",
      "ConsistentInstructionCasing: Command 'Run' should match the case of the command majority (uppercase) (line 2)",
      "ConsistentInstructionCasing: Command 'EntRYpOiNT' should match the case of the command majority (uppercase) (line 3)",
    ]]],
    good: [["FROM alpine\nRUN echo hello > /greeting.txt\nENTRYPOINT [\"cat\", \"/greeting.txt\"]\n"], ["from alpine\nrun echo hello > /greeting.txt\nentrypoint [\"cat\", \"/greeting.txt\"]\n"]],
  },
  CopyIgnoredFile: {
    bad: [["FROM scratch\nCOPY ./tmp/helloworld.txt /helloworld.txt\n", ["CopyIgnoredFile: Attempting to Copy file \"tmp/helloworld.txt\" that is excluded by .dockerignore (line 2)"], { ignore: ["*/tmp/*", "tmp"] }]],
    good: [["FROM scratch\nCOPY ./forever/helloworld.txt /helloworld.txt\n", { ignore: ["*/tmp/*"] }]],
  },
  DuplicateStageName: {
    bad: [["FROM debian:latest AS builder\nRUN apt-get update; apt-get install -y curl\nFROM golang:latest AS builder\n", ["DuplicateStageName: Duplicate stage name \"builder\", stage names should be unique (line 3)"]]],
    good: [["FROM debian:latest AS deb-builder\nRUN apt-get update; apt-get install -y curl\nFROM golang:latest AS go-builder\n"]],
  },
  ExposeInvalidFormat: {
    bad: [
      ["FROM alpine\nEXPOSE 127.0.0.1:80:80\n", ["ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80' (line 2)"]],
      ["FROM alpine\nEXPOSE 80:80\n", ["ExposeInvalidFormat: EXPOSE instruction should not define an IP address or host-port mapping, found '80:80' (line 2)"]],
    ],
    good: [["FROM alpine\nEXPOSE 80\n"]],
  },
  ExposeProtoCasing: {
    bad: [["FROM alpine\nEXPOSE 80/TcP\n", ["ExposeProtoCasing: Defined protocol '80/TcP' in EXPOSE instruction should be lowercase (line 2)"]]],
    good: [["FROM alpine\nEXPOSE 80/tcp\n"]],
  },
  FromAsCasing: {
    bad: [["FROM debian:latest as builder\n", ["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]]],
    good: [["FROM debian:latest AS deb-builder\n"], ["from debian:latest as deb-builder\n"]],
  },
  FromPlatformFlagConstDisallowed: {
    bad: [["FROM --platform=linux/amd64 alpine AS base\nRUN apk add --no-cache git\n", ["FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value \"linux/amd64\" (line 1)"]]],
    good: [
      ["FROM alpine AS base\nRUN apk add --no-cache git\n"],
      ["FROM --platform=${BUILDPLATFORM} alpine AS base\nRUN apk add --no-cache git\n"],
      ["FROM --platform=linux/amd64 alpine AS build_amd64\nFROM --platform=linux/arm64 alpine AS build_arm64\nFROM build_${TARGETARCH} AS build\n"],
    ],
  },
  InvalidDefaultArgInFrom: {
    bad: [["ARG TAG\nFROM busybox:${TAG}\n", ["InvalidDefaultArgInFrom: Default value for ARG busybox:${TAG} results in empty or invalid base image name (line 2)"]]],
    good: [["ARG TAG=latest\nFROM busybox:${TAG}\n"], ["ARG VARIANT\nFROM busybox:stable${VARIANT}\n"], ["ARG TAG\nFROM alpine:${TAG:-3.14}\n"]],
  },
  JSONArgsRecommended: {
    bad: [["FROM alpine\nENTRYPOINT my-program start\n", ["JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals (line 2)"]]],
    good: [
      ["FROM alpine\nENTRYPOINT [\"my-program\", \"start\"]\n"],
      ["FROM alpine\nRUN apk add bash\nCOPY --chmod=755 <<EOT /entrypoint.sh\n#!/usr/bin/env bash\nmy-program start\nEOT\nENTRYPOINT [\"/entrypoint.sh\"]\n"],
      ["FROM alpine\nRUN apk add bash\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT echo \"hello world\"\n"],
    ],
  },
  LegacyKeyValueFormat: {
    bad: [["FROM alpine\nENV DEPS \\\n    curl \\\n    git \\\n    make\n", ["LegacyKeyValueFormat: \"ENV key=value\" should be used instead of legacy \"ENV key value\" format (line 2)"]]],
    good: [["FROM alpine\nARG foo=bar\n"], ["FROM alpine\nENV DEPS=\"\\\n    curl \\\n    git \\\n    make\"\n"]],
  },
  MaintainerDeprecated: {
    bad: [["FROM alpine\nMAINTAINER moby@example.com\n", ["MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)"]]],
    good: [["FROM alpine\nLABEL org.opencontainers.image.authors=\"moby@example.com\"\n"]],
  },
  MultipleInstructionsDisallowed: {
    bad: [["FROM alpine\nENTRYPOINT [\"echo\", \"Hello, Norway!\"]\nENTRYPOINT [\"echo\", \"Hello, Sweden!\"]\n", ["MultipleInstructionsDisallowed: Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used (line 2)"]]],
    good: [
      ["FROM alpine\nENTRYPOINT [\"echo\", \"Hello, Norway!\\nHello, Sweden!\"]\n"],
      ["FROM python:alpine\nRUN apk add curl\nHEALTHCHECK --interval=1s --timeout=3s \\\n  CMD [\"curl\", \"-f\", \"http://localhost:8080\"]\nCMD [\"python\", \"-m\", \"http.server\", \"8080\"]\n"],
    ],
  },
  NoEmptyContinuation: {
    bad: [["FROM alpine\nEXPOSE \\\n\n80\n", ["NoEmptyContinuation: Empty continuation line (line 4)"]]],
    good: [["FROM alpine\nEXPOSE \\\n# Port\n80\n"]],
  },
  RedundantTargetPlatform: {
    bad: [["FROM --platform=$TARGETPLATFORM alpine AS builder\nRUN apk add --no-cache git\n", ["RedundantTargetPlatform: Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior (line 1)"]]],
    good: [["FROM alpine AS builder\nRUN apk add --no-cache git\n"]],
  },
  ReservedStageName: {
    bad: [["FROM alpine AS scratch\nFROM alpine AS context\n", [
      "ReservedStageName: Stage name should not use the same name as reserved stage \"scratch\" (line 1)",
      "ReservedStageName: Stage name should not use the same name as reserved stage \"context\" (line 2)",
    ]]],
    good: [["FROM alpine AS builder\n"]],
  },
  SecretsUsedInArgOrEnv: {
    bad: [["FROM alpine\nARG AWS_ACCESS_KEY_ID\nARG AWS_SECRET_ACCESS_KEY\nRUN aws s3 cp s3://my-bucket/file .\n", [
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_ACCESS_KEY_ID\") (line 2)",
      "SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for sensitive data (ARG \"AWS_SECRET_ACCESS_KEY\") (line 3)",
    ]]],
    good: [["FROM alpine\nARG PUBLIC_KEY\nENV TOKEN_FILE=/run/t\n"], ["FROM alpine\nRUN --mount=type=secret,id=aws_key_id,env=AWS_ACCESS_KEY_ID \\\n    --mount=type=secret,id=aws_secret_key,env=AWS_SECRET_ACCESS_KEY \\\n    aws s3 cp s3://my-bucket/file .\n"]],
  },
  StageNameCasing: {
    bad: [["FROM alpine AS BuilderBase\n", ["StageNameCasing: Stage name 'BuilderBase' should be lowercase (line 1)"]]],
    good: [["FROM alpine AS builder-base\n"]],
  },
  UndefinedArgInFrom: {
    bad: [["FROM node:22${VARIANT} AS jsbuilder\n", ["UndefinedArgInFrom: FROM argument 'VARIANT' is not declared (line 1)"]]],
    good: [["ARG VARIANT=\"-alpine3.20\"\nFROM node:22${VARIANT} AS jsbuilder\n"]],
  },
  UndefinedVar: {
    bad: [
      ["FROM alpine AS base\nCOPY $foo .\n", ["UndefinedVar: Usage of undefined variable '$foo' (line 2)"]],
      ["FROM alpine AS base\nARG VERSION=$foo\n", ["UndefinedVar: Usage of undefined variable '$foo' (line 2)"]],
      ["FROM alpine\nENV PATH=$PAHT:/app/bin\n", ["UndefinedVar: Usage of undefined variable '$PAHT' (did you mean $PATH?) (line 2)"]],
    ],
    good: [["FROM alpine AS base\nARG foo\nCOPY $foo .\n"], ["FROM python AS base\nARG VERSION=$PYTHON_VERSION\n"]],
  },
  WorkdirRelativePath: {
    bad: [["FROM nginx AS web\nWORKDIR usr/share/nginx/html\nCOPY public .\n", ["WorkdirRelativePath: Relative workdir \"usr/share/nginx/html\" can have unexpected results if the base image changes (line 2)"]]],
    good: [["FROM nginx AS web\nWORKDIR /usr/share/nginx/html\nCOPY public .\n"]],
  },
};

describe("build checks on BuildKit's documented examples", () => {
  for (const [rule, c] of Object.entries(CASES)) {
    test(`${rule} (docs/rules): bad examples warn, good ones do not`, () => {
      for (const [source, want, o] of c.bad) expect(shorts(source, o).filter((s) => s.startsWith(`${rule}:`))).toEqual(want);
      for (const [source, o] of c.good) expect(rulesOf(source, o)).not.toContain(rule);
    });
  }

  test("every rule but InvalidBaseImagePlatform (tested below) has documented examples here", () => {
    expect(Object.keys(CASES).sort()).toEqual(RULE_NAMES.filter((r) => r !== "InvalidBaseImagePlatform").sort());
  });

  test("InvalidBaseImagePlatform: an image resolved for another platform than the stage's", () => {
    const r = lintDockerfile({
    allStages: true,
      source: "FROM --platform=linux/arm64 alpine AS arm\n",
      buildArgs: {}, excludePatterns: [], platform: amd64, target: undefined,
      baseImage: () => ({ env: [PATH], shell: false, platform: amd64 }),
    });
    expect(r.warnings.map(shortText)).toContain("InvalidBaseImagePlatform: Base image alpine was pulled with platform \"linux/amd64\", expected \"linux/arm64\" for current build (line 1)");
    expect(r.warnings.find((w) => w.name === "InvalidBaseImagePlatform")?.url).toBeUndefined();
  });

  test("each rule's URL is docs.docker.com/go/dockerfile/rule/<kebab-name>/", () => {
    const w = lint("FROM alpine\nENTRYPOINT x\n").warnings[0];
    expect(w?.url).toBe("https://docs.docker.com/go/dockerfile/rule/json-args-recommended/");
    expect(lint("FROM alpine AS A\n").warnings[0]?.url).toBe("https://docs.docker.com/go/dockerfile/rule/stage-name-casing/");
  });
});

describe("check configuration (BuildKit's # check= directive)", () => {
  const bad = "FROM alpine AS Base\nMAINTAINER x\n";
  test("skip=RULE drops that rule; skip=all drops every rule", () => {
    expect(rulesOf(`# check=skip=StageNameCasing\n${bad}`)).toEqual(["MaintainerDeprecated"]);
    expect(rulesOf(`# check=skip=all\n${bad}`)).toEqual([]);
  });
  test("error=true makes a finding a failure naming the rules", () => {
    expect(lint(`# check=error=true\n${bad}`).failure).toMatch(/^lint violation found for rules: (StageNameCasing, MaintainerDeprecated|MaintainerDeprecated, StageNameCasing)$/);
    expect(lint(bad).failure).toBeUndefined();
  });
  test("BUILDKIT_DOCKERFILE_CHECK build arg wins over the directive", () => {
    const r = lint(`# check=skip=all\n${bad}`, { buildArgs: { BUILDKIT_DOCKERFILE_CHECK: "skip=MaintainerDeprecated;error=true" } });
    expect(r.warnings.map((w) => w.name)).toEqual(["StageNameCasing"]);
    expect(r.failure).toBe("lint violation found for rules: StageNameCasing");
  });
  test("a # check=skip= comment above one instruction silences only that instruction", () => {
    expect(shorts("FROM alpine\n# check=skip=MaintainerDeprecated\nMAINTAINER a\nMAINTAINER b\n")).toEqual([
      "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 4)",
    ]);
  });
  test("an unknown option is an error", () => {
    expect(() => lint("# check=bogus=1\nFROM alpine\n")).toThrow('failed to parse check options: invalid check option "bogus"');
  });
});

describe("which stages are checked (BuildKit: a check without a target covers every stage, a build the stages it needs)", () => {
  const source = "FROM alpine AS unused\nENTRYPOINT x\n\nFROM alpine AS base\nWORKDIR app\n\nFROM base\nCOPY --from=base /app /app\n";
  const run = (allStages: boolean, target?: string) =>
    lintDockerfile({ allStages, source, buildArgs: {}, excludePatterns: [], platform: amd64, target, baseImage: () => IMAGES.alpine }).warnings.map((w) => w.name);
  test("all stages", () => {
    expect(run(true)).toEqual(["JSONArgsRecommended", "WorkdirRelativePath"]);
  });
  test("the default target's stages only: an unused stage's instructions are not checked", () => {
    expect(run(false)).toEqual(["WorkdirRelativePath"]);
    expect(run(false, "unused")).toEqual(["JSONArgsRecommended"]);
  });
  test("stage-level rules cover every stage either way", () => {
    expect(lintDockerfile({ allStages: false, source: "FROM alpine AS Unused\nFROM alpine\n", buildArgs: {}, excludePatterns: [], platform: amd64, target: undefined, baseImage: () => IMAGES.alpine }).warnings.map((w) => w.name)).toEqual(["StageNameCasing"]);
  });
});

describe("UndefinedVar: the words BuildKit expands (its instructions' Expand methods)", () => {
  test("RUN --mount values, COPY --chown, ADD --checksum and expanding heredocs are judged; EXPOSE and shell-form RUN are not", () => {
    const df = "FROM alpine\nRUN --mount=type=cache,id=$CACHE_ID,target=/c echo $NOT_JUDGED\nCOPY --chown=$OWNER a /a\nADD --checksum=$SUM https://example.com/x /x\nEXPOSE $PORT\nCOPY <<EOT /f\n$IN_HEREDOC\nEOT\nCOPY <<'EOT' /g\n$QUOTED_HEREDOC\nEOT\n";
    expect(shorts(df)).toEqual([
      "UndefinedVar: Usage of undefined variable '$CACHE_ID' (line 2)",
      "UndefinedVar: Usage of undefined variable '$OWNER' (line 3)",
      "UndefinedVar: Usage of undefined variable '$SUM' (line 4)",
      "UndefinedVar: Usage of undefined variable '$IN_HEREDOC' (line 6)",
    ]);
  });
  test("a base image that was not resolved: its stage's variables are not judged", () => {
    const r = lintDockerfile({ allStages: true, source: "FROM alpine\nCOPY $foo .\n", buildArgs: {}, excludePatterns: [], platform: amd64, target: undefined, baseImage: () => undefined });
    expect(r.warnings).toEqual([]);
  });
  test("ENV values are expanded before any of the instruction's own keys are set (BuildKit)", () => {
    expect(shorts("FROM alpine\nENV A=1 B=$A\n")).toEqual(["UndefinedVar: Usage of undefined variable '$A' (line 2)"]);
  });
});

