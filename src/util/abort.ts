// Cancellation helpers: every I/O path takes an AbortSignal and turns its abort into E_CANCELED.
import { KitError, isKitError } from "./errors.ts";

export function canceledError(signal: AbortSignal): KitError {
  const reason = signal.reason;
  if (isKitError(reason)) return reason;
  const why = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "canceled";
  return new KitError("E_CANCELED", why, { cause: reason });
}

/** Resolves after `ms`, or rejects with E_CANCELED when the signal aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(canceledError(signal));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(canceledError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
