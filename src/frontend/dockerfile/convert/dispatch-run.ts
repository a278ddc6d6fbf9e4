// RUN: a command run in the stage's filesystem as an exec op, with its --mount, --network and
// --security, heredoc scripts, the proxy variables given as build args, and BuildKit's step name
// and history text.
import { node, output, type Output } from "../../../llb/builder.ts";
import type { ExecOp, FileOp } from "../../../llb/ops.ts";
import type { KeyValueOptional, RunCommand } from "../instructions/types.ts";
import { chompHeredocContent, parseHeredoc } from "../parser/parser.ts";
import type { EnvGetter } from "../shell/lex.ts";
import type { DispatchContext } from "./dispatch-context.ts";
import { expander } from "./dispatch-config.ts";
import { displayName, maskSecrets } from "./display.ts";
import { withShell } from "./image-config.ts";
import { rootJoin } from "./paths.ts";
import { bindInputs, runMounts, type PendingMount } from "./run-mounts.ts";
import { commitHistory, envGetter, type StageState } from "./state.ts";

export function dispatchRun(s: StageState, c: RunCommand, sources: readonly StageState[], ctx: DispatchContext): void {
  const env = envGetter(s);
  const script = heredocScript(s, c);
  const args = c.prependShell ? withShell(s.image, script.args) : script.args;
  const mounts = runMounts(s, c, sources, expander(s, ctx), ctx, script.mounts);
  const root: PendingMount = { type: "bind", dest: "/", source: s.output, output: 0, readonly: false };
  const inputs: Output[] = [];
  const execMounts = bindInputs([root, ...mounts.mounts], inputs);
  let execEnv = s.env.list();
  // Not set in the stage, so moving it to the end is appending it.
  if (mounts.sshSocket && s.env.get("SSH_AUTH_SOCK") === undefined) execEnv = [...execEnv, `SSH_AUTH_SOCK=${mounts.sshSocket}`];
  const op: ExecOp = {
    kind: "exec",
    meta: {
      args, env: execEnv, cwd: s.workdir || "/", user: s.user,
      ...(sandboxHostname(ctx) ? { hostname: sandboxHostname(ctx) } : {}),
      ...(ctx.proxyEnv ? { proxyEnv: ctx.proxyEnv } : {}),
      ...(ctx.extraHosts.length > 0 ? { extraHosts: ctx.extraHosts.map((h) => ({ ...h })) } : {}),
      ...(ctx.ulimits.length > 0 ? { ulimits: ctx.ulimits.map((u) => ({ ...u })) } : {}),
      ...(ctx.shmSize ? { shmSize: ctx.shmSize } : {}),
    },
    mounts: execMounts,
    ...(mounts.secretEnv.length > 0 ? { secretEnv: mounts.secretEnv } : {}),
    network: c.network === "default" ? ctx.defaultNetwork : c.network,
    security: c.security,
    ...(s.platform ? { platform: s.platform } : {}),
  };
  const shown = maskSecrets(env, mounts.secretEnv.map((e) => e.name));
  const name = displayName(s, ctx, c.original + script.summary, { raw: true, env: shown });
  s.output = output(node(op, inputs, ctx.meta(name, c.location, s.ignoreCache)));
  commitHistory(s, `RUN ${runCommandString(args, s.buildArgs, env)}`, { withLayer: true, fromState: true, epoch: ctx.epoch });
}

type Script = { args: string[]; mounts: PendingMount[]; summary: string };

/**
 * A RUN's command from its heredocs: a lone heredoc starting with "#!" becomes a file run by its
 * interpreter, another lone heredoc is the shell script itself, and anything else is handed to the
 * shell with the heredocs written out after the command line.
 */
function heredocScript(s: StageState, c: RunCommand): Script {
  const args = c.cmdLine;
  const first = c.files[0];
  if (!first) return { args, mounts: [], summary: "" };
  if (args.length !== 1 || !c.prependShell) throw new Error(`parsing produced an invalid run command: [${args.join(" ")}]`);
  const lone = (() => {
    try {
      return parseHeredoc(args[0] as string);
    } catch {
      return undefined;
    }
  })();
  if (!lone) {
    return { args: [(args[0] as string) + c.files.map((f) => `\n${f.data}${f.name}`).join("")], mounts: [], summary: "" };
  }
  const data = first.chomp ? chompHeredocContent(first.data) : first.data;
  const summary = ` (${summarize(first.data)})`;
  if (s.image.os !== "windows" && data.startsWith("#!")) {
    const file = rootJoin(first.name);
    const mkfile: FileOp = { kind: "file", base: -1, actions: [{ action: "mkfile", path: file, mode: 0o755, data }] };
    const source = output(node(mkfile, [], { name: "[internal] preparing inline document" }));
    const mount: PendingMount = { type: "bind", dest: "/dev/pipes/", source, output: -1, readonly: true, selector: "/" };
    return { args: [`/dev/pipes${file}`], mounts: [mount], summary };
  }
  return { args: [data], mounts: [], summary };
}

/** The first line of a heredoc, with "..." when there are more. */
function summarize(doc: string): string {
  const lines = doc.trim().replaceAll("\r\n", "\n").split("\n");
  return lines.length > 1 ? `${lines[0]}...` : (lines[0] as string);
}

/** The history text of a RUN: "|N K=V … " for the stage's ARGs (their current values), then the command. */
export function runCommandString(args: readonly string[], buildArgs: readonly KeyValueOptional[], env: EnvGetter): string {
  const entries = new Map<string, string>();
  for (const arg of buildArgs) entries.set(arg.key, `${arg.key}=${env.get(arg.key) ?? arg.value ?? ""}`);
  const prefix = entries.size > 0 ? [`|${entries.size}`, ...entries.values()] : [];
  return [...prefix, ...args].join(" ");
}

/** BUILDKIT_SANDBOX_HOSTNAME: every RUN's hostname (BuildKit's dockerui "hostname" option). */
function sandboxHostname(ctx: DispatchContext): string | undefined {
  return ctx.buildArgs.BUILDKIT_SANDBOX_HOSTNAME || undefined;
}
