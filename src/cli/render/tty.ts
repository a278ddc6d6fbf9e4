// The tty renderer: BuildKit's interactive view, redrawn in place ten times a second.
//   [+] Building 1.2s (5/9)
//    => [internal] load build definition from Dockerfile           0.0s
//    => [4/4] RUN make                                             3.1s
//    => => # last lines of output …
import type { ProgressEvent } from "../../util/progress.ts";
import { statusText } from "./plain.ts";
import { duration, type Renderer, Trace, type VertexTrace } from "./trace.ts";

const LOG_LINES_SHOWN = 6;
const REDRAW_MS = 100;

export class TtyRenderer implements Renderer {
  readonly trace = new Trace();
  private height = 0;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly liveLogs = new Map<string, string[]>();

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: () => number,
  ) {
    this.timer = setInterval(() => this.draw(false), REDRAW_MS);
    this.timer.unref?.();
  }

  event(e: ProgressEvent): void {
    const v = this.trace.apply(e);
    if (e.type === "log") {
      const shown = this.liveLogs.get(v.id) ?? [];
      shown.push(...this.trace.logLines(v, e.data, e.timestamp).map((l) => l.replace(/^\S+ /, "")));
      this.liveLogs.set(v.id, shown.slice(-LOG_LINES_SHOWN));
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.draw(true);
    const report = this.trace.errorReport();
    if (report) this.write(report);
  }

  private draw(final: boolean): void {
    const width = Math.max(40, this.columns());
    const visible = this.trace.order.filter((v) => v.started !== undefined || v.completed !== undefined);
    const done = visible.filter((v) => v.completed !== undefined).length;
    const elapsed = ((Date.now() - this.trace.startTime) / 1000).toFixed(1);
    const lines = [`[+] Building ${elapsed}s (${done}/${visible.length})${final ? " FINISHED" : ""}`];
    for (const v of visible) lines.push(...this.vertexLines(v, width));
    let out = this.height > 0 ? `\x1b[${this.height}A\r` : "";
    for (const l of lines) out += `\x1b[2K${l}\n`;
    out += "\x1b[J";
    this.height = lines.length;
    this.write(out);
  }

  private vertexLines(v: VertexTrace, width: number): string[] {
    const prefix = v.cached ? "CACHED " : v.error && !v.canceled ? "ERROR " : v.canceled ? "CANCELED " : "";
    const out = [fit(` => ${prefix}${v.name}`, duration(v), width)];
    for (const s of v.statuses.values()) out.push(fit(` => => ${statusText(s).replace(/ [\d.]+s( done)?$/, "$1")}`, "", width));
    if (v.completed === undefined) for (const l of this.liveLogs.get(v.id) ?? []) out.push(fit(` => => # ${l}`, "", width));
    return out;
  }
}

/** Left text and a right-aligned time on one line, cut to the terminal width. */
function fit(left: string, right: string, width: number): string {
  const room = width - right.length - 2;
  const cut = left.length > room ? `${left.slice(0, Math.max(0, room - 1))}…` : left;
  return right ? `${cut.padEnd(room)}  ${right}` : cut.slice(0, width - 1);
}
