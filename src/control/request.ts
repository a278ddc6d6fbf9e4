// What one build is asked to do, grouped as BuildKit's SolveOpt groups it: each stage of a build
// receives its own group unchanged (the frontend its attributes, RUN steps the session's
// attachables, the solver its options, the exporters theirs), so a new option is added to one
// group and travels to its stage without being copied field by field.
import type { OutputSpec } from "../exporter/image-options.ts";
import type { Platform } from "../oci/types.ts";
import type { ExtraHost } from "../worker/executor.ts";
import type { Entitlement } from "../worker/session/exec-services.ts";
import type { SecretSource } from "../worker/session/secrets.ts";
import type { SshSource } from "../worker/session/ssh-agents.ts";
import type { AttestationOptions } from "./attestation-options.ts";
import type { KitConfig } from "./config.ts";
import type { NamedContextSpec } from "./named-contexts.ts";

/** What the Dockerfile frontend reads (BuildKit's FrontendAttrs and local context). */
export type FrontendAttrs = {
  /** A directory, a git or http(s) URL, or "-" (stdin: see contextStdin); see source/remote-context.ts. */
  contextDir: string;
  /** The bytes of stdin when the context is "-" (a tar archive, or a Dockerfile). */
  contextStdin?: AsyncIterable<Uint8Array>;
  /** Path of the Dockerfile; undefined means CONTEXT/Dockerfile. */
  dockerfilePath: string | undefined;
  /** The Dockerfile's text when it came on stdin (-f -). */
  dockerfileText: string | undefined;
  buildArgs: Record<string, string>;
  target: string | undefined;
  /** Stages whose steps skip the cache (--no-cache-filter). */
  noCacheFilter: string[];
  /** --network host|none: the mode of every RUN without its own --network (undefined: the sandbox). */
  forceNetwork?: "host" | "none";
  /** --add-host entries, host-gateway already resolved to an address. */
  extraHosts?: ExtraHost[];
  /** --ulimit TYPE=SOFT[:HARD] of every RUN (-1: unlimited). */
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  /** --shm-size in bytes: /dev/shm of every RUN. */
  shmSize?: number;
  /** --pull: resolve every image in the registry, never in kitbuild's image store (BuildKit's image-resolve-mode=pull). */
  pull?: boolean;
  /** --build-context NAME=VALUE, by the name's familiar form. */
  namedContexts?: Record<string, NamedContextSpec>;
  /** --platform, normalized and without duplicates; undefined is the host's platform alone. */
  platforms?: Platform[];
};

/** Every output of the build and the files written about it (BuildKit's Exports). */
export type ExportOptions = {
  outputs: OutputSpec[];
  /** Labels added to the image config (--label). */
  labels: Record<string, string>;
  iidFile: string | undefined;
  metadataFile: string | undefined;
  /** --provenance, --sbom, --attest (with buildx's default provenance for pushed images applied). */
  attest?: AttestationOptions;
};

/**
 * A cache to import from or export to (BuildKit's CacheOptionsEntry: a type such as registry,
 * local or inline, and its attributes). Nothing reads or writes remote caches yet: the build
 * passes empty lists until the remote-cache issue fills them.
 */
export type CacheImport = { type: string; attrs: Record<string, string> };
export type CacheExport = { type: string; attrs: Record<string, string> };

/** What RUN steps may use from the caller (BuildKit's session attachables and entitlements). */
export type SessionAttachables = {
  secrets: SecretSource[];
  ssh: SshSource[];
  allow: Entitlement[];
};

/** How the graph is solved. */
export type SolveOptions = {
  noCache: boolean;
  maxParallelism: number;
  /** Explain every cache miss (--debug-cache; KITBUILD_DEBUG_CACHE=1 reaches it through the config). */
  debugCache: boolean;
};

/** How registries are reached. */
export type RegistryOptions = { insecureRegistries: string[] };

export type BuildRequest = {
  frontend: FrontendAttrs;
  exports: ExportOptions;
  cacheImports: CacheImport[];
  cacheExports: CacheExport[];
  session: SessionAttachables;
  solve: SolveOptions;
  registry: RegistryOptions;
  env: Record<string, string | undefined>;
  config: KitConfig;
  /** Writes bytes to standard output (for `-o type=tar,dest=-`). */
  stdout: (chunk: Uint8Array) => Promise<void>;
};

/** `kitbuild debug`: a conversion without solving needs only the frontend's and registry's groups. */
export type DebugRequest = {
  frontend: FrontendAttrs;
  registry: RegistryOptions;
  env: Record<string, string | undefined>;
  config: KitConfig;
};
