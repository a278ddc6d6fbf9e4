// `--load` (`-o type=docker` without dest): the docker archive piped into `docker load`, or into
// `podman load` where docker is not on PATH. `context=NAME` loads through `docker --context NAME`,
// as buildx's attribute; podman has no docker contexts, so a context without docker is refused.
import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { KitError } from "../util/errors.ts";
import { writeDockerArchive, type ImageFiles } from "./archive.ts";
import type { ExportContext } from "./exporter.ts";

export type LoadTool = { name: "docker" | "podman"; path: string };

/** docker if it is on PATH, else podman; neither is an error naming both. */
export function findLoadTool(env: Record<string, string | undefined>, context: string | undefined): LoadTool {
  const PATH = env.PATH ?? "";
  const docker = Bun.which("docker", { PATH });
  if (docker) return { name: "docker", path: docker };
  if (context !== undefined) {
    throw new KitError("E_EXPORT_DOCKER", `context=${context} needs the docker command, which was not found`, {
      hint: "install docker, or drop context= to load with podman",
    });
  }
  const podman = Bun.which("podman", { PATH });
  if (podman) return { name: "podman", path: podman };
  throw new KitError("E_EXPORT_DOCKER", "--load needs the docker or podman command, and neither was found on PATH", {
    hint: "install docker or podman, or write the image with -o type=docker,dest=image.tar",
  });
}

/** Loads the image with the tool found; the progress line says which one. */
export async function loadImage(files: ImageFiles, context: string | undefined, ctx: ExportContext): Promise<void> {
  const tool = findLoadTool(ctx.input.env, context);
  const title = `loading image into ${tool.name}`;
  ctx.progress.status(title, 0);
  const args = context !== undefined ? ["--context", context, "load"] : ["load"];
  const child = spawn(tool.path, args, { stdio: ["pipe", "ignore", "pipe"], env: ctx.input.env as NodeJS.ProcessEnv });
  // A cancelled build does not leave a load half-fed and waiting.
  const kill = () => child.kill("SIGTERM");
  ctx.signal.addEventListener("abort", kill, { once: true });
  try {
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => {
      child.on("close", (code) => resolve(code ?? 1));
      child.on("error", (e) => {
        stderr += e.message;
        resolve(1);
      });
    });
    // The tool closing its input early (it failed) breaks the pipe: then its own message says why.
    let pipeBroken = false;
    child.stdin.on("error", () => (pipeBroken = true));
    let writeError: unknown;
    await writeDockerArchive(ctx.services.store, files, child.stdin as Writable, ctx.signal).catch((e: unknown) => {
      writeError = e;
      child.stdin?.destroy();
    });
    const code = await exited;
    // A cancelled build reports its cancellation, not the load it killed.
    if (writeError !== undefined && (ctx.signal.aborted || !pipeBroken)) throw writeError;
    if (code !== 0) {
      throw new KitError("E_EXPORT_DOCKER", `${tool.name} load failed: ${stderr.trim() || `exit code ${code}`}`, {
        hint: tool.name === "docker" ? "is the docker daemon running, and may you use it?" : "check that podman works for this user (podman info)",
      });
    }
  } finally {
    ctx.signal.removeEventListener("abort", kill);
  }
  ctx.progress.statusDone(title);
}
