// Parser behaviours compared with BuildKit's frontend/dockerfile/parser (dockerfile/1.26): JSON
// forms followed by more text, and the parser's warnings as data for the build checks.
import { describe, expect, test } from "bun:test";
import { parseDockerfile } from "../../src/frontend/dockerfile/parser/parser.ts";

function instruction(text: string) {
  const node = parseDockerfile(text).ast.children.at(-1);
  if (!node) throw new Error("no instruction");
  const values: string[] = [];
  for (let n = node.next; n; n = n.next) values.push(n.value);
  return { json: node.attributes.json === true, values };
}

describe("parser as BuildKit's", () => {
  // line_parsers.go parseJSON uses json.Unmarshal since 80518e257 ("fix invalid usage of
  // json.NewDecoder"): anything but whitespace after the array fails it, and parseMaybeJSON /
  // parseMaybeJSONToList fall back to the shell form (testInvalidJSONCommands).
  test("a JSON array followed by more text is not the JSON form", () => {
    expect(instruction('ENTRYPOINT ["x", "y"] # note')).toEqual({ json: false, values: ['["x", "y"] # note'] });
    expect(instruction('RUN ["echo", "hello"]this is invalid')).toEqual({ json: false, values: ['["echo", "hello"]this is invalid'] });
    expect(instruction('COPY ["a", "b"] extra')).toEqual({ json: false, values: ['["a",', '"b"]', "extra"] });
    expect(instruction('CMD ["x"]  \t')).toEqual({ json: true, values: ["x"] });
    expect(instruction("CMD []random string")).toEqual({ json: false, values: ["[]random string"] });
  });

  test("a JSON array of something other than strings is an error, as errDockerfileNotStringArray", () => {
    expect(() => parseDockerfile('FROM scratch\nCMD ["a", 1]\n')).toThrow("when using JSON array syntax, arrays must be comprised of strings only");
  });

  // parser.go: one warning per instruction that had empty continuation lines, at its last line,
  // with BuildKit's short text, detail and the NoEmptyContinuation rule's URL.
  test("empty continuation lines give BuildKit's warning, as data", () => {
    const parsed = parseDockerfile("FROM scratch\nRUN echo a \\\n\n  b\nLABEL x=1 \\\n\n\n  y=2\n");
    expect(parsed.warnings).toEqual([
      {
        short: "Empty continuation line found in: RUN echo a   b",
        line: 4,
        detail: "Empty continuation lines will become errors in a future release",
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
      },
      {
        short: "Empty continuation line found in: LABEL x=1   y=2",
        line: 8,
        detail: "Empty continuation lines will become errors in a future release",
        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
      },
    ]);
    expect(parseDockerfile("FROM scratch\nRUN a \\\n  # comment\n  b\n").warnings).toEqual([]);
  });
});
