// Loopback servers for sources that come over the network, started per test file: a static file
// server (with Last-Modified and optional Content-Disposition) and git's smart HTTP protocol
// through `git http-backend` (CGI) over bare repositories. Nothing reaches beyond 127.0.0.1.
import { afterAll } from "bun:test";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const servers: Array<{ stop(force?: boolean): void }> = [];
afterAll(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

export type FileServer = { url: string; requests: string[] };

/** Serves the files under `root`; `?disposition=NAME` adds a Content-Disposition header. */
export function serveFiles(root: string): FileServer {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      requests.push(url.pathname);
      const path = `${root}${decodeURIComponent(url.pathname)}`;
      let st;
      try {
        st = statSync(path);
      } catch {
        return new Response("not found", { status: 404 });
      }
      if (!st.isFile()) return new Response("not a file", { status: 404 });
      const headers: Record<string, string> = { "Last-Modified": st.mtime.toUTCString() };
      const disposition = url.searchParams.get("disposition");
      if (disposition) headers["Content-Disposition"] = `attachment; filename="${disposition}"`;
      return new Response(Bun.file(path), { headers });
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}`, requests };
}

/** Serves the bare repositories under `projectRoot` over git's smart HTTP protocol. */
export function serveGit(projectRoot: string): { url: string } {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const child = spawn("git", ["http-backend"], {
        env: {
          GIT_PROJECT_ROOT: projectRoot, GIT_HTTP_EXPORT_ALL: "1", PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers.get("content-type") ?? "",
          GIT_PROTOCOL: req.headers.get("git-protocol") ?? "", HTTP_CONTENT_ENCODING: req.headers.get("content-encoding") ?? "",
          REMOTE_ADDR: "127.0.0.1", PATH: process.env.PATH ?? "/usr/bin:/bin",
        },
        stdio: ["pipe", "pipe", "inherit"],
      });
      child.stdin.end(Buffer.from(await req.arrayBuffer()));
      const chunks: Buffer[] = [];
      for await (const c of child.stdout) chunks.push(c as Buffer);
      return cgiResponse(Buffer.concat(chunks));
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}` };
}

function cgiResponse(out: Buffer): Response {
  const end = out.indexOf("\r\n\r\n");
  const head = out.subarray(0, end).toString().split("\r\n");
  const headers = new Headers();
  let status = 200;
  for (const line of head) {
    const [k = "", ...v] = line.split(":");
    if (k.toLowerCase() === "status") status = Number.parseInt(v.join(":").trim(), 10);
    else if (k) headers.append(k, v.join(":").trim());
  }
  return new Response(out.subarray(end + 4), { status, headers });
}

/** A repository served by serveGit: a bare `NAME.git` under `projectRoot` and a work tree that pushes to it. */
export type GitRepo = {
  bare: string;
  /** Writes `files` (path → content), commits them on `branch` (default main) and pushes; returns the commit. */
  commit(files: Record<string, string>, opts?: { branch?: string; tag?: string }): string;
};

export function makeGitRepo(projectRoot: string, name: string): GitRepo {
  const bare = `${projectRoot}/${name}.git`;
  const work = `${projectRoot}/${name}.work`;
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: projectRoot, GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const git = (args: string[], cwd = work) => execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
  mkdirSync(work, { recursive: true });
  git(["init", "-q", "--bare", "-b", "main", bare], projectRoot);
  git(["init", "-q", "-b", "main"]);
  git(["remote", "add", "origin", bare]);
  return {
    bare,
    commit(files, opts = {}) {
      const branch = opts.branch ?? "main";
      // An existing branch is checked out as it is; a new one starts from the current commit.
      const exists = git(["branch", "--list", branch]) !== "";
      if (exists) git(["checkout", "-q", branch]);
      else if (git(["branch", "--list"]) !== "") git(["checkout", "-q", "-b", branch]);
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(`${work}/${path}`), { recursive: true });
        writeFileSync(`${work}/${path}`, text);
      }
      git(["add", "-A"]);
      git(["commit", "-q", "--allow-empty", "-m", `commit on ${branch}`]);
      if (opts.tag) git(["tag", "-a", "-m", opts.tag, opts.tag]);
      git(["push", "-q", "-f", "origin", branch, ...(opts.tag ? [opts.tag] : [])]);
      return git(["rev-parse", "HEAD"]);
    },
  };
}

/**
 * Serves `body` at every path, but only its first `sent` bytes, then holds the response open until
 * the client goes away (to interrupt a build while it downloads). `started` resolves on the first request.
 */
export function serveStalled(body: Uint8Array, sent: number): { url: string; started: Promise<void> } {
  let onStart = () => {};
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      onStart();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body.subarray(0, sent));
        },
      });
      return new Response(stream, { headers: { "Content-Length": String(body.length) } });
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}`, started };
}
