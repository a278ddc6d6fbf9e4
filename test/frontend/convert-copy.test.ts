// COPY and ADD conversion: destinations, --chown, --chmod (octal and symbolic), --link, --parents,
// --exclude, heredocs, and ADD's URLs, git repositories, --checksum, --keep-git-dir and --unpack.
// Expected actions follow BuildKit's dispatchCopy (convert_copy.go) and llb's copy marshalling.
import { describe, expect, test } from "bun:test";
import type { CopyAction, FileOp, SourceOp } from "../../src/llb/ops.ts";
import { byName, convert, convertError, files, history, inputOp, names, root, sources } from "./convert-helpers.ts";

async function copies(src: string): Promise<CopyAction[]> {
  const { definition } = await convert(`FROM busybox\n${src}\n`);
  return (root(definition).vertex.op as FileOp).actions as CopyAction[];
}

const LOCAL = { followSymlinks: true, dirCopyContents: true, createDestPath: true, allowWildcard: true, allowEmptyWildcard: true };
const REMOTE = { followSymlinks: false, dirCopyContents: false, createDestPath: true, allowWildcard: false, allowEmptyWildcard: false };

describe("COPY", () => {
  test("destinations are relative to WORKDIR and keep a trailing / or /.", async () => {
    const dests = async (d: string) => (await copies(`WORKDIR /app\nCOPY a ${d}`))[0]?.dest;
    expect(await dests(".")).toBe("/app/");
    expect(await dests("sub/")).toBe("/app/sub/");
    expect(await dests("sub/.")).toBe("/app/sub/.");
    expect(await dests("../x")).toBe("/x");
    expect(await dests("/abs//dir/")).toBe("/abs/dir/");
    expect(await dests("/.")).toBe("/.");
  });

  test("each source is one copy action from the context, read from its root", async () => {
    const actions = await copies("COPY a.txt dir/ *.go /dst/");
    expect(actions).toEqual([
      { action: "copy", srcInput: 1, src: "/a.txt", dest: "/dst/", ...LOCAL },
      { action: "copy", srcInput: 1, src: "/dir", dest: "/dst/", ...LOCAL },
      { action: "copy", srcInput: 1, src: "/*.go", dest: "/dst/", ...LOCAL },
    ]);
  });

  test("sources and destination expand the step's variables; the name and history show them", async () => {
    const result = await convert('FROM busybox\nARG F=a.txt\nENV D=/d\nCOPY "$F" ${D}/\n');
    expect((root(result.definition).vertex.op as FileOp).actions[0]).toMatchObject({ src: "/a.txt", dest: "/d/" });
    expect(names(result.definition).at(-1)).toBe("[2/2] COPY a.txt /d/");
    expect(history(result).at(-1)).toBe("COPY a.txt /d/ # buildkit");
  });

  test("--chown takes names or ids; --chmod takes octal or symbolic modes; history shows both", async () => {
    const result = await convert("FROM busybox\nARG U=app\nCOPY --chown=$U:1000 --chmod=0640 a /a\nCOPY --chown=0 --chmod=u+x,go-w b /b\n");
    const ops = files(result.definition).map((f) => f.actions[0]);
    expect(ops[0]).toMatchObject({ owner: { user: "app", group: 1000 }, mode: 0o640 });
    expect(ops[1]).toMatchObject({ owner: { user: 0 }, mode: "u+x,go-w" });
    expect(history(result).slice(-2)).toEqual(["COPY --chown=app:1000 --chmod=0640 a /a # buildkit", "COPY --chown=0 --chmod=u+x,go-w b /b # buildkit"]);
  });

  test("an invalid --chmod is an error that says what is valid", async () => {
    for (const mode of ["0999", "77777", "u+q", "rwx"]) {
      const err = await convertError(`FROM busybox\nCOPY --chmod=${mode} a /a\n`);
      expect(err.message).toStartWith(`invalid chmod parameter: '${mode}'`);
      expect(err.hint).toBe("use an octal mode like 0755 or a symbolic one like u+x,go-w");
    }
  });

  test("--link copies onto scratch and stacks the result over the stage (a merge op)", async () => {
    const result = await convert("FROM busybox\nCOPY --link a /a\n");
    const merge = root(result.definition);
    expect(merge.vertex.op).toEqual({ kind: "merge" });
    expect(merge.meta.name).toBe("[2/2] LINK COPY --link a /a");
    expect(inputOp(result.definition, merge, 0).meta.name).toBe(`[1/2] FROM docker.io/library/busybox:latest@sha256:${"a".repeat(64)}`);
    const copy = inputOp(result.definition, merge, 1);
    expect(copy.meta.name).toBe("[2/2] COPY --link a /a");
    expect(copy.vertex.op).toMatchObject({ kind: "file", base: -1, actions: [{ src: "/a", srcInput: 0 }] });
    // With --chmod, BuildKit copies in place instead; onto scratch there is nothing to merge with.
    expect(root((await convert("FROM busybox\nCOPY --link --chmod=600 a /a\n")).definition).vertex.op.kind).toBe("file");
    expect(root((await convert("FROM scratch\nCOPY --link a /a\n")).definition).vertex.op).toMatchObject({ kind: "file", base: -1 });
  });

  test("--parents keeps the path below the /./ pivot, requiring it unless it has wildcards", async () => {
    const actions = await copies("COPY --parents ./x/./y/z.txt src/*.go /dst/");
    expect(actions[0]).toMatchObject({ src: "/x", includePatterns: ["y/z.txt"], requiredPaths: ["/x/y/z.txt"] });
    expect(actions[1]).toMatchObject({ src: "/", includePatterns: ["src/*.go"] });
    expect(actions[1]?.requiredPaths).toBeUndefined();
    const result = await convert("FROM busybox\nCOPY --parents a/b /d/\n");
    expect(history(result).at(-1)).toBe("COPY --parents a/b /d/ # buildkit");
  });

  test("--exclude patterns (repeatable, not expanded) go to every copy", async () => {
    const actions = await copies("COPY --exclude=*.md --exclude=$X a b /d/");
    expect(actions.map((a) => a.excludePatterns)).toEqual([["*.md", "$X"], ["*.md", "$X"]]);
  });

  test("heredoc sources are files of their own; unquoted delimiters expand variables", async () => {
    const result = await convert("FROM busybox\nARG NAME=you\nCOPY <<EOF <<'RAW' /d/\nhello $NAME\nEOF\nkeep $NAME\nRAW\n");
    const copy = root(result.definition);
    const [first, second] = (copy.vertex.op as FileOp).actions as CopyAction[];
    expect(first).toEqual({ action: "copy", srcInput: 1, src: "/EOF", dest: "/d/", ...REMOTE });
    expect(second?.src).toBe("/RAW");
    expect(inputOp(result.definition, copy, 1).vertex.op).toEqual({ kind: "file", base: -1, actions: [{ action: "mkfile", path: "/EOF", mode: 0o644, data: "hello you\n" }] });
    expect(inputOp(result.definition, copy, 2).vertex.op).toMatchObject({ actions: [{ data: "keep $NAME\n" }] });
    expect(history(result).at(-1)).toBe("COPY <<EOF <<RAW /d/ # buildkit");
    expect(sources(result.definition).map((s) => s.identifier)).not.toContain("local://context");
  });

  test("URLs and git repositories are ADD-only", async () => {
    expect((await convertError("FROM busybox\nCOPY https://example.com/f /f\n")).message).toBe("source can't be a URL for COPY");
    expect((await convertError("FROM busybox\nCOPY https://github.com/a/b.git /b\n")).message).toBe("source can't be a git ref for COPY");
    expect((await convertError("FROM busybox\nCOPY <<EOF <<EOF2\nx\nEOF\ny\nEOF2\n")).message).toBe("COPY cannot accept a heredoc as a destination");
  });
});

describe("ADD", () => {
  test("local sources may be archives to unpack, unless --unpack=false", async () => {
    expect((await copies("ADD a.tar.gz /d/"))[0]).toMatchObject({ src: "/a.tar.gz", attemptUnpack: true, ...LOCAL });
    expect((await copies("ADD --unpack=false a.tar.gz /d/"))[0]?.attemptUnpack).toBeUndefined();
  });

  test("a URL is an http source named after its last path element; --checksum pins it; --unpack opts in", async () => {
    const result = await convert("FROM busybox\nADD --checksum=sha256:" + "c".repeat(64) + " https://example.com/dl/tool.tgz?x=1 /opt/\n");
    const add = root(result.definition);
    const http = inputOp(result.definition, add, 1);
    expect(http.vertex.op).toEqual({ kind: "source", identifier: "https://example.com/dl/tool.tgz?x=1", attrs: { filename: "tool.tgz", checksum: `sha256:${"c".repeat(64)}` } });
    expect(http.meta.name).toBe(add.meta.name as string);
    expect((add.vertex.op as FileOp).actions[0]).toEqual({ action: "copy", srcInput: 1, src: "/tool.tgz", dest: "/opt/", ...REMOTE });
    expect(((await copies("ADD --unpack https://example.com/ /d/"))[0] as CopyAction)).toMatchObject({ src: "/__unnamed__", attemptUnpack: true });
  });

  test("a git repository is a git source with its ref, subdirectory, checksum and .git choice", async () => {
    const { definition } = await convert("FROM busybox\nADD --keep-git-dir https://github.com/moby/buildkit.git#v0.12.0:docs /src\nADD git@github.com:org/repo.git?branch=main&checksum=abc /r\n");
    const git = sources(definition).filter((s) => s.identifier.startsWith("git"));
    expect(git).toEqual([
      { kind: "source", identifier: "git+https://github.com/moby/buildkit.git", attrs: { ref: "v0.12.0", subdir: "docs", keepgitdir: "true" } },
      { kind: "source", identifier: "git+git@github.com:org/repo.git", attrs: { ref: "refs/heads/main", checksum: "abc" } },
    ] satisfies SourceOp[]);
    expect(files(definition).flatMap((f) => f.actions)[0]).toMatchObject({ src: "/", dest: "/src", ...REMOTE });
  });

  test("--checksum needs one remote source and a valid digest", async () => {
    const local = await convertError("FROM busybox\nADD --checksum=sha256:abc a /a\n");
    expect(local.message).toBe("checksum requires HTTP(S) or Git sources");
    expect((await convertError("FROM busybox\nADD --checksum=sha256:abc https://x/a https://x/b /d/\n")).message).toBe("checksum can't be specified for multiple sources");
    expect((await convertError("FROM busybox\nADD --checksum=md5:abc https://x/a /a\n")).message).toBe("unsupported digest algorithm");
    expect((await convertError("FROM busybox\nADD --keep-git-dir=false https://h/r.git?keep-git-dir=true /r\n")).message).toBe("inconsistent keep-git-dir configuration");
  });

  test("COPY's flags that ADD lacks are unknown to it", async () => {
    const err = await convertError("FROM busybox\nADD --from=x a /a\n");
    expect(err.message).toBe("unknown flag: --from");
    const parents = await convertError("FROM busybox\nADD --parents a /a\n");
    expect(parents.message).toBe("unknown flag: --parents");
  });

  test("the step is named and recorded as ADD", async () => {
    const result = await convert("FROM busybox\nadd --chown=1 a /a\n");
    expect(byName(result.definition, "[2/2] ADD --chown=1 a /a").vertex.op.kind).toBe("file");
    expect(history(result).at(-1)).toBe("ADD --chown=1 a /a # buildkit");
  });
});
