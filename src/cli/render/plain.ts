// The plain renderer: BuildKit's `--progress=plain` format, written to stderr as events arrive.
//   #5 [2/4] WORKDIR /app      #8 0.123 output line      #8 DONE 0.3s      #5 CACHED
import type { ProgressEvent, StatusEvent } from "../../util/progress.ts";
import { formatBytes } from "../../util/units.ts";
import { duration, type Renderer, Trace, type VertexTrace } from "./trace.ts";

export class PlainRenderer implements Renderer {
  readonly trace = new Trace();
  private current: VertexTrace | undefined;
  private first = true;

  constructor(private readonly write: (text: string) => void) {}

  event(e: ProgressEvent): void {
    const v = this.trace.apply(e);
    if (e.type === "vertex") {
      if (v.started === undefined && v.completed === undefined) return;
      this.switchTo(v);
      if (v.completed !== undefined) this.complete(v);
      return;
    }
    if (e.type === "log") {
      const lines = this.trace.logLines(v, e.data, e.timestamp);
      if (lines.length > 0) this.switchTo(v);
      for (const l of lines) this.line(v, l);
      return;
    }
    if (e.type === "warning") {
      this.switchTo(v);
      this.line(v, `WARN: ${e.message}`);
      return;
    }
    if (e.type === "note") {
      this.switchTo(v);
      this.line(v, e.text);
      return;
    }
    if (e.completed !== undefined) {
      this.switchTo(v);
      this.line(v, statusText(e));
    }
  }

  private switchTo(v: VertexTrace): void {
    if (this.current === v) return;
    if (this.current && this.current.completed === undefined) this.write(`#${this.current.index} ...\n`);
    if (!this.first) this.write("\n");
    this.first = false;
    this.current = v;
    this.write(`#${this.trace.number(v)} ${v.name}\n`);
  }

  private line(v: VertexTrace, text: string): void {
    this.write(`#${v.index} ${text}\n`);
  }

  private complete(v: VertexTrace): void {
    for (const l of this.trace.flushPartial(v, v.completed ?? Date.now())) this.line(v, l);
    if (v.canceled) this.line(v, "CANCELED");
    else if (v.error) this.line(v, `ERROR: ${v.error}`);
    else if (v.cached) this.line(v, "CACHED");
    else this.line(v, `DONE ${duration(v)}`);
    this.current = undefined;
  }

  close(): void {
    const report = this.trace.errorReport();
    if (report) this.write(`${this.first ? "" : "\n"}${report}`);
  }
}

export function statusText(s: StatusEvent): string {
  let bytes = "";
  if (s.total) bytes = ` ${formatBytes(s.current)} / ${formatBytes(s.total)}`;
  else if (s.current) bytes = ` ${formatBytes(s.current)}`;
  let tm = "";
  const end = s.completed ?? Date.now();
  if (s.started !== undefined && end - s.started > 10) tm = ` ${((end - s.started) / 1000).toFixed(1)}s`;
  return `${s.id}${bytes}${tm}${s.completed !== undefined ? " done" : ""}`;
}
