// BuildKit's build-check rules (frontend/dockerfile/linter): each rule's name, description,
// documentation address and message, so `--check` output reads as BuildKit's does.
import { goQuote } from "../parser/node.ts";

export type RuleName =
  | "StageNameCasing" | "FromAsCasing" | "NoEmptyContinuation" | "ConsistentInstructionCasing" | "DuplicateStageName"
  | "ReservedStageName" | "JSONArgsRecommended" | "MaintainerDeprecated" | "UndefinedArgInFrom" | "WorkdirRelativePath"
  | "UndefinedVar" | "MultipleInstructionsDisallowed" | "LegacyKeyValueFormat" | "InvalidBaseImagePlatform"
  | "RedundantTargetPlatform" | "SecretsUsedInArgOrEnv" | "InvalidDefaultArgInFrom" | "FromPlatformFlagConstDisallowed"
  | "CopyIgnoredFile" | "ExposeProtoCasing" | "ExposeInvalidFormat";

export type Rule = { name: RuleName; description: string; url: string | undefined };

const DOCS = "https://docs.docker.com/go/dockerfile/rule/";

/** The documentation address: the rule's name in kebab case (JSONArgs… is json-args-…). */
function urlOf(name: string): string {
  const kebab = name.replace(/^JSON/, "Json").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  return `${DOCS}${kebab}/`;
}

const DESCRIPTIONS: Record<RuleName, string> = {
  StageNameCasing: "Stage names should be lowercase",
  FromAsCasing: "The 'as' keyword should match the case of the 'from' keyword",
  NoEmptyContinuation: "Empty continuation lines will become errors in a future release",
  ConsistentInstructionCasing: "All commands within the Dockerfile should use the same casing (either upper or lower)",
  DuplicateStageName: "Stage names should be unique",
  ReservedStageName: "Reserved words should not be used as stage names",
  JSONArgsRecommended: "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
  MaintainerDeprecated: "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
  UndefinedArgInFrom: "FROM command must use declared ARGs",
  WorkdirRelativePath: "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
  UndefinedVar: "Variables should be defined before their use",
  MultipleInstructionsDisallowed: "Multiple instructions of the same type should not be used in the same stage",
  LegacyKeyValueFormat: "Legacy key/value format with whitespace separator should not be used",
  InvalidBaseImagePlatform: "Base image platform does not match expected target platform",
  RedundantTargetPlatform: "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
  SecretsUsedInArgOrEnv: "Sensitive data should not be used in the ARG or ENV commands",
  InvalidDefaultArgInFrom: "Default value for global ARG results in an empty or invalid base image name",
  FromPlatformFlagConstDisallowed: "FROM --platform flag should not use a constant value",
  CopyIgnoredFile: "Attempting to Copy file that is excluded by .dockerignore",
  ExposeProtoCasing: "Protocol in EXPOSE instruction should be lowercase",
  ExposeInvalidFormat: "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
};

export const RULE_NAMES = Object.keys(DESCRIPTIONS) as RuleName[];

export function ruleOf(name: RuleName): Rule {
  // BuildKit's InvalidBaseImagePlatform has no documentation page.
  return { name, description: DESCRIPTIONS[name], url: name === "InvalidBaseImagePlatform" ? undefined : urlOf(name) };
}

/** Each rule's message, worded as BuildKit's. */
export const MESSAGES = {
  StageNameCasing: (stage: string) => `Stage name '${stage}' should be lowercase`,
  FromAsCasing: (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`,
  NoEmptyContinuation: () => "Empty continuation line",
  ConsistentInstructionCasing: (cmd: string, casing: string) => `Command '${cmd}' should match the case of the command majority (${casing})`,
  DuplicateStageName: (stage: string) => `Duplicate stage name ${goQuote(stage)}, stage names should be unique`,
  ReservedStageName: (stage: string) => `Stage name should not use the same name as reserved stage ${goQuote(stage)}`,
  JSONArgsRecommended: (cmd: string) => `JSON arguments recommended for ${cmd} to prevent unintended behavior related to OS signals`,
  MaintainerDeprecated: () => "Maintainer instruction is deprecated in favor of using label",
  UndefinedArgInFrom: (arg: string, suggest: string | undefined) => `FROM argument '${arg}' is not declared${suggest ? ` (did you mean ${suggest}?)` : ""}`,
  WorkdirRelativePath: (dir: string) => `Relative workdir ${goQuote(dir)} can have unexpected results if the base image changes`,
  UndefinedVar: (name: string, suggest: string | undefined) => `Usage of undefined variable '$${name}'${suggest ? ` (did you mean $${suggest}?)` : ""}`,
  MultipleInstructionsDisallowed: (cmd: string) => `Multiple ${cmd} instructions should not be used in the same stage because only the last one will be used`,
  LegacyKeyValueFormat: (cmd: string) => `"${cmd} key=value" should be used instead of legacy "${cmd} key value" format`,
  InvalidBaseImagePlatform: (image: string, expected: string, actual: string) => `Base image ${image} was pulled with platform ${goQuote(actual)}, expected ${goQuote(expected)} for current build`,
  RedundantTargetPlatform: (value: string) => `Setting platform to predefined ${value} in FROM is redundant as this is the default behavior`,
  SecretsUsedInArgOrEnv: (instr: string, key: string) => `Do not use ARG or ENV instructions for sensitive data (${instr} ${goQuote(key)})`,
  InvalidDefaultArgInFrom: (base: string) => `Default value for ARG ${base} results in empty or invalid base image name`,
  FromPlatformFlagConstDisallowed: (platform: string) => `FROM --platform flag should not use constant value ${goQuote(platform)}`,
  CopyIgnoredFile: (cmd: string, file: string) => `Attempting to ${cmd} file ${goQuote(file)} that is excluded by .dockerignore`,
  ExposeProtoCasing: (port: string) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
  ExposeInvalidFormat: (port: string) => `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
} satisfies Record<RuleName, (...args: never[]) => string>;
