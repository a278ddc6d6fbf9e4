// The build environment of one kitbuild process: the cache root and everything kept in it (content
// store, cache index, snapshots), the registry client and the executor of RUN steps. Opening it also
// cleans up what crashed kitbuild processes left behind.
import { mkdirSync } from "node:fs";
import { Claims } from "../cache/claims.ts";
import { CacheIndex } from "../cache/index.ts";
import { Leases } from "../cache/leases.ts";
import { ContentStore } from "../content/store.ts";
import { RegistryClient } from "../registry/client.ts";
import { dockerConfigCredentials } from "../registry/credentials.ts";
import { isProcessAlive } from "../util/process.ts";
import { selectSnapshotter } from "../snapshot/select.ts";
import type { Snapshotter } from "../snapshot/snapshotter.ts";
import { ImageSource } from "../source/image.ts";
import { KitError } from "../util/errors.ts";
import type { KitConfig } from "./config.ts";
import { checkIdMapping, checkRootlessFilesystem } from "./id-mapping-record.ts";
import type { Executor } from "../worker/executor.ts";
import { openExecutor } from "../worker/select.ts";

export type EnvironmentOptions = {
  config: KitConfig;
  /** The process environment, read only for docker's own settings (DOCKER_CONFIG, credential helpers on PATH). */
  env: Record<string, string | undefined>;
  insecureRegistries: readonly string[];
  /** Runs RUN steps instead of the configured executor (tests). */
  executor?: Executor;
};

export type BuildEnvironment = AsyncDisposable & {
  root: string;
  index: CacheIndex;
  claims: Claims;
  leases: Leases;
  store: ContentStore;
  snapshotter: Snapshotter;
  registry: RegistryClient;
  images: ImageSource;
  /** Runs RUN steps; it finds its runtime lazily (a build without RUN steps does not need runc). */
  executor: Executor;
  isRoot: boolean;
};

export async function openEnvironment(opts: EnvironmentOptions): Promise<BuildEnvironment> {
  const root = opts.config.root;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    // kitbuild's entry point enters a user namespace for other users; this is reached without one.
    throw new KitError("E_ROOTLESS_SETUP", "kitbuild runs its builds as root or in a user namespace of its own", {
      hint: "run the kitbuild command itself: for a user other than root it enters a user namespace first",
    });
  }
  try {
    mkdirSync(`${root}/tmp`, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new KitError("E_CACHE_ROOT", `cannot create the cache root "${root}"`, { cause: e, hint: "set KITBUILD_ROOT to a writable directory" });
  }
  checkRootlessFilesystem(root, opts.config.user);
  checkIdMapping(root, opts.config.user);
  const index = new CacheIndex(`${root}/index.db`);
  const claims = new Claims(index.db, isProcessAlive);
  const leases = new Leases(index.db, isProcessAlive);
  const store = new ContentStore(`${root}/content`);
  const snapshotter = await selectSnapshotter(root, index, opts.config.snapshotter, opts.config.inUserNamespace);
  const registry = new RegistryClient({
    insecureRegistries: opts.insecureRegistries,
    credentials: dockerConfigCredentials(opts.env),
    idleTimeoutMs: opts.config.registryIdleTimeoutMs,
  });
  // With a single id mapped, base image files of other owners are given to 0 (as podman's
  // ignore_chown_errors): only the steps that set another owner themselves fail.
  const singleId = opts.config.user.kind === "rootless" && opts.config.user.single;
  const images = new ImageSource({ registry, store, index, snapshotter, preserveOwner: isRoot && !singleId });
  const executor = opts.executor ?? openExecutor(opts.config, root);
  await cleanupAfterCrashes(executor, snapshotter, store);
  claims.sweep();
  return {
    root, index, claims, leases, store, snapshotter, registry, images, isRoot, executor,
    [Symbol.asyncDispose]: async () => {
      try {
        await executor.release();
      } finally {
        leases.releaseAll();
        index.close();
      }
    },
  };
}

async function cleanupAfterCrashes(executor: Executor, snapshotter: Snapshotter, store: ContentStore): Promise<void> {
  await executor.cleanupOrphans();
  await snapshotter.cleanupOrphans();
  // An ingest file older than a day cannot belong to a running download.
  await store.cleanIngest(24 * 3600 * 1000);
}
