// Instructions that only change the stage's state and image config: ARG, ENV, LABEL, USER, EXPOSE,
// VOLUME, STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, MAINTAINER, ONBUILD.
import type {
  ArgCommand, CmdCommand, EntrypointCommand, EnvCommand, ExposeCommand, HealthcheckCommand, LabelCommand,
  MaintainerCommand, OnbuildCommand, ShellCommand, StopSignalCommand, UserCommand, VolumeCommand,
} from "../instructions/types.ts";
import type { ShellLex } from "../shell/lex.ts";
import { commitHistory, envGetter, expand, setEnv, type StageState } from "./state.ts";

export type ArgScope = {
  buildArgs: Record<string, string>;
  /** Values of the global ARGs (before the first FROM), inherited by a bare `ARG NAME`. */
  globals: Map<string, string>;
  usedBuildArgs: Set<string>;
};

export function dispatchArg(s: StageState, c: ArgCommand, lex: ShellLex, scope: ArgScope): void {
  const parts: string[] = [];
  for (const arg of c.args) {
    let value: string | undefined;
    if (Object.hasOwn(scope.buildArgs, arg.key)) {
      value = scope.buildArgs[arg.key];
      scope.usedBuildArgs.add(arg.key);
    } else if (arg.value !== undefined) {
      value = expand(lex, arg.value, envGetter(s));
    } else {
      value = scope.globals.get(arg.key);
    }
    if (value !== undefined) s.env = setEnv(s.env, arg.key, value);
    if (!s.args.includes(arg.key)) s.args.push(arg.key);
    parts.push(value === undefined ? arg.key : `${arg.key}=${value}`);
  }
  commitHistory(s, `ARG ${parts.join(" ")}`, false);
}

/** ENV and LABEL expand every value with the environment from before the instruction. */
export function dispatchEnv(s: StageState, c: EnvCommand, lex: ShellLex): void {
  const env = envGetter(s);
  const pairs = c.env.map((p) => ({ key: expand(lex, p.key, env), value: expand(lex, p.value, env) }));
  for (const { key, value } of pairs) {
    s.env = setEnv(s.env, key, value);
    s.image.config.Env = setEnv(s.image.config.Env ?? [], key, value);
  }
  commitHistory(s, `ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, false);
}

export function dispatchLabel(s: StageState, c: LabelCommand, lex: ShellLex): void {
  const env = envGetter(s);
  const pairs = c.labels.map((p) => ({ key: expand(lex, p.key, env), value: expand(lex, p.value, env) }));
  s.image.config.Labels ??= {};
  for (const { key, value } of pairs) s.image.config.Labels[key] = value;
  commitHistory(s, `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`, false);
}

export function dispatchUser(s: StageState, c: UserCommand, lex: ShellLex): void {
  s.user = expand(lex, c.user, envGetter(s));
  s.image.config.User = s.user;
  commitHistory(s, `USER ${s.user}`, false);
}

export function dispatchExpose(s: StageState, c: ExposeCommand, lex: ShellLex): void {
  const env = envGetter(s);
  const ports = c.ports.flatMap((p) => expandPorts(expand(lex, p, env)));
  s.image.config.ExposedPorts ??= {};
  for (const p of ports) s.image.config.ExposedPorts[p] = {};
  commitHistory(s, `EXPOSE map[${ports.map((p) => `${p}:{}`).join(" ")}]`, false);
}

/** "80" → "80/tcp"; "8000-8001/udp" → each port of the range. */
export function expandPorts(spec: string): string[] {
  const [range = "", proto = "tcp"] = spec.split("/");
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  if (!m) throw new Error(`invalid containerPort: ${range}`);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  if (end < start) throw new Error(`invalid port range: ${range}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

export function dispatchVolume(s: StageState, c: VolumeCommand, lex: ShellLex): void {
  const env = envGetter(s);
  const volumes = c.volumes.map((v) => expand(lex, v, env));
  if (volumes.some((v) => v === "")) throw new Error("VOLUME specified can not be an empty string");
  s.image.config.Volumes ??= {};
  for (const v of volumes) s.image.config.Volumes[v] = {};
  commitHistory(s, `VOLUME [${volumes.join(" ")}]`, false);
}

export function dispatchStopSignal(s: StageState, c: StopSignalCommand, lex: ShellLex): void {
  const signal = expand(lex, c.signal, envGetter(s));
  if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal)) throw new Error(`invalid signal: ${signal}`);
  s.image.config.StopSignal = signal;
  commitHistory(s, `STOPSIGNAL ${signal}`, false);
}

export function dispatchShell(s: StageState, c: ShellCommand): void {
  s.image.config.Shell = c.shell;
  commitHistory(s, `SHELL [${c.shell.join(" ")}]`, false);
}

export function shellOf(s: StageState): string[] {
  return s.image.config.Shell && s.image.config.Shell.length > 0 ? s.image.config.Shell : ["/bin/sh", "-c"];
}

export function dispatchCmd(s: StageState, c: CmdCommand): void {
  const cmd = c.prependShell ? [...shellOf(s), c.cmdLine.join(" ")] : c.cmdLine;
  s.image.config.Cmd = cmd;
  s.cmdSet = true;
  commitHistory(s, `CMD [${cmd.map((a) => JSON.stringify(a)).join(" ")}]`, false);
}

export function dispatchEntrypoint(s: StageState, c: EntrypointCommand): void {
  const ep = c.prependShell ? [...shellOf(s), c.cmdLine.join(" ")] : c.cmdLine;
  s.image.config.Entrypoint = ep;
  // An ENTRYPOINT resets the CMD inherited from the base image, unless this stage set one.
  if (!s.cmdSet) s.image.config.Cmd = null;
  commitHistory(s, `ENTRYPOINT [${ep.map((a) => JSON.stringify(a)).join(" ")}]`, false);
}

export function dispatchHealthcheck(s: StageState, c: HealthcheckCommand): void {
  if (!c.test) {
    s.image.config.Healthcheck = { Test: ["NONE"] };
  } else {
    const hc: NonNullable<typeof s.image.config.Healthcheck> = { Test: c.test };
    if (c.interval !== undefined) hc.Interval = c.interval;
    if (c.timeout !== undefined) hc.Timeout = c.timeout;
    if (c.startPeriod !== undefined) hc.StartPeriod = c.startPeriod;
    if (c.startInterval !== undefined) hc.StartInterval = c.startInterval;
    if (c.retries !== undefined) hc.Retries = c.retries;
    s.image.config.Healthcheck = hc;
  }
  commitHistory(s, `HEALTHCHECK &{${(c.test ?? ["NONE"]).map((a) => JSON.stringify(a)).join(" ")}}`, false);
}

export function dispatchMaintainer(s: StageState, c: MaintainerCommand, lex: ShellLex): void {
  s.image.author = expand(lex, c.maintainer, envGetter(s));
  commitHistory(s, `MAINTAINER ${s.image.author}`, false);
}

export function dispatchOnbuild(s: StageState, c: OnbuildCommand): void {
  s.image.config.OnBuild = [...(s.image.config.OnBuild ?? []), c.expression];
  commitHistory(s, `ONBUILD ${c.expression}`, false);
}
