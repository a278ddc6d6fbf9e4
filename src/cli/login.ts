// `kitbuild login [SERVER]`: docker login's flags and file. The password comes from
// --password-stdin, -p (with docker's warning) or a prompt at the terminal; the credentials are
// checked against the registry before they are saved to the docker config or its credential helper.
import { type ArgsDef, defineCommand } from "citty";
import { login } from "../registry/login.ts";
import { KitError } from "../util/errors.ts";
import { promptLine, stdinIsTTY } from "./prompt.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const LOGIN_ARGS = {
    server: { type: "positional", description: "Registry host (default: docker.io)", required: false },
    username: { type: "string", alias: "u", description: "Username" },
    password: { type: "string", alias: "p", description: "Password or access token (prefer --password-stdin)" },
    "password-stdin": { type: "boolean", description: "Take the password from stdin" },
    "insecure-registry": { type: "string", description: "Reach this registry over plain HTTP" },
  } satisfies ArgsDef;

export function loginCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "login", description: "Log in to a registry (writes the docker config, as docker login does)" },
    args: LOGIN_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(
        rt,
        async () => {
          checkArgs("login", rawArgs, LOGIN_ARGS);
          const { username, password } = await readCredentials(rt, args.username, args.password, args["password-stdin"] === true);
          const server = args.server ?? "docker.io";
          const result = await login(
            {
              server,
              username,
              password,
              env: rt.env,
              insecureRegistries: args["insecure-registry"] ? [args["insecure-registry"]] : [],
            },
            rt.signal,
          );
          const where = result.stored === "helper" ? "the credential helper" : result.configPath;
          rt.stderr(`Credentials for ${result.domain} saved in ${where}\nLogin Succeeded\n`);
        },
        { solving: false },
      ),
  });
}

async function readCredentials(rt: Runtime, username: string | undefined, password: string | undefined, fromStdin: boolean) {
  if (fromStdin && !username) throw usage("--password-stdin needs --username", "pass the username with -u USERNAME");
  if ((!username || (password === undefined && !fromStdin)) && !stdinIsTTY()) {
    throw usage("cannot ask for a username or password: stdin is not a terminal", "pass -u USERNAME and the password with --password-stdin");
  }
  const name = username || (await promptLine("Username: ", { hidden: false, stderr: rt.stderr })).trim();
  if (!name) throw usage("a username is required", "pass it with -u USERNAME");
  if (!fromStdin && password === undefined) {
    const typed = await promptLine("Password: ", { hidden: true, stderr: rt.stderr });
    if (!typed) throw usage("a password is required");
    return { username: name, password: typed };
  }
  return { username: name, password: await readPassword(rt, password, fromStdin) };
}

async function readPassword(rt: Runtime, flag: string | undefined, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    if (flag !== undefined) throw usage("--password and --password-stdin are mutually exclusive");
    // As docker: one trailing newline (from `echo`) is not part of the password.
    const text = (await Bun.stdin.text()).replace(/\r?\n$/, "");
    if (!text) throw usage("--password-stdin read an empty password", "pipe the password in: echo \"$TOKEN\" | kitbuild login -u USER --password-stdin SERVER");
    return text;
  }
  rt.stderr("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  return flag as string;
}

function usage(message: string, hint?: string): KitError {
  return new KitError("E_USAGE", message, { hint: hint ?? "usage: kitbuild login [-u USER] [--password-stdin | -p PASSWORD] [SERVER]" });
}
