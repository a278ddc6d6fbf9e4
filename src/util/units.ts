// Byte sizes as BuildKit prints them ("2B", "1.06MB", "1.10kB"): decimal units, two decimals.
const UNITS = ["B", "kB", "MB", "GB", "TB"];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(2)}${UNITS[i]}`;
}

const BINARY: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** "10GB", "512m", "1.5GiB", "100" (bytes) → bytes, with docker's binary multiples. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])i?)?b?\s*$/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (BINARY[(m[2] ?? "").toLowerCase()] as number));
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A Go-style duration ("24h", "1h30m", "90s", "7d") in milliseconds. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    end = re.lastIndex;
  }
  return end === text.length && end > 0 ? total : undefined;
}

/** "3 seconds ago", "2 minutes ago", "5 hours ago", "4 days ago" — as docker prints ages. */
export function relativeTime(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  const unit = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"} ago`;
  if (s < 60) return unit(s, "second");
  if (s < 3600) return unit(Math.floor(s / 60), "minute");
  if (s < 86400) return unit(Math.floor(s / 3600), "hour");
  return unit(Math.floor(s / 86400), "day");
}
