// Gives up on a registry connection that goes silent: no response headers, or no bytes of the body,
// for the idle timeout (30 s unless the config says otherwise). A fetch runs under a signal that
// fires when the timer runs out; the timer restarts with every chunk of the body and stops when the
// body ends or is cancelled. The abort's reason is an IdleTimeout, which callers treat as a dropped
// connection (retried, or resumed with Range).

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * Bun's fetch does not tell how far an upload got, so a request with a body may take, before its
 * headers, the idle timeout plus the time to send the body at this (slow) rate.
 */
const SLOWEST_UPLOAD_BYTES_PER_SECOND = 64 * 1024;

/** Statuses whose Response may not carry a body stream. */
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/** The abort reason of a silent connection; its code makes it a transient transport error. */
export class IdleTimeout extends Error {
  readonly code = "ETIMEDOUT";
  constructor(
    readonly phase: "headers" | "body",
    readonly ms: number,
  ) {
    super(phase === "headers" ? `no response for ${seconds(ms)}` : `no data for ${seconds(ms)}`);
    this.name = "IdleTimeout";
  }
}

export function seconds(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${ms}ms`;
}

/**
 * One request's watch. The caller fetches with `signal`, then passes the response through `watch`
 * (or calls `stop` when the fetch failed). Not shared between requests.
 */
export class IdleWatch {
  readonly signal: AbortSignal;
  private readonly idle = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `ms` ≤ 0 or not finite: no timeout. `uploadBytes`: the size of the request's body. */
  constructor(
    private readonly ms: number,
    parent: AbortSignal,
    uploadBytes = 0,
  ) {
    this.signal = AbortSignal.any([parent, this.idle.signal]);
    this.arm("headers", ms + (uploadBytes * 1000) / SLOWEST_UPLOAD_BYTES_PER_SECOND);
  }

  /** The timeout, when it is what ended the request. */
  get fired(): IdleTimeout | undefined {
    return this.idle.signal.aborted ? (this.idle.signal.reason as IdleTimeout) : undefined;
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** The same response, its body timed chunk by chunk. */
  watch(res: Response): Response {
    if (!res.body || NULL_BODY_STATUS.has(res.status)) {
      this.stop();
      return res;
    }
    this.arm("body", this.ms);
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            this.stop();
            controller.close();
            return;
          }
          this.arm("body", this.ms);
          controller.enqueue(value);
        } catch (e) {
          this.stop();
          controller.error(this.fired ?? e);
        }
      },
      cancel: async (reason) => {
        this.stop();
        await reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  private arm(phase: IdleTimeout["phase"], ms: number): void {
    clearTimeout(this.timer);
    if (!(this.ms > 0) || !Number.isFinite(ms)) return;
    this.timer = setTimeout(() => this.idle.abort(new IdleTimeout(phase, this.ms)), ms);
    // A body nobody reads any more must not keep the process alive until the timer fires.
    (this.timer as { unref?: () => void }).unref?.();
  }
}
