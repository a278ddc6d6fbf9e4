// When and how long to wait before trying a registry request again: server errors (5xx, 429) and
// dropped or silent connections are retried with doubling delays, as BuildKit's retry handler does
// (1 s, 2 s, 4 s, then give up), or after the server's Retry-After when it sends one (up to a cap:
// a registry that asks for longer is given up on at once). Other 4xx fail at once.
import { sleep } from "../util/abort.ts";
import { errnoCode } from "../util/errors.ts";

export type RetryPolicy = {
  /** Total tries, the first included. */
  attempts: number;
  /** Delay before the first retry; each further retry waits twice as long. */
  baseDelayMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1000 };

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

const TRANSIENT_ERRNO = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED", "EAI_AGAIN", "ERR_STREAM_PREMATURE_CLOSE"]);

/** A connection that broke in the middle (not one that was never possible, like ECONNREFUSED). */
export function isTransientTransportError(e: unknown): boolean {
  const code = errnoCode(e);
  return code !== undefined && TRANSIENT_ERRNO.has(code);
}

/** The longest Retry-After honoured; a registry asking for more gets an error at once. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After in ms (delay-seconds or an HTTP date), undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  const text = header?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date names its month; a bare number like "-1" is not one.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Told why and how long before each retry (BuildKit writes this to the step's log). */
export type RetryNotice = (message: string) => void;

/**
 * Waits before retry number `retry` (1-based), after telling `notice` why: the policy's doubling
 * delay, or `serverMs` when the server said how long (Retry-After).
 */
export function backoff(policy: RetryPolicy, retry: number, signal: AbortSignal, notice?: RetryNotice, why?: string, serverMs?: number): Promise<void> {
  const ms = serverMs ?? policy.baseDelayMs * 2 ** (retry - 1);
  const after = serverMs === undefined ? "" : " (Retry-After)";
  if (notice && why) notice(`${why}; retrying in ${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}${after}`);
  return sleep(ms, signal);
}
