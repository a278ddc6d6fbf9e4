// Progress renderers turn events into output; `createRenderer` picks one for --progress.
import type { ProgressEvent } from "../../util/progress.ts";
import type { ProgressMode } from "../build-flags.ts";
import { PlainRenderer } from "./plain.ts";
import { RawJsonRenderer } from "./rawjson.ts";
import { TtyRenderer } from "./tty.ts";
import { type Renderer, Trace } from "./trace.ts";

export type RenderTargets = {
  stderr: (text: string) => void;
  stdout: (text: string) => void;
  /** Asked only for --progress=auto: a build that prints nothing never makes the stderr stream. */
  stderrIsTTY: () => boolean;
  columns: () => number;
};

export function createRenderer(mode: ProgressMode, t: RenderTargets): Renderer {
  if (mode === "auto") mode = t.stderrIsTTY() ? "tty" : "plain";
  if (mode === "tty") return new TtyRenderer(t.stderr, t.columns);
  if (mode === "plain") return new PlainRenderer(t.stderr);
  if (mode === "rawjson") return new RawJsonRenderer(t.stdout);
  // quiet and none (buildx's name for no progress output) alike.
  return new QuietRenderer(t.stderr);
}

/** Prints nothing while building; on failure, the failed steps' logs. */
class QuietRenderer implements Renderer {
  readonly trace = new Trace();
  constructor(private readonly write: (text: string) => void) {}
  event(e: ProgressEvent): void {
    const v = this.trace.apply(e);
    if (e.type === "log") this.trace.logLines(v, e.data, e.timestamp);
  }
  close(): void {
    // Nothing is written after a build that did not fail: making process.stderr loads node's tty
    // and stream modules (the first write took 10 ms in a compiled program that had loaded
    // neither), which a quiet no-op rebuild has no other use for.
    const report = this.trace.errorReport();
    if (report !== "") this.write(report);
  }
}
