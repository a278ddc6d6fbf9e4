// Progress events, shaped like BuildKit's SolveStatus so renderers can print BuildKit's formats.
// Library code emits these; only the renderers in cli/render print anything.

export type VertexEvent = {
  type: "vertex";
  /** The vertex digest, or a made-up id for a task that is not in the graph ("[internal] …"). */
  id: string;
  name: string;
  inputs?: string[];
  started?: number;
  completed?: number;
  cached?: boolean;
  error?: string;
  canceled?: boolean;
};

export type StatusEvent = {
  type: "status";
  vertex: string;
  /** What is progressing, e.g. "sha256:…" for a blob or "extracting sha256:…". */
  id: string;
  current: number;
  total?: number;
  started?: number;
  completed?: number;
};

export type LogEvent = {
  type: "log";
  vertex: string;
  stream: 1 | 2;
  data: Uint8Array;
  timestamp: number;
};

export type WarningEvent = {
  type: "warning";
  vertex: string;
  message: string;
  /** BuildKit's VertexWarning fields of a build check's finding: description, rule URL, the file and lines. */
  detail?: string[];
  url?: string;
  source?: { filename: string; data: string; language: string };
  range?: { startLine: number; endLine: number };
};

/** A line about a step from kitbuild itself (not the step's output), e.g. why it missed the cache. */
export type NoteEvent = { type: "note"; vertex: string; text: string };

export type ProgressEvent = VertexEvent | StatusEvent | LogEvent | WarningEvent | NoteEvent;

export type ProgressSink = (event: ProgressEvent) => void;

/** What an op uses to report on the vertex it is running. */
export type VertexProgress = {
  readonly vertex: string;
  log(stream: 1 | 2, data: Uint8Array): void;
  status(id: string, current: number, total?: number): void;
  statusDone(id: string, current?: number, total?: number): void;
  warn(message: string): void;
  note(text: string): void;
};

export function vertexProgress(sink: ProgressSink, vertex: string): VertexProgress {
  const started = new Map<string, number>();
  const startOf = (id: string) => {
    let t = started.get(id);
    if (t === undefined) started.set(id, (t = Date.now()));
    return t;
  };
  return {
    vertex,
    log: (stream, data) => sink({ type: "log", vertex, stream, data, timestamp: Date.now() }),
    status: (id, current, total) => sink({ type: "status", vertex, id, current, total, started: startOf(id) }),
    statusDone: (id, current = 0, total) =>
      sink({ type: "status", vertex, id, current, total, started: startOf(id), completed: Date.now() }),
    warn: (message) => sink({ type: "warning", vertex, message }),
    note: (text) => sink({ type: "note", vertex, text }),
  };
}

/** Runs `fn` as a progress task of its own (a vertex outside the graph, like "[internal] …"). */
export async function progressTask<T>(
  sink: ProgressSink,
  id: string,
  name: string,
  fn: (p: VertexProgress) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  sink({ type: "vertex", id, name, started });
  try {
    const result = await fn(vertexProgress(sink, id));
    sink({ type: "vertex", id, name, started, completed: Date.now() });
    return result;
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    sink({ type: "vertex", id, name, started, completed: Date.now(), error });
    throw e;
  }
}

/** A warning as BuildKit's client.VertexWarning encodes as JSON (bytes as base64, empty fields left out): rawjson and `buildx.build.warnings`. */
export function vertexWarningJson(e: WarningEvent): Record<string, unknown> {
  const b64 = (t: string) => Buffer.from(t).toString("base64");
  return {
    vertex: e.vertex,
    level: 1,
    short: b64(e.message),
    ...(e.detail?.length ? { detail: e.detail.map(b64) } : {}),
    ...(e.url ? { url: e.url } : {}),
    ...(e.source ? { sourceInfo: { filename: e.source.filename, data: b64(e.source.data), language: e.source.language } } : {}),
    ...(e.range ? { range: [{ start: { line: e.range.startLine }, end: { line: e.range.endLine } }] } : {}),
  };
}
