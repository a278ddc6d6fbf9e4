// When and how long to wait before trying a registry request again: server errors (5xx, 429) and
// dropped connections are retried with doubling delays, as BuildKit's retry handler does (1 s, 2 s,
// 4 s, then give up). Anything else (4xx, digest mismatches) fails at once.
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

/** Told why and how long before each retry (BuildKit writes this to the step's log). */
export type RetryNotice = (message: string) => void;

/** Waits before retry number `retry` (1-based), after telling `notice` why. */
export function backoff(policy: RetryPolicy, retry: number, signal: AbortSignal, notice?: RetryNotice, why?: string): Promise<void> {
  const ms = policy.baseDelayMs * 2 ** (retry - 1);
  if (notice && why) notice(`${why}; retrying in ${ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`}`);
  return sleep(ms, signal);
}
