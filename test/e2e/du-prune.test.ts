// `kitbuild du` and `kitbuild prune` with buildx's flags, on the compiled binary and a small cache
// root: a build leaves a base layer, a RUN result, a cache mount and a COPY result; each flag is run
// and what remains is read back with `du --format json`. Building needs root and runc; the usage
// errors do not.
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { expectExit, HAS_RUNC, IS_ROOT, NEEDS_ROOT_AND_RUNC, runKitbuild, skipBecause, tempDir, testRegistry } from "../harness.ts";

const skip = skipBecause(!IS_ROOT || !HAS_RUNC, `du/prune e2e tests: ${NEEDS_ROOT_AND_RUNC}`);

type Row = { ID: string; Type: string; Description: string; Size: string; Reclaimable: boolean; Parents: string[] | null };

let registry = "";
let root = "";
let ctx = "";
const env = () => ({ KITBUILD_ROOT: root });

beforeAll(async () => {
  if (skip) return;
  registry = await testRegistry();
  root = `${tempDir()}/root`;
  ctx = tempDir("kitbuild-ctx-");
  writeFileSync(`${ctx}/a`, "a file\n");
  writeFileSync(
    `${ctx}/Dockerfile`,
    `FROM ${registry}/busybox\nRUN --mount=type=cache,target=/c,id=dupr head -c 2000000 /dev/urandom > /c/data\nRUN head -c 3000000 /dev/urandom > /big\nCOPY a /a\n`,
  );
});

async function build(): Promise<void> {
  expectExit(await runKitbuild(["build", "--progress=plain", ctx], { env: env(), timeoutMs: 300_000 }), 0, "build");
}

async function du(...args: string[]): Promise<Row[]> {
  const res = await runKitbuild(["du", "--format", "json", ...args], { env: env() });
  expectExit(res, 0, `du ${args.join(" ")}`);
  return res.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Row);
}

async function prune(...args: string[]) {
  const res = await runKitbuild(["prune", "-f", ...args], { env: env(), timeoutMs: 120_000 });
  expectExit(res, 0, `prune ${args.join(" ")}`);
  return res;
}

/** go-units' sizes ("2.001MB", "12B") back to bytes, to within their four digits. */
function bytes(size: string): number {
  const m = /^([\d.]+)([kMGT]?B)$/.exec(size);
  if (!m) throw new Error(`not a size: ${size}`);
  return Number(m[1]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as Record<string, number>)[m[2] as string]!;
}

const total = (rows: Row[]) => rows.reduce((s, r) => s + bytes(r.Size), 0);
const ids = (rows: Row[]) => rows.map((r) => r.ID).sort();
const ofType = (rows: Row[], type: string) => rows.filter((r) => r.Type === type);

describe.skipIf(skip)("du with buildx's flags", () => {
  test("--format json lists every record with buildx's fields; --filter selects by type, id and until", async () => {
    await build();
    const rows = await du();
    expect(ofType(rows, "exec.cachemount").length).toBe(1);
    expect(ofType(rows, "regular").some((r) => r.Description.includes("COPY a /a"))).toBe(true);
    for (const r of rows) expect(Object.keys(r)).toEqual(["CreatedAt", "Description", "ID", "LastUsedAt", "Mutable", "Parents", "Reclaimable", "Shared", "Size", "Type", "UsageCount"]);

    expect(ids(await du("--filter", "type=exec.cachemount"))).toEqual(ids(ofType(rows, "exec.cachemount")));
    expect(ids(await du("--filter=type!=exec.cachemount"))).toEqual(ids(rows.filter((r) => r.Type !== "exec.cachemount")));
    const copy = rows.find((r) => r.Description.includes("COPY a /a")) as Row;
    expect(ids(await du("--filter", `id=${copy.ID}`))).toEqual([copy.ID]);
    expect(ids(await du("--filter", "type=regular", "--filter", "description~=COPY"))).toEqual([copy.ID]);
    expect(await du("--filter", "until=1h")).toEqual([]); // everything was used just now

    // table (today's output) and pretty (--verbose) with a filter: only the selected records.
    const table = await runKitbuild(["du", "--format", "table", "--filter", "type=exec.cachemount"], { env: env() });
    expectExit(table, 0, "du --format table");
    expect(table.stdout).toContain("exec.cachemount");
    expect(table.stdout).not.toMatch(/^\S+\s+(file|exec|layer)\s/m);
    const pretty = await runKitbuild(["du", "--format=pretty", "--filter", `id=${copy.ID}`], { env: env() });
    expect(pretty.stdout.match(/^ID:/gm)?.length).toBe(1);
    expect(pretty.stdout).toContain("Type:\t\tregular");
  }, 600_000);
});

describe.skipIf(skip)("prune with buildx's flags", () => {
  test("--filter type=exec.cachemount removes the cache mount and nothing else", async () => {
    await build();
    const before = await du();
    await prune("--filter", "type=exec.cachemount");
    const after = await du();
    expect(ofType(after, "exec.cachemount")).toEqual([]);
    expect(ids(after)).toEqual(ids(before.filter((r) => r.Type !== "exec.cachemount")));
  }, 600_000);

  test("--filter id= removes that record alone; --verbose prints it in detail", async () => {
    await build();
    const before = await du();
    const copy = before.find((r) => r.Description.includes("COPY a /a")) as Row;
    const res = await prune("--verbose", "--filter", `id=${copy.ID}`);
    expect(res.stdout).toContain(`ID:\t\t${copy.ID}\n`);
    expect(res.stdout).toContain(`Description:\t${copy.Description}\n`);
    expect(ids(await du())).toEqual(ids(before.filter((r) => r.ID !== copy.ID)));
  }, 600_000);

  test("--max-used-space removes least recently used records until the cache fits", async () => {
    await build();
    const before = await du();
    await prune("--max-used-space", "100GB");
    expect(ids(await du())).toEqual(ids(before));
    // A limit 1 MB under the total: something goes, the rest fits (sizes are read back to 4 digits).
    const limit = Math.floor(total(before)) - 1_000_000;
    await prune("--max-used-space", String(limit));
    const after = await du();
    expect(after.length).toBeLessThan(before.length);
    expect(total(after)).toBeLessThanOrEqual(limit * 1.001);
    expect(ofType(after, "regular").length).toBeGreaterThan(0);
  }, 600_000);

  test("--reserved-space and its deprecated alias --keep-storage keep that much cache", async () => {
    await build();
    const before = await du();
    await prune("--reserved-space", "100GB");
    expect(ids(await du())).toEqual(ids(before));
    const res = await prune("--keep-storage", "100GB");
    expect(res.stderr).toContain("Flag --keep-storage has been deprecated, keep-storage flag has been changed to reserved-space");
    expect(ids(await du())).toEqual(ids(before));
    await prune("--keep-storage", "1MB");
    const after = await du();
    expect(after.length).toBeLessThan(before.length);
  }, 600_000);

  test("--min-free-space prunes only when the filesystem has less free space than asked", async () => {
    await build();
    const before = await du();
    await prune("--min-free-space", "1MB"); // far more than 1 MB is free
    expect(ids(await du())).toEqual(ids(before));
    await prune("--min-free-space", "1000000TB"); // never free: everything prunable goes
    const after = await du();
    // What stays without --all: base layers and blobs (internal).
    expect(after.filter((r) => r.Type === "exec.cachemount" || r.Description.includes("RUN") || r.Description.includes("COPY"))).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
  }, 600_000);
});

describe("du and prune refuse what they cannot honour (exit 2)", () => {
  const cases: Array<[string[], string]> = [
    [["du", "--filter", "type=bogus"], 'unknown record type "bogus" in --filter'],
    [["du", "--filter", "colour=red"], 'unknown filter "colour"'],
    [["du", "--filter", "until"], 'bad format of filter "until" (expected name=value)'],
    [["du", "--format", "{{.ID}}"], 'unsupported --format "{{.ID}}"'],
    [["du", "--verbose", "--format", "json"], "--format and --verbose cannot be used together"],
    [["prune", "-f", "--filter", "type=layers"], 'unknown record type "layers" in --filter'],
    [["prune", "-f", "--filter", "until=soon"], `"until" filter expects a duration (e.g., '24h'), got "until=soon"`],
    [["prune", "-f", "--filter", "type=regular", "--filter", "type=internal"], '"type" filter expects only one value'],
    [["prune", "-f", "--filter", "parents=x"], 'filter "parents" is not supported by kitbuild'],
    [["prune", "-f", "--max-used-space", "lots"], 'invalid argument "lots" for "--max-used-space" flag'],
    [["prune", "-f", "--min-free-space", "1XB"], 'invalid argument "1XB" for "--min-free-space" flag'],
    [["prune", "-f", "--reserved-space", "-1"], 'invalid argument "-1" for "--reserved-space" flag'],
    [["prune", "-f", "--keep-storage", "1GB", "--reserved-space", "1GB"], "--keep-storage and --reserved-space cannot be used together"],
    [["prune", "-f", "--max-used-spac", "1GB"], "unknown flag: --max-used-spac"],
  ];
  for (const [args, message] of cases) {
    test(`kitbuild ${args.join(" ")}`, async () => {
      const res = await runKitbuild(args, { env: { KITBUILD_ROOT: `${tempDir()}/root` } });
      expectExit(res, 2, args.join(" "));
      expect(res.stderr).toContain(message);
      expect(res.stderr).not.toMatch(/^\s+at /m);
    });
  }
});
