// What every dispatcher needs besides the stage: the escape token, the shared context source,
// metadata for the vertices it creates, and errors that point at the instruction.
import type { Output } from "../../../llb/builder.ts";
import type { OpMetadata } from "../../../llb/ops.ts";
import type { Location } from "../instructions/types.ts";
import type { StageState } from "./state.ts";

export type StepContext = {
  escapeToken: string;
  /** The build context as a graph source (one per build). */
  context(): Output;
  /** A stage by name or index, for COPY --from and FROM <stage>; undefined when it names an image. */
  stage(ref: string): StageState | undefined;
  /** An image used directly by COPY --from=IMAGE. */
  image(ref: string): Output;
  meta(name: string, location: Location): OpMetadata;
  unsupported(what: string, hint: string): Error;
};
