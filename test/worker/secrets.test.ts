// Secrets: mounted as a file (default /run/secrets/ID, mode 0400, or the owner and mode asked for)
// or exposed as an environment variable; required unless optional; and the value found nowhere
// afterwards: not in any file of the cache root, runc's state, the exported filesystem, nor the
// build's log. Needs root and runc.
import { beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { output } from "../../src/llb/builder.ts";
import type { ExecMount } from "../../src/llb/ops.ts";
import { HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, skipBecause, testRegistry } from "../harness.ts";
import { image, roots as testRoots, run, solve } from "./graph.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `secret tests: ${NEEDS_ROOT_AND_RUNC}`);

let base = "";
beforeAll(async () => {
  if (!skip) base = `${await testRegistry()}/busybox:latest`;
});

const roots = () => testRoots("kitbuild-secrets-");

const sha256 = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest("hex");

const secretMount = (dest: string, id: string, extra: Partial<NonNullable<ExecMount["secret"]>> = {}): ExecMount => ({
  type: "secret", dest, input: -1, output: -1, readonly: true,
  secret: { id, uid: 0, gid: 0, mode: 0o400, optional: false, ...extra },
});

/** Every regular file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(`${p}/${name}`);
    else if (st.isFile() && !seen.has(`${st.dev}:${st.ino}`)) {
      seen.add(`${st.dev}:${st.ino}`); // hardlinks are read once
      if (readFileSync(p).includes(needle)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

describe.skipIf(skip)("secrets", () => {
  test("as a file and as a variable, with owners and modes; the value is nowhere afterwards", async () => {
    const r = roots();
    const fileValue = `file-secret-${randomBytes(16).toString("hex")}`;
    const envValue = `env-secret-${randomBytes(16).toString("hex")}`;
    const secretFile = `${r.work}/secret.txt`;
    writeFileSync(secretFile, fileValue);
    const script = [
      "stat -c '%a %u %g' /run/secrets/mysecret > /st",
      "sha256sum < /run/secrets/mysecret | cut -d' ' -f1 > /filesum",
      "printf %s \"$TOKEN\" | sha256sum | cut -d' ' -f1 > /envsum",
      "mount | grep /run/secrets/mysecret | grep -o 'ro,nosuid,nodev,noexec' > /opts",
    ].join("; ");
    const rootStep = run(image(base), script, {
      mounts: [secretMount("/run/secrets/mysecret", "mysecret")],
      secretEnv: [{ id: "tok", name: "TOKEN", optional: false }],
    });
    // A non-root user reads a secret mounted for it.
    const userStep = run(output(rootStep), "id -u > /tmp/uid; cat /home/user/s | sha256sum | cut -d' ' -f1 > /tmp/usersum; stat -c '%a %u %g' /home/user/s >> /tmp/uid", {
      user: "user",
      mounts: [secretMount("/home/user/s", "mysecret", { uid: 1000, gid: 1000, mode: 0o440 })],
    });
    const res = await solve(output(userStep), {
      ...r,
      exportTo: r.out,
      env: { MY_TOKEN_VAR: envValue },
      exec: { secrets: [{ id: "mysecret", file: secretFile }, { id: "tok", env: "MY_TOKEN_VAR" }] },
    });
    expect(res.error).toBeUndefined();
    const out = (p: string) => readFileSync(`${r.out}${p}`, "utf8");
    expect(out("/st")).toBe("400 0 0\n");
    expect(out("/filesum")).toBe(`${sha256(fileValue)}\n`);
    expect(out("/envsum")).toBe(`${sha256(envValue)}\n`);
    expect(out("/opts")).toBe("ro,nosuid,nodev,noexec\n");
    expect(out("/tmp/uid")).toBe("1000\n440 1000 1000\n");
    expect(out("/tmp/usersum")).toBe(`${sha256(fileValue)}\n`);
    // The mount targets were stubs only: busybox has no /run, and /home/user had no "s".
    expect(existsSync(`${r.out}/run`)).toBe(false);
    expect(existsSync(`${r.out}/home/user/s`)).toBe(false);
    for (const value of [fileValue, envValue]) {
      expect(filesContaining(r.root, value)).toEqual([]);
      expect(filesContaining(r.runcRoot, value)).toEqual([]);
      expect(filesContaining(r.out, value)).toEqual([]);
      expect(res.logs).not.toContain(value);
      expect(JSON.stringify(res.events, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v))).not.toContain(value);
    }
    // The search does find what is there: the value in the secret's own file.
    expect(filesContaining(r.work, fileValue)).toEqual([secretFile]);
  });

  test("a required secret the build was not given fails the step; an optional one is skipped", async () => {
    const r = roots();
    const required = run(image(base), "true", { mounts: [secretMount("/run/secrets/absent", "absent")] });
    const res = await solve(output(required), r);
    expect(String(res.error)).toContain('secret "absent" was not given to the build');
    const optional = run(image(base), "ls /run/secrets > /seen 2>&1 || echo none > /seen", {
      mounts: [secretMount("/run/secrets/absent", "absent", { optional: true })],
      secretEnv: [{ id: "absent", name: "ALSO_ABSENT", optional: true }],
    });
    const ok = await solve(output(optional), { ...r, exportTo: r.out });
    expect(ok.error).toBeUndefined();
    expect(readFileSync(`${r.out}/seen`, "utf8")).toBe("none\n");
    const envMissing = run(image(base), "true", { secretEnv: [{ id: "absent", name: "X", optional: false }] });
    expect(String((await solve(output(envMissing), r)).error)).toContain('secret "absent" was not given to the build');
  });

  test("a --secret whose file is missing fails before the build starts", async () => {
    const r = roots();
    const res = await solve(image(base), { ...r, exec: { secrets: [{ id: "gone", file: `${r.work}/nope` }] } });
    expect(String(res.error)).toContain(`secret "gone": cannot read "${r.work}/nope": no such file`);
  });
});
