// Instructions that change only the stage's metadata and image config: ENV, LABEL, USER, EXPOSE,
// VOLUME, STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, MAINTAINER, ONBUILD. Each writes the
// history entry BuildKit writes (Go's formatting of the values included).
import type { HealthConfig } from "../../../oci/types.ts";
import { formatGoDuration } from "../instructions/duration.ts";
import type {
  CmdCommand, EntrypointCommand, EnvCommand, ExposeCommand, HealthcheckCommand, LabelCommand, MaintainerCommand,
  OnbuildCommand, ShellCommand, StopSignalCommand, UserCommand, VolumeCommand,
} from "../instructions/types.ts";
import { goQuote } from "../parser/node.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { parsePorts } from "./expose.ts";
import { withShell } from "./image-config.ts";
import { commitHistory, envGetter, sortedRecord, type StageState } from "./state.ts";

/** Expands one word with the stage's environment from before the instruction (quotes removed). */
export function expander(s: StageState, ctx: DispatchContext): (word: string) => string {
  const env = envGetter(s);
  return (word) => ctx.lex.processWord(word, env).result;
}

function history(s: StageState, ctx: DispatchContext, text: string): void {
  commitHistory(s, text, { withLayer: false, fromState: false, epoch: ctx.epoch });
}

/** Go's %q of a string slice: ["a" "b"]. */
function goQuoteList(list: readonly string[] | undefined): string {
  return `[${(list ?? []).map(goQuote).join(" ")}]`;
}

/** ENV and LABEL expand every value with the environment from before the instruction. */
export function dispatchEnv(s: StageState, c: EnvCommand, ctx: DispatchContext): void {
  const expand = expander(s, ctx);
  const pairs = c.env.map((p) => ({ key: expand(p.key), value: expand(p.value) }));
  for (const { key, value } of pairs) {
    s.env.set(key, value);
    s.configEnv.set(key, value);
  }
  history(s, ctx, `ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`);
}

export function dispatchLabel(s: StageState, c: LabelCommand, ctx: DispatchContext): void {
  const expand = expander(s, ctx);
  const pairs = c.labels.map((p) => ({ key: expand(p.key), value: expand(p.value) }));
  const labels = { ...s.image.config.Labels };
  for (const { key, value } of pairs) labels[key] = value;
  s.image.config.Labels = sortedRecord(labels);
  history(s, ctx, `LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(" ")}`);
}

export function dispatchUser(s: StageState, c: UserCommand, ctx: DispatchContext): void {
  s.user = expander(s, ctx)(c.user);
  s.image.config.User = s.user;
  history(s, ctx, `USER ${s.user}`);
}

/** EXPOSE splits words after expansion (`EXPOSE $PORTS`). */
export function dispatchExpose(s: StageState, c: ExposeCommand, ctx: DispatchContext): void {
  const env = envGetter(s);
  const ports = parsePorts(c.ports.flatMap((p) => ctx.lex.processWords(p, env)));
  const exposed: Record<string, Record<string, never>> = { ...s.image.config.ExposedPorts };
  for (const p of ports) exposed[p] = {};
  s.image.config.ExposedPorts = sortedRecord(exposed);
  history(s, ctx, `EXPOSE [${ports.join(" ")}]`);
}

export function dispatchVolume(s: StageState, c: VolumeCommand, ctx: DispatchContext): void {
  const volumes = c.volumes.map(expander(s, ctx));
  const all: Record<string, Record<string, never>> = { ...s.image.config.Volumes };
  for (const v of volumes) {
    if (v === "") throw new Error("VOLUME specified can not be an empty string");
    all[v] = {};
  }
  s.image.config.Volumes = sortedRecord(all);
  history(s, ctx, `VOLUME [${volumes.join(" ")}]`);
}

const SIGNALS = new Set([
  "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR",
  "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH",
  "XCPU", "XFSZ", "RTMIN", "RTMAX",
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

export function dispatchStopSignal(s: StageState, c: StopSignalCommand, ctx: DispatchContext): void {
  const signal = expander(s, ctx)(c.signal);
  const numeric = /^[+-]?\d+$/.test(signal);
  if (numeric ? Number(signal) === 0 : !SIGNALS.has(signal.toUpperCase().replace(/^SIG/, ""))) {
    throw new Error(`Invalid signal: ${signal}`);
  }
  s.image.config.StopSignal = signal;
  history(s, ctx, `STOPSIGNAL ${signal}`);
}

export function dispatchShell(s: StageState, c: ShellCommand, ctx: DispatchContext): void {
  s.image.config.Shell = [...c.shell];
  history(s, ctx, `SHELL [${c.shell.join(" ")}]`);
}

export function dispatchCmd(s: StageState, c: CmdCommand, ctx: DispatchContext): void {
  const cmd = c.prependShell ? withShell(s.image, c.cmdLine) : [...c.cmdLine];
  s.image.config.Cmd = cmd;
  s.image.config.ArgsEscaped = true;
  s.cmdSet = true;
  history(s, ctx, `CMD ${goQuoteList(cmd)}`);
}

export function dispatchEntrypoint(s: StageState, c: EntrypointCommand, ctx: DispatchContext): void {
  const ep = c.prependShell ? withShell(s.image, c.cmdLine ?? []) : c.cmdLine;
  if (ep) s.image.config.Entrypoint = ep;
  else delete s.image.config.Entrypoint;
  // An ENTRYPOINT drops the CMD inherited from the base, unless this stage set one.
  if (!s.cmdSet) delete s.image.config.Cmd;
  history(s, ctx, `ENTRYPOINT ${goQuoteList(ep)}`);
}

export function dispatchHealthcheck(s: StageState, c: HealthcheckCommand, ctx: DispatchContext): void {
  const hc: HealthConfig = { Test: [...c.test] };
  // Zero values are left out, as Go's omitempty does.
  if (c.interval) hc.Interval = c.interval;
  if (c.timeout) hc.Timeout = c.timeout;
  if (c.startPeriod) hc.StartPeriod = c.startPeriod;
  if (c.startInterval) hc.StartInterval = c.startInterval;
  if (c.retries) hc.Retries = c.retries;
  s.image.config.Healthcheck = hc;
  const d = formatGoDuration;
  history(
    s,
    ctx,
    `HEALTHCHECK {Test:[${c.test.join(" ")}] Interval:${d(c.interval)} Timeout:${d(c.timeout)} StartPeriod:${d(c.startPeriod)} StartInterval:${d(c.startInterval)} Retries:${c.retries}}`,
  );
}

/** MAINTAINER is not expanded (BuildKit takes it as written). */
export function dispatchMaintainer(s: StageState, c: MaintainerCommand, ctx: DispatchContext): void {
  s.image.author = c.maintainer;
  history(s, ctx, `MAINTAINER ${c.maintainer}`);
}

/** ONBUILD is stored for images built FROM this one; it writes no history entry. */
export function dispatchOnbuild(s: StageState, c: OnbuildCommand): void {
  s.image.config.OnBuild = [...(s.image.config.OnBuild ?? []), c.expression];
}
