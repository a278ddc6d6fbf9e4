// Which .dockerignore a build uses: "<Dockerfile>.dockerignore" beside the Dockerfile wins over
// the context's .dockerignore; and the file's encoding details.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { readDockerignore } from "../../src/control/solve.ts";
import { parseDockerignore } from "../../src/frontend/dockerfile/dockerignore.ts";
import { tempDir } from "../harness.ts";

describe(".dockerignore", () => {
  test("a byte-order mark and CRLF line ends are ignored (matching is covered in test/util/patterns.test.ts)", () => {
    expect(parseDockerignore("\uFEFF# comment\r\n*.log\r\n./a/../b//c\r\n")).toEqual(["*.log", "b/c"]);
  });

  test("<Dockerfile name>.dockerignore beside the Dockerfile takes precedence", () => {
    const ctx = tempDir("kitbuild-ignore-");
    mkdirSync(`${ctx}/docker`);
    writeFileSync(`${ctx}/.dockerignore`, "from-context\n");
    writeFileSync(`${ctx}/docker/app.Dockerfile`, "FROM scratch\n");
    expect(readDockerignore(ctx, `${ctx}/docker/app.Dockerfile`)).toBe("from-context\n");
    writeFileSync(`${ctx}/docker/app.Dockerfile.dockerignore`, "specific\n");
    expect(readDockerignore(ctx, `${ctx}/docker/app.Dockerfile`)).toBe("specific\n");
    expect(readDockerignore(ctx, undefined)).toBe("from-context\n");
  });
});
