// Debian control-file stanzas (RFC 822 style: "Field: value", continuation lines indented, stanzas
// separated by blank lines), as dpkg status files and Python core metadata write them.

/** Parses control stanzas (RFC 822 style, continuation lines indented) into field maps. */
export function parseStanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      last = undefined;
    } else if ((line.startsWith(" ") || line.startsWith("\t")) && last !== undefined) {
      current.set(last, `${current.get(last)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      current.set(last, line.slice(colon + 1).trim());
    }
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}
