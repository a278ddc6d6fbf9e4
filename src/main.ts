// The entry point: the only place that reads argv, installs signal handlers and sets the exit code.
import { runMain, defineCommand } from "citty";
import { createLogger, guarded, reportEscapedError, takeDebugFlag, type Runtime } from "./cli/runtime.ts";
import { type KitConfig, readConfig } from "./control/config.ts";
import { KitError } from "./util/errors.ts";
import { FTL_VARIABLE, reexecWithoutFtl } from "./util/jit-tier.ts";

const SUBCOMMANDS = ["build", "debug", "version", "du", "prune", "images", "rmi", "login", "logout"];

/** The commands that use the cache root: a user other than root runs them in a user namespace. */
const NAMESPACED = ["build", "debug", "du", "prune", "images", "rmi"];

/** The variable by which a child knows it runs in the user namespace its parent made (cli/user-namespace.ts). */
const USERNS_ENV = "KITBUILD_USERNS";

/** `kitbuild .` means `kitbuild build .`; `kitbuild --version` means `kitbuild version`. */
function normalizeArgs(argv: string[]): string[] {
  const first = argv[0];
  if (first === undefined) return ["--help"];
  if (first === "--version" || first === "-v") return ["version"];
  if (first === "--help" || first === "-h" || SUBCOMMANDS.includes(first)) return argv;
  return ["build", ...argv];
}

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  controller.abort(new KitError("E_CANCELED", signal === "SIGINT" ? "interrupted" : `terminated by ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const cli = takeDebugFlag(process.argv.slice(2), process.env);
if (cli.debug) process.env.KITBUILD_DEBUG = "1";
let config: KitConfig | undefined;
const rt: Runtime = {
  signal: controller.signal,
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
  debug: cli.debug,
};
const fatal = (e: unknown) => process.exit(reportEscapedError(rt, e));
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);

const main = defineCommand({
  meta: { name: "kitbuild", description: "A daemonless container image builder with BuildKit's semantics" },
  // Only for --help: takeDebugFlag has already taken the flag out of the arguments.
  args: { debug: { type: "boolean", alias: "D", description: "Show the stack trace of a failure (also KITBUILD_DEBUG=1)" } },
  subCommands: {
    build: () => import("./cli/build.ts").then((m) => m.buildCommand(rt)),
    debug: () => import("./cli/debug.ts").then((m) => m.debugCommand(rt)),
    version: () => import("./cli/version.ts").then((m) => m.versionCommand(rt)),
    du: () => import("./cli/du.ts").then((m) => m.duCommand(rt)),
    prune: () => import("./cli/prune.ts").then((m) => m.pruneCommand(rt)),
    images: () => import("./cli/images.ts").then((m) => m.imagesCommand(rt)),
    rmi: () => import("./cli/rmi.ts").then((m) => m.rmiCommand(rt)),
    login: () => import("./cli/login.ts").then((m) => m.loginCommand(rt)),
    logout: () => import("./cli/logout.ts").then((m) => m.logoutCommand(rt)),
  },
});

const args = normalizeArgs(cli.args);
const wantsHelp = args.includes("--help") || args.includes("-h");
const namespaced = process.env[USERNS_ENV] === undefined && process.getuid?.() !== 0 && NAMESPACED.includes(args[0] as string) && !wantsHelp;
if (args[0] === "build" && !wantsHelp) {
  // A build runs without the top JIT tier (util/jit-tier.ts); a user namespace's child is started with it off.
  if (namespaced) process.env[FTL_VARIABLE] ??= "0";
  else reexecWithoutFtl();
}
if (namespaced) {
  // This process only sets up the namespace and waits: the build runs in the child.
  let code = 1;
  await guarded(rt, async () => {
    const { runInUserNamespace } = await import("./cli/user-namespace.ts");
    code = await runInUserNamespace(args, process.env, (text) => rt.log.warn(text));
  }, { solving: false });
  process.exitCode = rt.failure ? rt.failure.exitCode : code;
} else {
  if (process.env[USERNS_ENV] !== undefined) {
    const { joinUserNamespace } = await import("./cli/user-namespace.ts");
    joinUserNamespace(() => controller.abort(new KitError("E_CANCELED", "the kitbuild process that started this build is gone")));
  }
  await runMain(main, { rawArgs: args });
  process.exitCode = rt.failure ? rt.failure.exitCode : controller.signal.aborted ? 130 : 0;
}
