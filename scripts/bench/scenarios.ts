// The six scenarios of issue 19, each as the same Dockerfile and context given to kitbuild and to
// BuildKit. A side's `before` runs untimed ahead of its timed commands (emptying a cache, changing
// a file, starting a daemon), its `after` untimed after them, also when they fail; every command of
// `steps` is timed (BuildKit's image tar export is `build` + `save`).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { BUILDKIT_ENV, DOCKER } from "./docker.ts";
import { KITBUILD, manyFiles, run } from "./lib.ts";
import { startPrivateDocker, type PrivateDocker } from "./private-docker.ts";

export type Side = {
  steps: string[][];
  env?: Record<string, string>;
  before?: () => void | Promise<void>;
  after?: () => void | Promise<void>;
};

export type Scenario = {
  id: string;
  title: string;
  /** The ratio (kitbuild's time / BuildKit's) to reach; undefined: keep what it is. */
  goal?: number;
  /** Untimed: makes the context and fills both tools' caches where the scenario wants them warm. */
  prepare(): void;
  kitbuild(round: number): Side;
  buildkit(round: number): Side;
  /** Timed in the same rounds as the two tools, for comparison: what bounds the scenario. */
  floor?: { title: string; side(round: number): Side };
  /** Untimed, after the last round: removes what the rounds kept (not between rounds, see B4). */
  finish?(): void;
};

/** `debianBlobUrl`: where the registry serves the Debian image's one layer. */
export type Inputs = { work: string; busybox: string; debian: string; debianBlobUrl: string; files: number };

function context(dir: string, dockerfile: string, fill?: (dir: string) => void): string {
  mkdirSync(dir, { recursive: true });
  fill?.(dir);
  writeFileSync(`${dir}/Dockerfile`, dockerfile);
  return dir;
}

const kit = (root: string, args: string[], ctx: string): Side => ({
  steps: [[KITBUILD, "build", "--progress=quiet", ...args, ctx]],
  env: { KITBUILD_ROOT: root },
});
const bk = (args: string[], ctx: string): Side => ({ steps: [[DOCKER, "build", "-q", ...args, ctx]], env: BUILDKIT_ENV });
// Only for sides whose `before` is synchronous and that have no `after`.
const warm = (side: Side) => {
  void side.before?.();
  for (const [cmd, ...args] of side.steps) run(cmd as string, args, { env: side.env });
};

function b1(i: Inputs): Scenario {
  const busy = (n: number, out: string) => `RUN i=0; while [ $i -lt ${n} ]; do i=$((i+1)); done; echo $i > ${out}`;
  const ctx = context(`${i.work}/b1`, [
    `FROM ${i.busybox} AS cpu1`, busy(400_000, "/c1"),
    `FROM ${i.busybox} AS cpu2`, busy(400_001, "/c2"),
    `FROM ${i.busybox} AS wait1`, "RUN sleep 2; echo w1 > /w1",
    `FROM ${i.busybox} AS wait2`, "RUN sleep 2.1; echo w2 > /w2",
    `FROM ${i.busybox}`, "COPY --from=cpu1 /c1 /", "COPY --from=cpu2 /c2 /", "COPY --from=wait1 /w1 /", "COPY --from=wait2 /w2 /", "",
  ].join("\n"));
  const root = `${i.work}/root-b1`;
  return {
    id: "B1", title: "4 independent stages (2 CPU-bound, 2 waiting), cold", goal: 0.7,
    prepare: () => (warm(kit(root, ["-t", "bench-b1"], ctx)), warm(bk(["-t", "bench-b1"], ctx))),
    kitbuild: () => kit(root, ["--no-cache", "-t", "bench-b1"], ctx),
    buildkit: () => bk(["--no-cache", "-t", "bench-b1"], ctx),
    // No build can take less than its longest step: the floor's ratio to BuildKit bounds B1's.
    floor: { title: "the longest step's command alone, `sleep 2.1`", side: () => ({ steps: [["sleep", "2.1"]] }) },
  };
}

/** B2 and B3 share one context of `files` small files, each tool its own cache. */
function b2b3(i: Inputs): Scenario[] {
  const ctx = context(`${i.work}/b23`, `FROM ${i.busybox}\nCOPY . /src\nRUN find /src -type f | wc -l > /count\n`, (d) => manyFiles(d, i.files));
  const root = `${i.work}/root-b23`;
  const change = (who: string, round: number) => () => writeFileSync(`${ctx}/d0/f0.txt`, `changed by ${who} in round ${round}\n`);
  return [
    {
      id: "B2", title: `no-op rebuild, ${i.files.toLocaleString("en")}-file context`, goal: 0.2,
      prepare: () => (warm(kit(root, ["-t", "bench-b2"], ctx)), warm(bk(["-t", "bench-b2"], ctx))),
      kitbuild: () => kit(root, ["-t", "bench-b2"], ctx),
      buildkit: () => bk(["-t", "bench-b2"], ctx),
    },
    {
      id: "B3", title: "one file changed in that context, `COPY . /src` + RUN", goal: 0.4,
      prepare: () => {},
      kitbuild: (r) => ({ ...kit(root, ["-t", "bench-b3"], ctx), before: change("kitbuild", r) }),
      buildkit: (r) => ({ ...bk(["-t", "bench-b3"], ctx), before: change("buildkit", r) }),
    },
  ];
}

/** B5 and B6 export the same cached image: Debian twice (~180 MB) and ~220 MB written by a RUN. */
function b5b6(i: Inputs): Scenario[] {
  const blobs = Array.from({ length: 11 }, (_, n) => `head -c 20000000 /dev/urandom > /data/blob${n}`).join(" && ");
  const ctx = context(`${i.work}/b56`, `FROM ${i.debian}\nRUN mkdir /data && ${blobs}\n`);
  const root = `${i.work}/root-b56`;
  const out = (who: string) => `${i.work}/out-${who}`;
  const fresh = (path: string) => () => rmSync(path, { recursive: true, force: true });
  const kitTar = (): Side => ({ ...kit(root, ["-o", `type=docker,dest=${out("kit")}.tar,name=bench-b5`], ctx), before: fresh(`${out("kit")}.tar`) });
  return [
    {
      id: "B5", title: "cached build + image tar export (BuildKit: `build -t` + `docker save`)",
      // Warmed by an export of its own: the layers' blobs exist, as after any earlier export.
      prepare: () => (warm(kitTar()), warm(bk(["-t", "bench-b5"], ctx))),
      kitbuild: kitTar,
      buildkit: () => ({
        steps: [...bk(["-t", "bench-b5"], ctx).steps, [DOCKER, "save", "-o", `${out("bk")}.tar`, "bench-b5"]],
        env: BUILDKIT_ENV,
        before: fresh(`${out("bk")}.tar`),
      }),
    },
    {
      id: "B6", title: "local export of a 400 MB tree (build cached)", goal: 0.4,
      prepare: () => {},
      // A new directory each round, removed only with the run's work directory: deleting ~8,400
      // files between rounds makes the next tool's file creation pay ext4's recently-deleted scan.
      kitbuild: (r) => kit(root, ["-o", `type=local,dest=${out("kit")}-${r}`], ctx),
      buildkit: (r) => bk(["-o", `type=local,dest=${out("bk")}-${r}`], ctx),
    },
  ];
}

/**
 * B4: a cold pull of the ~180 MB Debian layer and `RUN true`. Each kitbuild round gets a new root,
 * each BuildKit round a new dockerd with a new data root (private-docker.ts): emptying the user's
 * docker was not enough, docker 20.10 kept the layer where `builder prune` and `rmi` do not reach.
 * Both first build a busybox image there, untimed: the layer is cold, not the tool's first build.
 * The floor is `curl | gzip -d | tar -x` of the layer's blob from the same registry. Each round's
 * files stay until the end: deleting ~13,000 files slows the next round's file creation on ext4.
 */
function b4(i: Inputs): Scenario {
  const ctx = context(`${i.work}/b4`, `FROM ${i.debian}\nRUN true\n`);
  const warmCtx = context(`${i.work}/b4-warm`, `FROM ${i.busybox}\nRUN true\n`);
  const kept = (r: number) => `${i.work}/b4-round-${r}`;
  const sync = () => run("sync", []);
  let daemon: PrivateDocker | undefined;
  const bridge = { name: `kbb${process.pid}`.slice(0, 15), cidr: "172.30.219.1/24" };
  const bkEnv = (r: number) => ({ ...BUILDKIT_ENV, DOCKER_HOST: `unix://${kept(r)}/dockerd/sock` });
  return {
    id: "B4", title: "cold pull and unpack of one ~180 MB Debian layer + `RUN true`", goal: 0.8,
    prepare: () => {},
    kitbuild: (r) => ({
      ...kit(`${kept(r)}/kitbuild`, ["-t", "bench-b4"], ctx),
      before: () => (warm(kit(`${kept(r)}/kitbuild`, ["-t", "bench-b4-warm"], warmCtx)), sync()),
    }),
    buildkit: (r) => ({
      steps: bk(["-t", "bench-b4"], ctx).steps,
      env: bkEnv(r),
      before: async () => {
        daemon = await startPrivateDocker(`${kept(r)}/dockerd`, bridge);
        warm({ ...bk(["-t", "bench-b4-warm"], warmCtx), env: bkEnv(r) });
        sync();
      },
      after: async () => (await daemon?.stop(), (daemon = undefined)),
    }),
    floor: {
      title: "`curl \\| gzip -d \\| tar -x` of the layer",
      side: (r) => ({
        steps: [["sh", "-c", `mkdir -p "$0" && curl -fsS "$1" | gzip -d | tar -x -C "$0"`, `${kept(r)}/tar`, i.debianBlobUrl]],
        before: sync,
      }),
    },
    finish: () => {
      for (const name of readdirSync(i.work)) if (name.startsWith("b4-round-")) rmSync(`${i.work}/${name}`, { recursive: true, force: true });
    },
  };
}

/** In the order they run: B4 last, since deleting its rounds' files at its end slows file creation after it. */
export function scenarios(i: Inputs): Scenario[] {
  return [b1(i), ...b2b3(i), ...b5b6(i), b4(i)];
}
