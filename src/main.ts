// The entry point: reads the command line, and a build replaces itself with its runtime options
// (util/jit-tier.ts: FTL off, a larger heap budget) before the CLI's modules load, since loading
// them first made every build's start-up about 10 ms longer. Then the process-wide part: the
// signal handlers, the last-resort error handlers and the exit code, around the CLI
// (cli/main-command.ts).
import { commandLine } from "./cli/argv.ts";
import { reexecWithBuildOptions, withBuildRuntimeOptions } from "./util/jit-tier.ts";

const cli = commandLine(process.argv.slice(2), process.env, process.getuid?.());
if (cli.args[0] === "build" && !cli.wantsHelp) {
  // A user namespace's child is started with the build's runtime options instead.
  if (cli.namespaced) withBuildRuntimeOptions(process.env);
  else reexecWithBuildOptions();
}
const [{ cliRuntime, runCli }, { reportEscapedError }, { KitError }] = await Promise.all([
  import("./cli/main-command.ts"),
  import("./cli/runtime.ts"),
  import("./util/errors.ts"),
]);

// The first SIGINT or SIGTERM cancels the build; a second one exits at once.
const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: NodeJS.Signals) => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  controller.abort(new KitError("E_CANCELED", signal === "SIGINT" ? "interrupted" : `terminated by ${signal}`));
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const rt = cliRuntime(controller, cli.debug);
const fatal = (e: unknown) => process.exit(reportEscapedError(rt, e));
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
process.exitCode = await runCli(cli, rt, controller);
