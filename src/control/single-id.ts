// With a single-id mapping (a rootless user without subordinate ids) every id but 0 is unmapped:
// chown to one fails with EINVAL, in a RUN step or in kitbuild's own file operations. Such a failure
// gets the hint that says how to add a range, instead of a bare "invalid argument".
import { KitError } from "../util/errors.ts";
import { addRangeCommand, type UserMode } from "../worker/rootless/id-map.ts";

const OWNER_CALLS = new Set(["chown", "lchown", "fchown", "fchownat"]);

/** `e` with the single-id hint when it may come from an unmapped id; anything else unchanged. */
export function withSingleIdHint(e: unknown, user: UserMode): unknown {
  if (user.kind !== "rootless" || !user.single) return e;
  const hint = `this build maps a single id (no subordinate ids for "${user.userName}"), so a step or file that uses another user or group id fails; add a range with: ${addRangeCommand(user.userName)}`;
  const owner = unmappedOwnerError(e);
  if (owner && (!(e instanceof KitError) || e.code === "E_INTERNAL")) {
    // kitbuild's own file operations (COPY --chown) meet the unmapped id as a plain system error.
    return new KitError("E_COPY_OWNER", `cannot set a file's owner: ${owner.message}`, { cause: owner, hint });
  }
  if (!(e instanceof KitError) || (e.code !== "E_RUN_FAILED" && !owner)) return e;
  return e.withHint(e.code === "E_RUN_FAILED" && e.hint ? `${e.hint}; if it needs another id: ${hint}` : hint);
}

function unmappedOwnerError(e: unknown): NodeJS.ErrnoException | undefined {
  for (let cur: unknown = e; cur instanceof Error; cur = cur.cause) {
    const err = cur as NodeJS.ErrnoException;
    if (err.code === "EINVAL" && err.syscall !== undefined && OWNER_CALLS.has(err.syscall)) return err;
  }
  return undefined;
}
