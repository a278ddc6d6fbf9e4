// One build's state shared by its op runners: the environment, the context directory, the target
// platform, image resolutions (a tag is resolved once per build), and what RUN steps share
// (secrets, ssh agents, entitlements, log limits, cache mounts).
import { randomBytes } from "node:crypto";
import { formatPlatform } from "../oci/platform.ts";
import type { Platform } from "../oci/types.ts";
import { formatReference, type Reference } from "../registry/reference.ts";
import type { ResolvedImage } from "../source/image.ts";
import type { ExecServices } from "../worker/runc/exec-services.ts";
import type { BuildEnvironment } from "./environment.ts";

export class BuildSession {
  readonly id = randomBytes(8).toString("hex");
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();

  constructor(
    readonly env: BuildEnvironment,
    readonly contextDir: string,
    readonly platform: Platform,
    private readonly signal: AbortSignal,
    readonly exec: ExecServices,
  ) {}

  resolveImage(ref: Reference, platform: Platform): Promise<ResolvedImage> {
    const key = `${formatReference(ref)} ${formatPlatform(platform)}`;
    let p = this.resolved.get(key);
    if (!p) {
      p = this.env.images.resolve(ref, platform, this.signal);
      this.resolved.set(key, p);
      // A pinned reference resolves to the same image: remember it under that name too.
      p.then((img) => this.resolved.set(`${formatReference(img.ref)} ${formatPlatform(platform)}`, p as Promise<ResolvedImage>)).catch(() => {});
    }
    return p;
  }
}
