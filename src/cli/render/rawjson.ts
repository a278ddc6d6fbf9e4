// The rawjson renderer: one JSON object per event on stdout, shaped like BuildKit's SolveStatus
// ({"vertexes":[…]}, {"statuses":[…]}, {"logs":[…]}, {"warnings":[…]}), for machines.
import { type ProgressEvent, vertexWarningJson } from "../../util/progress.ts";
import { type Renderer, Trace } from "./trace.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export class RawJsonRenderer implements Renderer {
  readonly trace = new Trace();

  constructor(private readonly write: (text: string) => void) {}

  event(e: ProgressEvent): void {
    this.trace.apply(e);
    this.write(`${JSON.stringify(toStatus(e))}\n`);
  }

  close(): void {}
}

function toStatus(e: ProgressEvent): Record<string, unknown> {
  switch (e.type) {
    case "vertex":
      return {
        vertexes: [{ digest: e.id, inputs: e.inputs ?? [], name: e.name, started: iso(e.started), completed: iso(e.completed), cached: e.cached ?? false, error: e.error }],
      };
    case "status":
      return {
        statuses: [{ id: e.id, vertex: e.vertex, current: e.current, total: e.total ?? 0, timestamp: iso(Date.now()), started: iso(e.started), completed: iso(e.completed) }],
      };
    case "log":
      return { logs: [{ vertex: e.vertex, stream: e.stream, data: Buffer.from(e.data).toString("base64"), timestamp: iso(e.timestamp) }] };
    case "warning":
      return { warnings: [vertexWarningJson(e)] };
    case "note":
      return { notes: [{ vertex: e.vertex, text: e.text }] };
  }
}
