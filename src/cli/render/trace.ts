// What the renderers remember about each vertex: its number, name, times, statuses and the last
// lines of its output (for the error report of a failed step).
import type { ProgressEvent, StatusEvent, VertexEvent } from "../../util/progress.ts";

const KEPT_LOG_LINES = 10;

/** A progress renderer: turns events into output. */
export interface Renderer {
  readonly trace: Trace;
  event(e: ProgressEvent): void;
  /** Final output (the failed steps' logs); called once the build ended either way. */
  close(): void;
}

export type VertexTrace = {
  id: string;
  index: number;
  name: string;
  started?: number;
  completed?: number;
  cached: boolean;
  error?: string;
  canceled: boolean;
  statuses: Map<string, StatusEvent>;
  /** Complete output lines, each prefixed with its time since the vertex started. */
  lastLines: string[];
  partial: string;
  /** When the unfinished last line began: a line is timed by its first byte, as in BuildKit. */
  partialSince: number;
  /** Streaming, so a character split across two chunks is decoded whole. */
  decoder: TextDecoder;
};

export class Trace {
  readonly vertices = new Map<string, VertexTrace>();
  readonly order: VertexTrace[] = [];
  private next = 0;
  readonly startTime = Date.now();

  vertex(id: string, name = ""): VertexTrace {
    let v = this.vertices.get(id);
    if (!v) {
      v = { id, index: 0, name, cached: false, canceled: false, statuses: new Map(), lastLines: [], partial: "", partialSince: 0, decoder: new TextDecoder() };
      this.vertices.set(id, v);
      this.order.push(v);
    }
    return v;
  }

  /** Numbers a vertex the first time it is shown, as BuildKit's #N. */
  number(v: VertexTrace): number {
    if (v.index === 0) v.index = ++this.next;
    return v.index;
  }

  apply(e: ProgressEvent): VertexTrace {
    const v = this.vertex(e.type === "vertex" ? e.id : e.vertex, e.type === "vertex" ? e.name : "");
    if (e.type === "vertex") applyVertex(v, e);
    else if (e.type === "status") v.statuses.set(e.id, e);
    return v;
  }

  /** Splits a log chunk into complete lines with their timestamps; keeps the tail for errors. */
  logLines(v: VertexTrace, data: Uint8Array, timestamp: number): string[] {
    const since = v.partial === "" ? timestamp : v.partialSince;
    const parts = (v.partial + v.decoder.decode(data, { stream: true })).split("\n");
    v.partial = parts.pop() ?? "";
    v.partialSince = parts.length > 0 ? timestamp : since;
    const lines = parts.map((l, i) => `${logTime((i === 0 ? since : timestamp) - (v.started ?? timestamp))} ${l.replace(/\r$/, "")}`);
    v.lastLines.push(...lines);
    if (v.lastLines.length > KEPT_LOG_LINES) v.lastLines.splice(0, v.lastLines.length - KEPT_LOG_LINES);
    return lines;
  }

  /** The final partial line of a vertex's output, when it ends without a newline. */
  flushPartial(v: VertexTrace, timestamp: number): string[] {
    if (v.partial === "") return [];
    const line = `${logTime(v.partialSince - (v.started ?? timestamp))} ${v.partial}`;
    v.partial = "";
    v.lastLines.push(line);
    if (v.lastLines.length > KEPT_LOG_LINES) v.lastLines.shift();
    return [line];
  }

  /** BuildKit's closing report: each failed step with its last output lines. */
  errorReport(): string {
    let out = "";
    for (const v of this.order) {
      if (!v.error || v.canceled) continue;
      out += `------\n > ${v.name}:\n${v.lastLines.map((l) => `${l}\n`).join("")}------\n`;
    }
    return out;
  }
}

function applyVertex(v: VertexTrace, e: VertexEvent): void {
  v.name = e.name || v.name;
  if (e.started !== undefined) v.started ??= e.started;
  if (e.completed !== undefined) v.completed = e.completed;
  if (e.cached) v.cached = true;
  if (e.error) v.error = e.error;
  if (e.canceled) v.canceled = true;
}

/** Seconds with three decimals under 10s, two under 100s, one beyond, as BuildKit prints them. */
function logTime(ms: number): string {
  const sec = Math.max(0, ms) / 1000;
  return sec.toFixed(sec < 10 ? 3 : sec < 100 ? 2 : 1);
}

export function duration(v: VertexTrace, now = Date.now()): string {
  const end = v.completed ?? now;
  return `${(Math.max(0, end - (v.started ?? end)) / 1000).toFixed(1)}s`;
}
