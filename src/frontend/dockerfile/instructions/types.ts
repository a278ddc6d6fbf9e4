// Typed Dockerfile instructions, one type per keyword, as the parser's AST is turned into them.
import type { Heredoc } from "../parser/node.ts";

export type Location = { startLine: number; endLine: number };

type Base = { location: Location; original: string };

export type KeyValue = { key: string; value: string };
export type KeyValueOptional = { key: string; value: string | undefined };

/** A command line in shell form ("echo hi" run through SHELL) or exec form (["echo", "hi"]). */
export type CommandLine = { cmdLine: string[]; prependShell: boolean };

export type FromCommand = Base & { kind: "from"; image: string; stageName: string | undefined; platform: string | undefined };
export type ArgCommand = Base & { kind: "arg"; args: KeyValueOptional[] };
export type EnvCommand = Base & { kind: "env"; env: KeyValue[] };
export type LabelCommand = Base & { kind: "label"; labels: KeyValue[] };
export type MaintainerCommand = Base & { kind: "maintainer"; maintainer: string };
export type WorkdirCommand = Base & { kind: "workdir"; path: string };
export type UserCommand = Base & { kind: "user"; user: string };
export type ExposeCommand = Base & { kind: "expose"; ports: string[] };
export type VolumeCommand = Base & { kind: "volume"; volumes: string[] };
export type StopSignalCommand = Base & { kind: "stopsignal"; signal: string };
export type ShellCommand = Base & { kind: "shell"; shell: string[] };
export type CmdCommand = Base & CommandLine & { kind: "cmd" };
export type EntrypointCommand = Base & CommandLine & { kind: "entrypoint" };

export type RunCommand = Base &
  CommandLine & {
    kind: "run";
    mounts: string[];
    network: string | undefined;
    security: string | undefined;
    heredocs: Heredoc[];
  };

export type CopyCommand = Base & {
  kind: "copy" | "add";
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
  from: string | undefined;
  chown: string | undefined;
  chmod: string | undefined;
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD only. */
  checksum: string | undefined;
  keepGitDir: boolean;
  unpack: boolean | undefined;
};

export type HealthcheckCommand = Base & {
  kind: "healthcheck";
  /** undefined for HEALTHCHECK NONE. */
  test: string[] | undefined;
  interval: number | undefined;
  timeout: number | undefined;
  startPeriod: number | undefined;
  startInterval: number | undefined;
  retries: number | undefined;
};

export type OnbuildCommand = Base & { kind: "onbuild"; expression: string };

export type Command =
  | ArgCommand | EnvCommand | LabelCommand | MaintainerCommand | WorkdirCommand | UserCommand | ExposeCommand
  | VolumeCommand | StopSignalCommand | ShellCommand | CmdCommand | EntrypointCommand | RunCommand | CopyCommand
  | HealthcheckCommand | OnbuildCommand;

export type Stage = {
  name: string | undefined;
  index: number;
  from: FromCommand;
  commands: Command[];
};

export type Dockerfile = {
  /** ARGs before the first FROM. */
  metaArgs: ArgCommand[];
  stages: Stage[];
  escapeToken: string;
  lines: string[];
};
