// The command line's shape, read before anything else is loaded: a build re-executes itself
// (util/jit-tier.ts) before the CLI's modules are, so this file imports nothing.

const SUBCOMMANDS = ["build", "debug", "version", "du", "prune", "images", "rmi", "login", "logout"];

/** The commands that use the cache root: a user other than root runs them in a user namespace. */
const NAMESPACED = ["build", "debug", "du", "prune", "images", "rmi"];

/** The variable by which a child knows it runs in the user namespace its parent made (cli/user-namespace.ts sets it). */
export const USERNS_ENV = "KITBUILD_USERNS";

/** `args`: the arguments without --debug, the command first; `namespaced`: this process only starts the user namespace's child. */
export type CommandLine = { args: string[]; debug: boolean; wantsHelp: boolean; namespaced: boolean };

export function commandLine(argv: readonly string[], env: Record<string, string | undefined>, uid: number | undefined): CommandLine {
  const cli = takeDebugFlag(argv, env);
  const args = normalizeArgs(cli.args);
  const wantsHelp = args.includes("--help") || args.includes("-h");
  const namespaced = env[USERNS_ENV] === undefined && uid !== 0 && NAMESPACED.includes(args[0] as string) && !wantsHelp;
  return { args, debug: cli.debug, wantsHelp, namespaced };
}

/** `kitbuild .` means `kitbuild build .`; `kitbuild --version` means `kitbuild version`. */
function normalizeArgs(argv: string[]): string[] {
  const first = argv[0];
  if (first === undefined) return ["--help"];
  if (first === "--version" || first === "-v") return ["version"];
  if (first === "--help" || first === "-h" || SUBCOMMANDS.includes(first)) return argv;
  return ["build", ...argv];
}

/**
 * Takes `--debug` (buildx's global flag, also `-D` before the command) out of the arguments: as a
 * global flag it may stand before the command or among its flags, up to a `--`. KITBUILD_DEBUG=1
 * means the same (and carries the flag into the user-namespace re-run).
 */
export function takeDebugFlag(argv: readonly string[], env: Record<string, string | undefined>): { args: string[]; debug: boolean } {
  let debug = env.KITBUILD_DEBUG === "1";
  let i = 0;
  for (; argv[i] === "--debug" || argv[i] === "-D"; i++) debug = true;
  const args: string[] = [];
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    if (arg === "--debug") debug = true;
    else args.push(arg);
  }
  return { args, debug };
}
