// What every dispatcher needs besides its stage: the lexer, the global and --build-arg values,
// the proxy variables and SOURCE_DATE_EPOCH, the shared build-context source, and metadata (name,
// Dockerfile location) for the vertices it creates.
import type { Output } from "../../../llb/builder.ts";
import type { OpMetadata } from "../../../llb/ops.ts";
import type { Platform } from "../../../oci/types.ts";
import type { Location } from "../instructions/types.ts";
import type { EnvGetter, ShellLex } from "../shell/lex.ts";

export type DispatchContext = {
  escapeToken: string;
  lex: ShellLex;
  /** The ARGs before the first FROM (and the platform ARGs), inherited by a bare `ARG NAME`. */
  globalArgs: EnvGetter;
  buildArgs: Record<string, string>;
  usedBuildArgs: Set<string>;
  /** HTTP_PROXY and friends given as build args: in RUN's environment, never in a cache key. */
  proxyEnv: Record<string, string> | undefined;
  /** SOURCE_DATE_EPOCH in seconds, when given. */
  epoch: number | undefined;
  targetPlatform: Platform;
  /** The network of a RUN without --network: sandbox, or the build's --network. */
  defaultNetwork: "sandbox" | "host" | "none";
  /** /etc/hosts entries of every RUN (the build's --add-host). */
  extraHosts: ReadonlyArray<{ host: string; ip: string }>;
  /** Resource limits and /dev/shm size of every RUN (the build's --ulimit, --shm-size). */
  ulimits: ReadonlyArray<{ name: string; soft: number; hard: number }>;
  shmSize: number | undefined;
  /** The build context as a graph source (one per build). */
  buildContext(): Output;
  meta(name: string, location: Location, ignoreCache?: boolean): OpMetadata;
};
