// Runs the main example offline: starts the local test registry with its busybox image, builds
// examples/hello with the compiled binary, and shows what it produced in out/hello.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { startTestEnv } from "./test-env.ts";

const root = new URL("..", import.meta.url).pathname;
const env = await startTestEnv();
let status = 1;
try {
  const out = `${root}out/hello`;
  rmSync(out, { recursive: true, force: true });
  const args = ["build", "--progress=plain", "--build-arg", `BASE=${env.busybox}`, "-o", `type=local,dest=${out}`, `${root}examples/hello`];
  console.error(`$ dist/kitbuild ${args.join(" ")}`);
  const res = spawnSync(`${root}dist/kitbuild`, args, { stdio: "inherit" });
  status = res.status ?? 1;
  if (status === 0) {
    console.error(`\nout/hello/app/greeting.txt: ${readFileSync(`${out}/app/greeting.txt`, "utf8").trim()}`);
    console.error(`out/hello/app/listing.txt:\n${readFileSync(`${out}/app/listing.txt`, "utf8")}`);
  }
} finally {
  await env.stop();
}
process.exitCode = status;
