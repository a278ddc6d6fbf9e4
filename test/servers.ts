// Loopback servers for sources that come over the network, started per test file: a static file
// server (with Last-Modified and optional Content-Disposition) and git's smart HTTP protocol
// through `git http-backend` (CGI) over bare repositories. Nothing reaches beyond 127.0.0.1.
import { afterAll } from "bun:test";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";

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
