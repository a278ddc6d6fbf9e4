// `kitbuild logout [SERVER]`: removes the credentials docker login (or kitbuild login) saved, from
// the docker config and from its credential helper.
import { type ArgsDef, defineCommand } from "citty";
import { logout } from "../registry/login.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const LOGOUT_ARGS = {
    server: { type: "positional", description: "Registry host (default: docker.io)", required: false },
  } satisfies ArgsDef;

export function logoutCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "logout", description: "Log out from a registry" },
    args: LOGOUT_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(
        rt,
        async () => {
          checkArgs("logout", rawArgs, LOGOUT_ARGS);
          const result = await logout(args.server ?? "docker.io", rt.env, rt.signal);
          rt.stderr(result.removed ? `Removing login credentials for ${result.domain}\n` : `Not logged in to ${result.domain}\n`);
        },
        { solving: false },
      ),
  });
}
