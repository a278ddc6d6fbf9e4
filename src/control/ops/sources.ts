// The source runners by identifier scheme (BuildKit's source manager: one source per scheme).
// Named contexts add oci-layout:// (and local:// sources with a directory of their own).
import type { SourceOp } from "../../llb/ops.ts";
import type { OpRunner } from "../../solver/vertex.ts";
import { KitError } from "../../util/errors.ts";
import type { BuildRef } from "../refs.ts";
import type { BuildSession } from "../session.ts";
import { gitSourceRunner } from "./source-git.ts";
import { httpSourceRunner } from "./source-http.ts";
import { imageSourceRunner } from "./source-image.ts";
import { localSourceRunner } from "./source-local.ts";
import { ociLayoutSourceRunner } from "./source-oci-layout.ts";

type SourceRunner = (session: BuildSession, op: SourceOp) => OpRunner<BuildRef>;

/** Identifier prefixes and their runners; "git+" takes any remote git clones ("git+ssh://…", "git+git@host:r.git"). */
const SOURCES: ReadonlyArray<readonly [prefix: string, runner: SourceRunner]> = [
  ["docker-image://", imageSourceRunner],
  ["local://", localSourceRunner],
  ["https://", httpSourceRunner],
  ["http://", httpSourceRunner],
  ["git://", gitSourceRunner],
  ["git+", gitSourceRunner],
  ["oci-layout://", ociLayoutSourceRunner],
];

export function sourceRunner(session: BuildSession, op: SourceOp): OpRunner<BuildRef> {
  const found = SOURCES.find(([prefix]) => op.identifier.startsWith(prefix));
  if (!found) throw new KitError("E_INTERNAL", `source "${op.identifier}" is not supported yet`);
  return found[1](session, op);
}
