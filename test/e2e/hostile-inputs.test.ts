// Inputs a hostile or careless user gives the compiled binary: context symlinks pointing out of the
// context, a context path that does not exist, a failure that is a bug, file names that are not
// UTF-8, and Dockerfiles of 20 MB.
// Each ends in a clear message and exit code, never a stack trace (unless --debug asks for it).
// Needs root (the snapshotter mounts overlayfs); no registry or runc (the builds are FROM scratch).
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { expectExit, IS_ROOT, NEEDS_ROOT, runKitbuild, skipBecause, tempDir } from "../harness.ts";

const skip = skipBecause(!IS_ROOT, `hostile input tests: ${NEEDS_ROOT}`);

/** A line of a JS stack trace ("    at fn (file:1:2)"). */
const STACK_LINE = /^\s+at .+/m;

function build(args: string[], root: string, opts: Parameters<typeof runKitbuild>[1] = {}) {
  return runKitbuild(["build", "--progress=plain", ...args], { ...opts, env: { KITBUILD_ROOT: root, ...opts.env } });
}

describe.skipIf(skip)("hostile inputs (compiled binary)", () => {
  test("a COPY source symlink pointing out of the context is followed inside it: not found, exit 1, no stack trace", async () => {
    const work = tempDir();
    const ctx = `${work}/ctx`;
    mkdirSync(ctx);
    mkdirSync(`${work}/outside`);
    writeFileSync(`${work}/outside/secret`, "secret\n");
    writeFileSync(`${ctx}/inside.txt`, "inside\n");
    symlinkSync("/etc/passwd", `${ctx}/passwd`);
    symlinkSync("../outside", `${ctx}/up`);
    symlinkSync("../outside/secret", `${ctx}/secret`);
    symlinkSync("/inside.txt", `${ctx}/abs`);
    const root = `${work}/root`;
    for (const [src, target] of [["passwd", "/etc/passwd"], ["up", "/outside"], ["secret", "/outside/secret"], ["up/secret", undefined]] as const) {
      writeFileSync(`${ctx}/Dockerfile`, `FROM scratch\nCOPY ${src} /x\n`);
      const res = await build(["-o", `type=local,dest=${work}/out`, ctx], root);
      expectExit(res, 1, `COPY ${src}`);
      expect(res.stderr).toContain(`"/${src}" not found`);
      if (target) expect(res.stderr).toContain(`symbolic link to "${target}"`);
      expect(res.stderr).not.toContain("internal error");
      expect(res.stderr).not.toMatch(STACK_LINE);
    }
    // An absolute target is taken from the context's root, as BuildKit does.
    writeFileSync(`${ctx}/Dockerfile`, "FROM scratch\nCOPY abs /x\n");
    const ok = await build(["-o", `type=local,dest=${work}/out`, ctx], root);
    expectExit(ok, 0);
    expect(readFileSync(`${work}/out/x`, "utf8")).toBe("inside\n");
  }, 120_000);

  test('a build context that does not exist fails with path "..." not found and exit 1, before building', async () => {
    const work = tempDir();
    writeFileSync(`${work}/Dockerfile`, "FROM scratch\nCOPY Dockerfile /\n");
    const missing = `${work}/no/such/dir`;
    for (const args of [["-f", `${work}/Dockerfile`, missing], [missing]]) {
      const res = await build(args, `${work}/root`);
      expectExit(res, 1, args.join(" "));
      expect(res.stderr).toContain(`path "${missing}" not found`);
      expect(res.stderr).not.toContain("load build definition");
      expect(res.stderr).not.toMatch(STACK_LINE);
    }
    // `kitbuild PATH` is `kitbuild build PATH`.
    const short = await runKitbuild([missing], { env: { KITBUILD_ROOT: `${work}/root` } });
    expectExit(short, 1);
    expect(short.stderr).toContain(`path "${missing}" not found`);
    const file = await build(["-f", `${work}/Dockerfile`, `${work}/Dockerfile`], `${work}/root`);
    expectExit(file, 1);
    expect(file.stderr).toContain(`"${work}/Dockerfile" is not a directory`);
  }, 60_000);

  test("every subcommand refuses a flag it does not take and surplus arguments (exit 2), before doing anything", async () => {
    const root = tempDir();
    // Every command --help lists, so a new subcommand is covered without editing this test.
    const commands = await listedCommands([]);
    expect(commands).toEqual(expect.arrayContaining(["build", "du", "prune", "debug"]));
    const debugCommands = (await listedCommands(["debug"])).map((c) => ["debug", c]);
    const unknownFlag = [...commands.filter((c) => c !== "debug").map((c) => [c]), ...debugCommands].map((c) => [...c, "--no-such-flag"]);
    const surplus = [["du", "x"], ["prune", "-f", "--keep-storge", "1GB"], ["prune", "-f", "extra"], ["version", "x"], ["logout", "a", "b"], ["login", "-u"], ["debug", "llb", "--push", "."]];
    for (const args of [...unknownFlag, ...surplus]) {
      const res = await runKitbuild(args, { env: { KITBUILD_ROOT: root } });
      expectExit(res, 2, args.join(" "));
      expect(res.stderr).toMatch(/^ERROR: (unknown (shorthand )?flag|"kitbuild \w+" accepts|flag needs an argument)/m);
      expect(res.stderr).not.toMatch(STACK_LINE);
    }
  });

  /** The subcommands `kitbuild [PARENT] --help` lists under COMMANDS. */
  async function listedCommands(parent: string[]): Promise<string[]> {
    const help = await runKitbuild([...parent, "--help"], { env: { NO_COLOR: "1" } });
    expectExit(help, 0);
    const text = (help.stdout + help.stderr).replace(/\x1b\[[0-9;]*m/g, "");
    const section = text.split(/^COMMANDS$/m)[1] ?? "";
    return [...section.matchAll(/^\s+([a-z][\w-]*)\s{2,}\S/gm)].map((m) => m[1]!);
  }

  test("an internal error says it is a bug and how to get the trace; the trace is printed only with --debug", async () => {
    const work = tempDir();
    // KITBUILD_USERNS is kitbuild's own hand-off to a re-run of itself: garbage there is a bug's symptom.
    const env = { KITBUILD_ROOT: `${work}/root`, KITBUILD_USERNS: "garbage" };
    const plain = await runKitbuild(["du"], { env });
    expectExit(plain, 1);
    expect(plain.stderr).toContain("internal error: ");
    expect(plain.stderr).toContain("this is a bug in kitbuild");
    expect(plain.stderr).toContain("--debug");
    expect(plain.stderr).not.toMatch(STACK_LINE);
    for (const args of [["--debug", "du"], ["-D", "du"], ["du", "--debug"]]) {
      const debug = await runKitbuild(args, { env });
      expectExit(debug, 1, args.join(" "));
      expect(debug.stderr).toContain("internal error: ");
      expect(debug.stderr).toMatch(STACK_LINE);
    }
    const viaEnv = await runKitbuild(["du"], { env: { ...env, KITBUILD_DEBUG: "1" } });
    expect(viaEnv.stderr).toMatch(STACK_LINE);
    // --debug is taken by every command, so it is never an unknown flag of `build`.
    writeFileSync(`${work}/Dockerfile`, "FROM scratch\nCOPY Dockerfile /\n");
    const ok = await build(["--debug", "-o", `type=local,dest=${work}/out`, work], `${work}/root`);
    expectExit(ok, 0);
    expect(readFileSync(`${work}/out/Dockerfile`, "utf8")).toContain("FROM scratch");
  }, 60_000);

  test("a context file name that is not UTF-8 is a clear error showing its bytes; left out by .dockerignore, the build works", async () => {
    const work = tempDir();
    const ctx = `${work}/ctx`;
    mkdirSync(ctx);
    writeFileSync(`${ctx}/Dockerfile`, "FROM scratch\nCOPY . /\n");
    writeFileSync(`${ctx}/good.txt`, "good\n");
    writeFileSync(Buffer.concat([Buffer.from(`${ctx}/bad`), Buffer.from([0xff, 0xfe]), Buffer.from("name.txt")]), "bad\n");
    const res = await build(["-o", `type=local,dest=${work}/out`, ctx], `${work}/root`);
    expectExit(res, 1);
    expect(res.stderr).toContain(`file name is not valid UTF-8: "${ctx}/bad\\xff\\xfename.txt"`);
    expect(res.stderr).not.toContain("internal error");
    expect(res.stderr).not.toMatch(STACK_LINE);
    writeFileSync(`${ctx}/.dockerignore`, "bad*\n");
    const ok = await build(["-o", `type=local,dest=${work}/out`, ctx], `${work}/root`);
    expectExit(ok, 0);
    expect(readFileSync(`${work}/out/good.txt`, "utf8")).toBe("good\n");
  }, 60_000);

  test("a Dockerfile of 20 MB of comments converts (parsing is linear in its size)", async () => {
    const work = tempDir();
    writeFileSync(`${work}/Dockerfile`, bigDockerfile("FROM scratch\n", (n) => `# comment line ${n} with a few words in it\n`, "ENV AFTER=comments\n"));
    const res = await runKitbuild(["debug", "image-config", work], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 280_000 });
    expectExit(res, 0);
    expect((JSON.parse(res.stdout) as { config: { Env?: string[] } }).config.Env).toContain("AFTER=comments");
  }, 300_000);

  test("a Dockerfile of 20 MB of ENV lines converts (each ENV costs the same, however many came before)", async () => {
    const work = tempDir();
    const text = bigDockerfile("FROM scratch\n", (n) => `ENV K${n}=v${n}\n`, "");
    expect(text.split("\n").length).toBeGreaterThan(1_000_000);
    writeFileSync(`${work}/Dockerfile`, text);
    const res = await runKitbuild(["debug", "llb", work], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 280_000 });
    expectExit(res, 0);
    expect(res.stdout.length).toBeGreaterThan(0);
    // The values themselves, on a smaller file: the image config has every variable in order.
    writeFileSync(`${work}/Dockerfile`, `FROM scratch\n${Array.from({ length: 20_000 }, (_, n) => `ENV K${n % 5000}=v${n}\n`).join("")}`);
    const config = await runKitbuild(["debug", "image-config", work], { env: { KITBUILD_ROOT: `${work}/root` }, timeoutMs: 280_000 });
    expectExit(config, 0);
    const env = (JSON.parse(config.stdout) as { config: { Env: string[] } }).config.Env;
    // PATH first (every Linux stage has it), then each key where it was first set, with its last value.
    expect(env.length).toBe(5001);
    expect(env[0]).toStartWith("PATH=");
    expect(env[1]).toBe("K0=v15000");
    expect(env.at(-1)).toBe("K4999=v19999");
  }, 300_000);
});

/** `head`, then `line(n)` for n = 0, 1, … until the text reaches 20 MiB, then `tail`. */
function bigDockerfile(head: string, line: (n: number) => string, tail: string): string {
  const parts = [head];
  let size = head.length;
  for (let n = 0; size < 20 << 20; n++) {
    const l = line(n);
    parts.push(l);
    size += l.length;
  }
  parts.push(tail);
  return parts.join("");
}
