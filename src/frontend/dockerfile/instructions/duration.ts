// Go's time.Duration text forms, used by HEALTHCHECK: parsing "1m30s" as time.ParseDuration does
// (with its error messages), and printing a duration as Duration.String does for the history entry.

const UNITS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, "\u00b5s": 1_000n, "\u03bcs": 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};

export class DurationError extends Error {
  override name = "DurationError";
}

/** Nanoseconds of a Go duration string ("300ms", "-1.5h", "2h45m"). */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new DurationError(`time: invalid duration ${quoted}`);
  let total = 0n;
  while (s !== "") {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const whole = m[1] as string;
    const frac = m[2] ?? "";
    if (whole === "" && frac === "") throw new DurationError(`time: invalid duration ${quoted}`);
    s = s.slice(m[0].length);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? "";
    if (unit === "") throw new DurationError(`time: missing unit in duration ${quoted}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw new DurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    total += BigInt(whole || "0") * scale + (frac === "" ? 0n : (BigInt(frac) * scale) / 10n ** BigInt(frac.length));
    if (total > 9_223_372_036_854_775_807n) throw new DurationError(`time: invalid duration ${quoted}`);
  }
  return Number(neg ? -total : total);
}

/** Go's Duration.String: "0s", "1.5s", "1m30s", "1h0m0s", "500ms", "10µs". */
export function formatGoDuration(ns: number): string {
  const neg = ns < 0;
  let u = BigInt(Math.abs(Math.trunc(ns)));
  let out: string;
  if (u === 0n) return "0s";
  if (u < 1_000_000_000n) {
    const [unit, prec] = u < 1_000n ? ["ns", 0] : u < 1_000_000n ? ["\u00b5s", 3] : ["ms", 6];
    out = `${fraction(u, prec as number)}${unit}`;
  } else {
    out = `${fraction(u % 60_000_000_000n, 9)}s`;
    u /= 60_000_000_000n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** v / 10**prec with the fraction's trailing zeros (and a bare point) left out. */
function fraction(v: bigint, prec: number): string {
  const base = 10n ** BigInt(prec);
  const whole = v / base;
  const frac = (v % base).toString().padStart(prec, "0").replace(/0+$/, "");
  return frac === "" ? `${whole}` : `${whole}.${frac}`;
}
