// The one error type of kitbuild: a stable code, a lowercase message, a hint on how to fix it,
// an optional Dockerfile location, and the cause. Exit codes are derived from the code.

export type ErrorCode =
  | "E_USAGE"
  | "E_CONFIG"
  | "E_CANCELED"
  | "E_INTERNAL"
  | `E_DOCKERFILE_${string}`
  | `E_CONTEXT_${string}`
  | `E_REGISTRY_${string}`
  | `E_RUN_${string}`
  | `E_RUNC_${string}`
  | `E_SNAPSHOT_${string}`
  | `E_LAYER_${string}`
  | `E_ARCHIVE_${string}`
  | `E_SOURCE_${string}`
  | `E_CONTENT_${string}`
  | `E_CACHE_${string}`
  | `E_IMAGE_${string}`
  | `E_COPY_${string}`
  | `E_EXPORT_${string}`
  | `E_FS_${string}`
  | `E_ROOTLESS_${string}`;

/** A range of lines (1-based, inclusive) in a named source file, with the file's text for a code frame. */
export type SourceLocation = {
  file: string;
  startLine: number;
  endLine: number;
  lines?: readonly string[];
};

export type KitErrorOptions = {
  hint?: string;
  location?: SourceLocation;
  cause?: unknown;
  /** Output lines that explain the failure (the tail of a failing step's log). */
  details?: readonly string[];
};

export class KitError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  readonly details: readonly string[] | undefined;

  constructor(code: ErrorCode, message: string, opts: KitErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "KitError";
    this.code = code;
    this.hint = opts.hint;
    this.location = opts.location;
    this.details = opts.details;
  }

  /** 0 ok, 1 build failed, 2 usage error, 130 interrupted. */
  get exitCode(): 1 | 2 | 130 {
    if (this.code === "E_USAGE" || this.code === "E_CONFIG") return 2;
    if (this.code === "E_CANCELED") return 130;
    return 1;
  }

  /** The same error with another hint. */
  withHint(hint: string): KitError {
    return new KitError(this.code, this.message, { hint, location: this.location, cause: this.cause, details: this.details });
  }

  /** The same error with a location attached, unless it has one already. */
  withLocation(location: SourceLocation | undefined): KitError {
    if (!location || this.location) return this;
    return new KitError(this.code, this.message, {
      hint: this.hint,
      location,
      cause: this.cause,
      details: this.details,
    });
  }
}

export function isKitError(e: unknown): e is KitError {
  return e instanceof KitError;
}

/** Node-style errno code of a system error (ENOENT, EEXIST, …), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/**
 * Wraps a third-party error where it enters kitbuild. KitErrors pass through unchanged so codes
 * chosen deeper down survive; anything else becomes `code` with `message: cause`.
 */
export function wrapError(e: unknown, code: ErrorCode, message: string, hint?: string): KitError {
  if (isKitError(e)) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new KitError(code, `${message}: ${reason}`, { cause: e, hint });
}

/** Turns anything thrown into a KitError; unknown errors are internal. */
export function toKitError(e: unknown): KitError {
  if (isKitError(e)) return e;
  if (e instanceof Error && e.name === "AbortError") return new KitError("E_CANCELED", "build canceled", { cause: e });
  // The renderer adds the "this is a bug" line (and, with --debug, the trace).
  return wrapError(e, "E_INTERNAL", "internal error");
}
