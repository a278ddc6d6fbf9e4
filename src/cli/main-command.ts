// The CLI once the command line is read (main.ts): installs the signal handlers, runs the command
// (or, for a user other than root, the user namespace's child that runs it) and sets the exit code.
import { runMain, defineCommand } from "citty";
import { createLogger, guarded, reportEscapedError, type Runtime } from "./runtime.ts";
import { type KitConfig, readConfig } from "../control/config.ts";
import { KitError } from "../util/errors.ts";
import { type CommandLine, USERNS_ENV } from "./argv.ts";

export async function runCli(cli: CommandLine): Promise<void> {
  const controller = abortOnSignals();
  if (cli.debug) process.env.KITBUILD_DEBUG = "1";
  const rt = runtime(controller.signal, cli.debug);
  const fatal = (e: unknown) => process.exit(reportEscapedError(rt, e));
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  if (cli.namespaced) {
    // This process only sets up the namespace and waits: the build runs in the child.
    let code = 1;
    await guarded(rt, async () => {
      const { runInUserNamespace } = await import("./user-namespace.ts");
      code = await runInUserNamespace(cli.args, process.env, (text) => rt.log.warn(text));
    }, { solving: false });
    process.exitCode = rt.failure ? rt.failure.exitCode : code;
    return;
  }
  if (process.env[USERNS_ENV] !== undefined) {
    const { joinUserNamespace } = await import("./user-namespace.ts");
    joinUserNamespace(() => controller.abort(new KitError("E_CANCELED", "the kitbuild process that started this build is gone")));
  }
  await runMain(mainCommand(rt), { rawArgs: cli.args });
  process.exitCode = rt.failure ? rt.failure.exitCode : controller.signal.aborted ? 130 : 0;
}

/** The first SIGINT or SIGTERM cancels the build; a second one exits at once. */
function abortOnSignals(): AbortController {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort(new KitError("E_CANCELED", signal === "SIGINT" ? "interrupted" : `terminated by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller;
}

function runtime(signal: AbortSignal, debug: boolean): Runtime {
  let config: KitConfig | undefined;
  return {
    signal,
    env: process.env,
    config: () => (config ??= readConfig(process.env)),
    stdout: (chunk) =>
      new Promise<void>((resolve, reject) => {
        process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
      }),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
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
