// What RUN steps of one build share beyond the snapshots: the secrets and ssh agents the build was
// given, the entitlements it was granted (--allow), and the cache-mount store: BuildKit's session
// attachables, the same whichever executor runs the steps.
// Created once per build; disposing it stops the ssh agents it started.
import type { CacheIndex } from "../../cache/index.ts";
import { KitError } from "../../util/errors.ts";
import { CacheMounts } from "../../cache/cache-mounts.ts";
import { SecretStore, type SecretSource } from "./secrets.ts";
import { SshAgents, type SshSource } from "./ssh-agents.ts";

export const ENTITLEMENTS = ["network.host", "security.insecure"] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

export type ExecOptions = {
  secrets: readonly SecretSource[];
  ssh: readonly SshSource[];
  allow: readonly Entitlement[];
  /** Where --secret env= and --ssh default read their values. */
  env: Record<string, string | undefined>;
};

export class ExecServices implements AsyncDisposable {
  readonly secrets: SecretStore;
  readonly ssh: SshAgents;
  private readonly allowed: ReadonlySet<Entitlement>;
  private mounts: CacheMounts | undefined;

  constructor(opts: ExecOptions) {
    this.secrets = new SecretStore(opts.secrets, opts.env);
    this.ssh = new SshAgents(opts.ssh, { env: opts.env });
    this.allowed = new Set(opts.allow);
  }

  allows(e: Entitlement): boolean {
    return this.allowed.has(e);
  }

  /** The cache-mount store of the build's cache root, opened on first use. */
  cacheMounts(env: { root: string; index: CacheIndex }, isAlive: (pid: number) => boolean): CacheMounts {
    this.mounts ??= new CacheMounts(env.root, env.index.db, isAlive);
    return this.mounts;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.ssh[Symbol.asyncDispose]();
  }
}

/** BuildKit's refusal of a step that needs an entitlement the build was not granted. */
export function entitlementError(e: Entitlement): KitError {
  return new KitError("E_RUN_ENTITLEMENT", `${e} is not allowed`, {
    hint: `grant it with --allow ${e} if you trust this Dockerfile`,
  });
}
