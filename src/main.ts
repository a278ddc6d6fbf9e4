// The entry point: reads the command line, and a build replaces itself with FTL off
// (util/jit-tier.ts) before the CLI's modules load, since loading them first made every build's
// start-up about 10 ms longer. The CLI (cli/main-command.ts) installs the signal handlers and sets
// the exit code.
import { commandLine } from "./cli/argv.ts";
import { FTL_VARIABLE, reexecWithoutFtl } from "./util/jit-tier.ts";

const cli = commandLine(process.argv.slice(2), process.env, process.getuid?.());
if (cli.args[0] === "build" && !cli.wantsHelp) {
  // A user namespace's child is started with FTL off instead.
  if (cli.namespaced) process.env[FTL_VARIABLE] ??= "0";
  else reexecWithoutFtl();
}
const { runCli } = await import("./cli/main-command.ts");
await runCli(cli);
