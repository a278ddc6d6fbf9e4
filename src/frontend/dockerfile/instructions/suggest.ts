// "Did you mean …?" for misspelled instructions, flags, mount options and stage names: the closest
// option within an edit distance of 2, as BuildKit's suggest package picks it.

/** The closest option to `value` (edit distance below 3), or undefined when none is close or it is exact. */
export function closest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const want = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const option of options) {
    const candidate = caseSensitive ? option : option.toLowerCase();
    if (candidate === want) return undefined;
    const d = editDistance(want, candidate);
    if (d < bestDistance) {
      best = caseSensitive ? option : matchCase(candidate, value);
      bestDistance = d;
    }
  }
  return best;
}

/** A lowercase suggestion written the way the user wrote the value (all upper or all lower). */
function matchCase(suggestion: string, written: string): string {
  if (written === written.toLowerCase()) return suggestion.toLowerCase();
  if (written === written.toUpperCase()) return suggestion.toUpperCase();
  return suggestion;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[b.length] as number;
}
