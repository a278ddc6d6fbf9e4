// The CLI once the command line is read (main.ts): the runtime the commands are given, and the
// command run (or, for a user other than root, the user namespace's child that runs it).
import { runMain, defineCommand } from "citty";
import { createLogger, guarded, type Runtime } from "./runtime.ts";
import { type KitConfig, readConfig } from "../control/config.ts";
import { KitError } from "../util/errors.ts";
import { type CommandLine, USERNS_ENV } from "./argv.ts";

/**
 * Runs the command (or, for a user other than root, the user namespace's child that runs it);
 * returns the exit code. `controller` is the process's: aborted on SIGINT/SIGTERM (main.ts).
 */
export async function runCli(cli: CommandLine, rt: Runtime, controller: AbortController): Promise<number> {
  if (cli.namespaced) {
    // This process only sets up the namespace and waits: the build runs in the child.
    let code = 1;
    await guarded(rt, async () => {
      const { runInUserNamespace } = await import("./user-namespace.ts");
      code = await runInUserNamespace(cli.args, process.env, (text) => rt.log.warn(text));
    }, { solving: false });
    return rt.failure ? rt.failure.exitCode : code;
  }
  if (process.env[USERNS_ENV] !== undefined) {
    const { joinUserNamespace } = await import("./user-namespace.ts");
    joinUserNamespace(() => controller.abort(new KitError("E_CANCELED", "the kitbuild process that started this build is gone")));
  }
  await runMain(mainCommand(rt), { rawArgs: cli.args });
  return rt.failure ? rt.failure.exitCode : controller.signal.aborted ? 130 : 0;
}

/** The runtime the commands are given; `--debug` also reaches a user namespace's child (KITBUILD_DEBUG). */
export function cliRuntime(controller: AbortController, debug: boolean): Runtime {
  if (debug) process.env.KITBUILD_DEBUG = "1";
  let config: KitConfig | undefined;
  return {
    signal: controller.signal,
    env: process.env,
    config: () => (config ??= readConfig(process.env)),
    stdout: (chunk) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
      }),
    stderr: (text) => process.stderr.write(text),
    // Asked when needed: making process.stderr (or stdout) costs 2-3 ms of every start.
    stderrIsTTY: () => process.stderr.isTTY === true,
    columns: () => process.stderr.columns ?? 80,
    log: createLogger(),
    debug,
  };
}

/** Each subcommand's module is loaded only when it runs. */
function mainCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "kitbuild", description: "A daemonless container image builder with BuildKit's semantics" },
    // Only for --help: takeDebugFlag has already taken the flag out of the arguments.
    args: { debug: { type: "boolean", alias: "D", description: "Show the stack trace of a failure (also KITBUILD_DEBUG=1)" } },
    subCommands: {
      build: () => import("./build.ts").then((m) => m.buildCommand(rt)),
      debug: () => import("./debug.ts").then((m) => m.debugCommand(rt)),
      version: () => import("./version.ts").then((m) => m.versionCommand(rt)),
      du: () => import("./du.ts").then((m) => m.duCommand(rt)),
      prune: () => import("./prune.ts").then((m) => m.pruneCommand(rt)),
      images: () => import("./images.ts").then((m) => m.imagesCommand(rt)),
      rmi: () => import("./rmi.ts").then((m) => m.rmiCommand(rt)),
      login: () => import("./login.ts").then((m) => m.loginCommand(rt)),
      logout: () => import("./logout.ts").then((m) => m.logoutCommand(rt)),
    },
  });
}
