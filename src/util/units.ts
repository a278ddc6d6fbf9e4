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
