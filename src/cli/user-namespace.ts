// Rootless builds: a user other than root runs kitbuild again inside a new user and mount namespace,
// where it is 0 and its subordinate ids are 1..N, and the build runs there. Bun cannot unshare a
// user namespace itself (its runtime is multithreaded), so util-linux `unshare` (2.38 or newer) makes
// the namespace, writes the maps through newuidmap/newgidmap, and runs kitbuild in it with every
// capability of that namespace. This process relays SIGTERM, hands on the exit code, and turns an
// unshare that could not start the child into an error that says what to fix. The child watches its
// parent: if this process dies, the build is cancelled and cleans up.
import { spawn } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, writeSync } from "node:fs";
import { KitError } from "../util/errors.ts";
import { exitStatus } from "../util/process.ts";
import { addRangeCommand, mappingFor, type IdRange, type UserMode, userNameOf } from "../worker/rootless/id-map.ts";
import { USERNS_ENV } from "./argv.ts";

type Env = Record<string, string | undefined>;

/** The command that runs this kitbuild again: the compiled binary, or bun with the entry script. */
function selfCommand(args: string[]): string[] {
  const script = process.argv[1] ?? "";
  return script.startsWith("/$bunfs/") || script === "" ? [process.execPath, ...args] : [process.execPath, script, ...args];
}

/** unshare's options for the mapping: the user as 0, its subordinate range from 1 (written with newuidmap). */
function unshareArgs(mode: Extract<UserMode, { kind: "rootless" }>): string[] {
  const sub = (r: IdRange | undefined) => (r ? `${r.outside},${r.inside},${r.count}` : undefined);
  const [, subUids] = mode.mapping.uids;
  const [, subGids] = mode.mapping.gids;
  const ranges = mode.single ? [] : [`--map-users=${sub(subUids)}`, `--map-groups=${sub(subGids)}`];
  return ["--map-root-user", ...ranges, "--mount", "--propagation", "private"];
}

/**
 * Runs `args` in a new user namespace and resolves to its exit code. `warn` gets the one warning of
 * a single-id mapping.
 */
export async function runInUserNamespace(args: string[], env: Env, warn: (text: string) => void): Promise<number> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const { mapping, single } = mappingFor(uid, gid);
  const userName = userNameOf(uid);
  if (single) warn(singleIdWarning(userName));
  const mode: UserMode = { kind: "rootless", userName, hostUid: uid, hostGid: gid, mapping, single, runtimeDir: runtimeDir(uid, env) };
  const unshare = Bun.which("unshare", { PATH: env.PATH ?? "" });
  if (!unshare) throw new KitError("E_ROOTLESS_SETUP", "rootless builds need the unshare command, which was not found", { hint: "install util-linux (Debian/Ubuntu: apt-get install util-linux)" });
  for (const tool of single ? [] : ["newuidmap", "newgidmap"]) {
    if (!Bun.which(tool, { PATH: env.PATH ?? "" })) {
      throw new KitError("E_ROOTLESS_SETUP", `rootless builds with subordinate ids need ${tool}, which was not found`, { hint: "install it (Debian/Ubuntu: apt-get install uidmap)" });
    }
  }
  const child = spawn(unshare, [...unshareArgs(mode), "--", ...selfCommand(args)], {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env: { ...env, [USERNS_ENV]: JSON.stringify(mode) } as NodeJS.ProcessEnv,
  });
  // The child says "started" on fd 3 once it runs: an exit without it is unshare's own failure.
  let started = false;
  (child.stdio[3] as NodeJS.ReadableStream).on("data", () => (started = true));
  // The terminal's Ctrl-C reaches the child (same process group); a SIGTERM sent to this process
  // alone is passed on.
  const ignore = () => {};
  const relay = (sig: NodeJS.Signals) => child.pid && process.kill(child.pid, sig);
  process.on("SIGINT", ignore);
  process.on("SIGTERM", relay);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.on("error", (e) => reject(new KitError("E_ROOTLESS_SETUP", `failed to start unshare: ${e.message}`, { cause: e })));
      child.on("close", (c, sig) => resolve(exitStatus(c, sig)));
    });
    if (!started) {
      throw new KitError("E_ROOTLESS_SETUP", "cannot create a user namespace for a rootless build (unshare's reason is above)", { hint: userNamespaceHint() });
    }
    return code;
  } finally {
    process.off("SIGINT", ignore);
    process.off("SIGTERM", relay);
  }
}

/**
 * In the child: tells the parent it started, then calls `onParentGone` if the parent dies (the child
 * is then re-parented, so its parent pid changes).
 */
export function joinUserNamespace(onParentGone: () => void): void {
  try {
    writeSync(3, "started\n");
    closeSync(3);
  } catch {
    // started some other way (by hand, for a test): nobody listens
  }
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onParentGone();
  }, 200);
  timer.unref();
}

/**
 * Where runc keeps its state: $XDG_RUNTIME_DIR/kitbuild when that directory is the user's and 0700,
 * else /tmp/kitbuild-UID (made 0700; refused when someone else owns it).
 */
function runtimeDir(uid: number, env: Env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg) {
    try {
      const st = lstatSync(xdg);
      if (st.isDirectory() && st.uid === uid && (st.mode & 0o777) === 0o700) return `${xdg}/kitbuild`;
    } catch {
      // fall back to /tmp
    }
  }
  const dir = `/tmp/kitbuild-${uid}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new KitError("E_ROOTLESS_SETUP", `cannot create "${dir}"`, { cause: e });
  }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new KitError("E_ROOTLESS_SETUP", `"${dir}" is not a private directory of this user`, {
      hint: `remove it, or set XDG_RUNTIME_DIR to a directory of yours with mode 0700`,
    });
  }
  return dir;
}

function singleIdWarning(user: string): string {
  return `no subordinate id range for "${user}" in /etc/subuid and /etc/subgid: building with a single-id mapping: base image files of other owners belong to root in the build, and a step that sets another user or group id fails; add a range with: ${addRangeCommand(user)}`;
}

function userNamespaceHint(): string {
  return "user namespaces may be disabled: check sysctl user.max_user_namespaces (must be > 0), kernel.unprivileged_userns_clone (must be 1) and, on Ubuntu, kernel.apparmor_restrict_unprivileged_userns";
}
