// COPY --chmod: an octal mode, or a symbolic one as chmod(1) takes it ("u+x,go-w", "a=rX",
// "g=u"), applied with a umask of 0 as BuildKit does. A symbolic mode changes each entry's own mode;
// `X` adds execute bits only to directories and to files that already had one. Where chmod
// implementations differ, this follows BSD's setmode, which BuildKit uses: "=" also clears the
// set-id bits of directories, "=" without a who keeps the sticky bit, and "t" needs u, g or no who.
import { KitError } from "../util/errors.ts";

/** The permission and special bits an entry gets, from its current ones. */
export type ModeChange = (mode: number, isDir: boolean) => number;

const WHO_BITS: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o0007, a: 0o6777 };
const STICKY = 0o1000;
const CLAUSE = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/;

/** Parses a --chmod value; throws a KitError naming the value when it is neither octal nor symbolic. */
export function parseMode(spec: string): ModeChange {
  if (/^[0-7]+$/.test(spec)) {
    const value = Number.parseInt(spec, 8);
    if (value > 0o7777) throw invalidMode(spec);
    return () => value;
  }
  const clauses = spec.split(",").map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) throw invalidMode(spec);
    const who = [...(m[1] as string)].reduce((bits, w) => bits | (WHO_BITS[w] as number), 0);
    const actions = [...(m[2] as string).matchAll(/([-+=])([rwxXstugo]*)/g)].map((a) => {
      const perms = a[2] as string;
      // The sticky bit belongs to no one class: it is set with u, g, a or no who at all.
      const sticky = perms.includes("t") && (who === 0 || (who & 0o6770) !== 0) ? STICKY : 0;
      return { op: a[1] as string, perms, mask: (who || 0o7777) | sticky, cleared: (who || 0o6777) | sticky };
    });
    return actions;
  });
  return (original, isDir) => {
    let mode = original & 0o7777;
    for (const { op, perms, mask, cleared } of clauses.flat()) {
      const bits = permBits(perms, mode, original, isDir) & mask;
      if (op === "+") mode |= bits;
      else if (op === "-") mode &= ~bits;
      else mode = (mode & ~cleared) | bits;
    }
    return mode;
  };
}

function permBits(perms: string, current: number, original: number, isDir: boolean): number {
  let bits = 0;
  for (const p of perms) {
    if (p === "r") bits |= 0o444;
    else if (p === "w") bits |= 0o222;
    else if (p === "x") bits |= 0o111;
    else if (p === "X" && (isDir || (original & 0o111) !== 0)) bits |= 0o111;
    else if (p === "s") bits |= 0o6000;
    else if (p === "t") bits |= 0o1000;
    else if (p === "u") bits |= ((current >> 6) & 7) * 0o111;
    else if (p === "g") bits |= ((current >> 3) & 7) * 0o111;
    else if (p === "o") bits |= (current & 7) * 0o111;
  }
  return bits;
}

function invalidMode(spec: string): KitError {
  return new KitError("E_COPY_CHMOD", `invalid chmod parameter "${spec}"`, {
    hint: 'use an octal mode between 0 and 07777 (like 0755) or a symbolic one (like "u+x,go-w")',
  });
}
