// Typed Dockerfile instructions, one type per keyword, as the parser's AST is turned into them.
// Values are kept as written: variables are expanded during conversion, where each step's
// environment is known.

export type Location = { startLine: number; endLine: number };

type Base = {
  location: Location;
  /** The instruction's text as written (continuations joined), trimmed: BuildKit's String(). */
  original: string;
};

export type KeyValue = { key: string; value: string };
export type KeyValueOptional = { key: string; value: string | undefined };

/** A command line in shell form ("echo hi" run through SHELL) or exec form (["echo", "hi"]). */
export type CommandLine = { cmdLine: string[]; prependShell: boolean };

/** A heredoc used as a RUN script or a COPY/ADD source. */
export type InlineFile = { name: string; data: string; chomp: boolean; expand: boolean };

export type FromCommand = Base & { kind: "from"; image: string; stageName: string | undefined; platform: string | undefined };
export type ArgCommand = Base & { kind: "arg"; args: KeyValueOptional[] };
export type EnvCommand = Base & { kind: "env"; env: KeyValue[] };
export type LabelCommand = Base & { kind: "label"; labels: KeyValue[] };
export type MaintainerCommand = Base & { kind: "maintainer"; maintainer: string };
export type WorkdirCommand = Base & { kind: "workdir"; path: string };
export type UserCommand = Base & { kind: "user"; user: string };
/** Ports as written, sorted as text (BuildKit sorts them before expanding them). */
export type ExposeCommand = Base & { kind: "expose"; ports: string[] };
export type VolumeCommand = Base & { kind: "volume"; volumes: string[] };
export type StopSignalCommand = Base & { kind: "stopsignal"; signal: string };
export type ShellCommand = Base & { kind: "shell"; shell: string[] };
export type CmdCommand = Base & CommandLine & { kind: "cmd" };
/** An empty exec form (`ENTRYPOINT []`) has `cmdLine: undefined`: it clears the entrypoint. */
export type EntrypointCommand = Base & { kind: "entrypoint"; cmdLine: string[] | undefined; prependShell: boolean };

export type NetworkMode = "default" | "none" | "host";
export type SecurityMode = "sandbox" | "insecure";

export type RunCommand = Base &
  CommandLine & {
    kind: "run";
    /** The --mount values as written; parsed with the step's environment at conversion. */
    mounts: string[];
    network: NetworkMode;
    security: SecurityMode;
    files: InlineFile[];
  };

export type CopyCommand = Base & {
  kind: "copy" | "add";
  sourcePaths: string[];
  /** Heredoc sources (`COPY <<EOF /dest`). */
  sourceContents: Array<{ path: string; data: string; expand: boolean }>;
  dest: string;
  from: string | undefined;
  chown: string | undefined;
  chmod: string | undefined;
  link: boolean;
  parents: boolean;
  exclude: string[];
  /** ADD only. */
  checksum: string | undefined;
  keepGitDir: boolean | undefined;
  unpack: boolean | undefined;
};

/** HEALTHCHECK; durations in nanoseconds, 0 when not given. `test` is ["NONE"] for HEALTHCHECK NONE. */
export type HealthcheckCommand = Base & {
  kind: "healthcheck";
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
};

/** ONBUILD: `expression` is the trigger instruction's text, stored in the image config. */
export type OnbuildCommand = Base & { kind: "onbuild"; expression: string };

export type Command =
  | ArgCommand | EnvCommand | LabelCommand | MaintainerCommand | WorkdirCommand | UserCommand | ExposeCommand
  | VolumeCommand | StopSignalCommand | ShellCommand | CmdCommand | EntrypointCommand | RunCommand | CopyCommand
  | HealthcheckCommand | OnbuildCommand;

export type Stage = {
  /** `AS name`, lowercased. */
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
