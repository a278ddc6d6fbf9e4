// ADD <git repository>: resolving a ref to a commit with `git ls-remote`, and checking that commit
// out into a snapshot with the system's git, as BuildKit's git source does: a shallow fetch into a
// throwaway repository, the tree checked out without .git unless asked to keep it (then a clone
// whose origin is the remote, HEAD detached at the commit, the ref kept as a local ref), or only a
// subdirectory of it. git runs with umask 022 and without the user's or system's configuration.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import type { SourceOp } from "../llb/ops.ts";
import { canceledError } from "../util/abort.ts";
import { lstatOrUndefined } from "../fs/copy-tree.ts";
import { KitError } from "../util/errors.ts";
import { cleanInRoot } from "../fs/fs-safe.ts";
import { isSshRemote } from "./git-ssh.ts";
import { withoutCredentials } from "../util/urls.ts";

export type GitSource = {
  remote: string; ref: string; subdir: string; keepGitDir: boolean; checksum: string;
  /** BuildKit's "git.skipsubmodules": otherwise submodules are checked out too (recursively, shallow). */
  skipSubmodules?: boolean;
  /** Extra environment for git's network commands (for ssh remotes: git-ssh.ts's gitSshEnv). */
  env?: Record<string, string>;
};

export type ResolvedGit = GitSource & { commit: string; refName: string | undefined };

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * "git://host/repo" or "git+" and the remote as git clones it ("git+https://host/repo.git"), with
 * an optional "#ref:subdir", and the op's attrs (ref, subdir, keepgitdir, checksum).
 */
export function parseGitSource(op: SourceOp): GitSource {
  const [url = "", fragment = ""] = op.identifier.split("#", 2);
  const remote = url.startsWith("git+") ? url.slice(4) : url;
  if (!/^(https?|git):\/\//.test(remote) && !isSshRemote(remote)) {
    throw new KitError("E_SOURCE_GIT", `unsupported git repository "${withoutCredentials(op.identifier)}"`, { hint: "use a git://, https://, http://, ssh:// or user@host:path repository address" });
  }
  const checksum = op.attrs.checksum ?? "";
  if (checksum !== "" && !/^[0-9a-fA-F]+$/.test(checksum)) {
    throw new KitError("E_SOURCE_CHECKSUM", `invalid checksum "${checksum}" for git repository "${withoutCredentials(remote)}"`, { hint: "give the commit's hex id (or a prefix of it)" });
  }
  const [fragRef = "", fragSubdir = ""] = fragment.split(":", 2);
  const subdir = cleanInRoot(op.attrs.subdir ?? fragSubdir);
  return {
    remote, ref: op.attrs.ref || fragRef || "HEAD", subdir: subdir === "/" ? "" : subdir.slice(1),
    keepGitDir: op.attrs.keepgitdir === "true", checksum: checksum.toLowerCase(),
    skipSubmodules: op.attrs["git.skipsubmodules"] === "true",
  };
}

/**
 * The commit `src.ref` names on the remote (a full commit id is taken as it is); with a checksum,
 * the commit (or the annotated tag) must start with it.
 */
export async function resolveGit(src: GitSource, signal: AbortSignal): Promise<ResolvedGit> {
  const resolved = await resolveRef(src, signal);
  if (src.checksum !== "" && !resolved.commit.startsWith(src.checksum) && !(resolved.tag ?? "").startsWith(src.checksum)) {
    throw new KitError("E_SOURCE_CHECKSUM", `expected checksum to match "${src.checksum}", got "${resolved.commit}" for "${src.ref}" in ${withoutCredentials(src.remote)}`, {
      hint: "the ref now points at another commit, or the --checksum is wrong",
    });
  }
  return { ...src, commit: resolved.commit, refName: resolved.refName };
}

async function resolveRef(src: GitSource, signal: AbortSignal): Promise<{ commit: string; refName: string | undefined; tag?: string }> {
  if (SHA.test(src.ref)) return { commit: src.ref, refName: undefined };
  const out = await git(["ls-remote", "--", src.remote, src.ref, `${src.ref}^{}`], { signal, what: `resolve "${src.ref}" in ${withoutCredentials(src.remote)}`, env: src.env });
  const refs = new Map(out.split("\n").filter(Boolean).map((l) => l.split("\t").reverse() as [string, string]));
  // As git checkout does: a branch before a tag; an annotated tag stands for its commit ("^{}").
  const candidates = src.ref.startsWith("refs/") || src.ref === "HEAD" ? [src.ref] : [`refs/heads/${src.ref}`, `refs/tags/${src.ref}`];
  for (const name of candidates) {
    const peeled = refs.get(`${name}^{}`);
    const direct = refs.get(name);
    if (peeled) return { commit: peeled, refName: name, tag: direct };
    if (direct) return { commit: direct, refName: name };
  }
  throw new KitError("E_SOURCE_GIT", `ref "${src.ref}" not found in ${withoutCredentials(src.remote)}`, { hint: "check the branch or tag name after # in the repository address" });
}

/**
 * Checks the resolved commit out into `dir` (an empty snapshot root). The throwaway repository
 * lives inside `dir` too, so that a crash leaves nothing the snapshot's own cleanup does not remove.
 */
export async function checkoutGit(src: ResolvedGit, dir: string, signal: AbortSignal): Promise<void> {
  const repo = mkdtempSync(`${dir}/.kitbuild-git-`);
  try {
    await git(["init", "-q", "--bare", repo], { signal, what: "create a temporary repository" });
    // As BuildKit's: the remote is the origin, which relative submodule addresses are resolved against.
    await git(["-C", repo, "remote", "add", "origin", src.remote], { signal, what: "add the origin" });
    const fetchRef = src.refName && src.refName !== "HEAD" ? `+${src.refName}:${src.refName}` : `+${src.commit}:refs/kitbuild/commit`;
    await git(["-C", repo, "fetch", "-q", "--depth=1", "--no-tags", "--", src.remote, fetchRef], { signal, what: `fetch ${withoutCredentials(src.remote)}`, env: src.env });
    const fetched = (await git(["-C", repo, "rev-parse", `${fetchRef.split(":")[1]}^{commit}`], { signal, what: "read the fetched commit" })).trim();
    if (fetched !== src.commit) {
      throw new KitError("E_SOURCE_GIT", `"${src.ref}" moved in ${withoutCredentials(src.remote)} while it was fetched`, { hint: "run the build again" });
    }
    if (src.keepGitDir && src.subdir === "") await cloneWithGitDir(src, repo, dir, signal);
    else await checkoutTree(src, repo, dir, signal);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

async function checkoutTree(src: ResolvedGit, repo: string, dir: string, signal: AbortSignal): Promise<void> {
  const work = src.subdir === "" ? dir : mkdtempSync(`${dir}/.kitbuild-checkout-`);
  await git(["--git-dir", repo, "--work-tree", work, "checkout", "-q", "-f", src.commit, "--", "."], { signal, what: `check out ${src.commit}` });
  // git-submodule needs to run inside the work tree (-C), even with --work-tree given.
  await updateSubmodules(src, ["-C", work, "--git-dir", repo, "--work-tree", work], work, signal);
  if (src.subdir === "") return;
  try {
    // Only real directories lead to the subdirectory: a symlink in the repository could point anywhere.
    let path = work;
    for (const part of src.subdir.split("/")) {
      path = `${path}/${part}`;
      if (!lstatOrUndefined(path)?.isDirectory()) {
        throw new KitError("E_SOURCE_GIT", `"${src.subdir}" is not a directory in ${withoutCredentials(src.remote)} at ${src.ref}`, { hint: "check the path after the ref (#ref:subdir)" });
      }
    }
    for (const name of readdirSync(path)) renameSync(`${path}/${name}`, `${dir}/${name}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function cloneWithGitDir(src: ResolvedGit, repo: string, dir: string, signal: AbortSignal): Promise<void> {
  const run = (args: string[], what: string) => git(["-C", dir, ...args], { signal, what });
  await run(["-c", "init.defaultBranch=master", "init", "-q"], "create the repository");
  await run(["remote", "add", "origin", `file://${repo}`], "add the origin");
  const pull = src.refName && src.refName !== "HEAD" ? `${src.refName}:${src.refName}` : src.commit;
  await run(["fetch", "-q", "-u", "--depth=1", "--", "origin", pull], "fetch into the checkout");
  await run(["checkout", "-q", src.commit], `check out ${src.commit}`);
  await run(["remote", "set-url", "origin", src.remote], "set the origin");
  await run(["reflog", "expire", "--all", "--expire=now"], "expire the reflog");
  rmSync(`${dir}/.git/FETCH_HEAD`, { force: true });
  await updateSubmodules(src, ["-C", dir], dir, signal);
}

/**
 * `git submodule update --init --recursive --depth=1` in the checkout, as BuildKit runs it unless
 * told to skip (then, as in BuildKit, a submodule's .git file names the throwaway repository's
 * modules/ directory, gone after the checkout). Nothing to do without a .gitmodules.
 */
async function updateSubmodules(src: ResolvedGit, where: string[], work: string, signal: AbortSignal): Promise<void> {
  if (src.skipSubmodules || !lstatOrUndefined(`${work}/.gitmodules`)?.isFile()) return;
  await git([...where, "submodule", "update", "-q", "--init", "--recursive", "--depth=1"], { signal, what: `update the submodules of ${withoutCredentials(src.remote)}`, env: src.env });
}

/** Runs git with umask 022 and no configuration but its own; returns stdout. */
function git(args: string[], opts: { signal: AbortSignal; what: string; env?: Record<string, string> | undefined }): Promise<string> {
  const path = Bun.which("git");
  if (!path) {
    throw new KitError("E_SOURCE_GIT", "cannot use git repositories: the \"git\" program is not installed", { hint: "install it (Debian: apt-get install git)" });
  }
  if (opts.signal.aborted) return Promise.reject(canceledError(opts.signal));
  return new Promise((resolve, reject) => {
    // In a process group of its own, killed whole on abort: git's helpers (git-remote-http, ssh)
    // would otherwise keep running, and kitbuild waiting, until the server gave up.
    const child = spawn("/bin/sh", ["-c", 'umask 022 && exec "$0" "$@"', path, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      reject(canceledError(opts.signal));
    };
    opts.signal.addEventListener("abort", killGroup, { once: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (e) => {
      opts.signal.removeEventListener("abort", killGroup);
      reject(opts.signal.aborted ? canceledError(opts.signal) : e);
    });
    child.on("close", (code) => {
      opts.signal.removeEventListener("abort", killGroup);
      if (code === 0) return resolve(stdout);
      if (opts.signal.aborted) return reject(canceledError(opts.signal));
      reject(new KitError("E_SOURCE_GIT", `git failed to ${opts.what}: ${withoutCredentials(stderr.trim().split("\n").at(-1) ?? `exit code ${code}`)}`, { hint: "check the repository address and that this machine can reach it" }));
    });
  });
}

