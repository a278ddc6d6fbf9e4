// A build replaces itself by itself with JavaScriptCore's FTL tier off and a larger collection
// budget: same pid, arguments and environment, plus the variables; a variable already set is kept,
// and with the FTL variable set nothing is re-executed.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { tempDir } from "../harness.ts";
import { BUILD_RUNTIME_OPTIONS, withBuildRuntimeOptions } from "../../src/util/jit-tier.ts";

const SCRIPT = `
import { reexecWithBuildOptions } from ${JSON.stringify(`${import.meta.dir}/../../src/util/jit-tier.ts`)};
reexecWithBuildOptions();
console.log(JSON.stringify({ ftl: process.env.BUN_JSC_useFTLJIT, heap: process.env.BUN_JSC_largeHeapSize, args: process.argv.slice(2), extra: process.env.KITBUILD_JIT_EXTRA, pid: process.pid }));
`;

function run(env: Record<string, string>): { ftl?: string; heap?: string; args: string[]; extra?: string; samePid: boolean } {
  const script = `${tempDir()}/reexec.ts`;
  writeFileSync(script, SCRIPT);
  const { BUN_JSC_useFTLJIT: _, BUN_JSC_largeHeapSize: __, ...rest } = process.env;
  const res = Bun.spawnSync([process.execPath, script, "build", "an arg", "é"], { env: { ...rest, KITBUILD_JIT_EXTRA: "kept", ...env } });
  expect(res.exitCode).toBe(0);
  const out = JSON.parse(res.stdout.toString());
  return { ...out, samePid: out.pid === res.pid };
}

describe("reexecWithBuildOptions", () => {
  test("re-executes the same process (same pid) with the same arguments and environment, FTL off", () => {
    expect(run({})).toMatchObject({ ftl: "0", heap: String(BUILD_RUNTIME_OPTIONS.BUN_JSC_largeHeapSize), args: ["build", "an arg", "é"], extra: "kept", samePid: true });
  });

  test("a heap size the user set is kept", () => {
    expect(run({ BUN_JSC_largeHeapSize: "1234567" })).toMatchObject({ ftl: "0", heap: "1234567", samePid: true });
  });

  test("withBuildRuntimeOptions fills in only what an environment lacks", () => {
    const env: Record<string, string | undefined> = { BUN_JSC_useFTLJIT: "1" };
    withBuildRuntimeOptions(env);
    expect(env).toEqual({ ...BUILD_RUNTIME_OPTIONS, BUN_JSC_useFTLJIT: "1" });
  });

  test("a variable already set is kept, and nothing is re-executed", () => {
    expect(run({ BUN_JSC_useFTLJIT: "1" })).toMatchObject({ ftl: "1", args: ["build", "an arg", "é"], extra: "kept", samePid: true });
    expect(run({ BUN_JSC_useFTLJIT: "1" }).heap).toBeUndefined();
  });
});
