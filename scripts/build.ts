// Compiles dist/kitbuild: one executable with kitbuild's version and commit baked in. The binary
// runs inside users' projects, so it must never load their .env or bunfig.toml.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;

function gitCommit(): string {
  const rev = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" });
  if (rev.status !== 0) return "unknown";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" });
  return `${rev.stdout.trim()}${dirty.stdout.trim() ? "-dirty" : ""}`;
}

export function buildBinary(outfile = `${root}dist/kitbuild`): void {
  mkdirSync(`${root}dist`, { recursive: true });
  const args = [
    // --splitting: each command's modules are a chunk of their own, loaded when it runs; start-up
    // grows with the code loaded (~14 ms per MB), so `kitbuild --version` no longer loads the builder.
    "build", "--compile", "--minify", "--bytecode", "--splitting", "--format=esm", "--reject-unresolved",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--define", `KITBUILD_COMMIT=${JSON.stringify(gitCommit())}`,
    // Workers are extra entrypoints: the binary embeds them beside main.ts.
    `${root}src/main.ts`, `${root}src/exporter/compress-worker.ts`, `${root}src/fs/copy-worker.ts`, "--outfile", outfile,
  ];
  const res = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (res.status !== 0) throw new Error(`bun build failed with exit code ${res.status}`);
}

if (import.meta.main) buildBinary();
