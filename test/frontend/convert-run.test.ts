// RUN conversion: shell and exec forms, heredoc scripts, --mount of every type and option,
// --network and --security. Expected mounts follow BuildKit's dispatchRunMounts, dispatchSecret,
// dispatchSSH and llb's exec marshalling (mounts sorted by target, then secrets, then ssh).
import { describe, expect, test } from "bun:test";
import type { ExecOp, FileOp } from "../../src/llb/ops.ts";
import { byName, convert, convertError, execs, history, inputOp, names, root } from "./convert-helpers.ts";

const execOf = async (src: string, extra = {}) => execs((await convert(`FROM busybox\n${src}\n`, extra)).definition).at(-1) as ExecOp;

describe("RUN forms", () => {
  test("shell form runs through SHELL (default /bin/sh -c); exec form runs as written", async () => {
    expect((await execOf("RUN echo  hi")).meta.args).toEqual(["/bin/sh", "-c", "echo  hi"]);
    expect((await execOf('RUN ["echo", "hi"]')).meta.args).toEqual(["echo", "hi"]);
    expect((await execOf('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN a | b')).meta.args).toEqual(["/bin/bash", "-eo", "pipefail", "-c", "a | b"]);
    // Invalid JSON falls back to shell form.
    expect((await execOf('RUN ["echo", hi]')).meta.args).toEqual(["/bin/sh", "-c", '["echo", hi]']);
    expect((await execOf("RUN")).meta.args).toEqual(["/bin/sh", "-c", ""]);
  });

  test("the step name expands variables outside single quotes and keeps quotes and unknown ones; history shows the command", async () => {
    const result = await convert('FROM busybox\nARG A=1\nrun echo "$A" $UNKNOWN \'$A\'\n');
    expect(names(result.definition).at(-1)).toBe(`[2/2] RUN echo "1" $UNKNOWN '$A'`);
    expect(history(result).at(-1)).toBe(`RUN |1 A=1 /bin/sh -c echo "$A" $UNKNOWN '$A' # buildkit`);
  });

  test("a lone heredoc is the script; with a #! line it becomes a file run from /dev/pipes", async () => {
    const plain = await convert("FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\n");
    expect(execs(plain.definition)[0]?.meta.args).toEqual(["/bin/sh", "-c", "echo one\necho two\n"]);
    expect(names(plain.definition).at(-1)).toBe("[2/2] RUN <<EOF (echo one...)");
    const shebang = await convert("FROM busybox\nRUN <<-EOT\n\t#!/usr/bin/env python3\n\tprint(1)\nEOT\n");
    const run = byName(shebang.definition, "[2/2] RUN <<-EOT (#!/usr/bin/env python3...)");
    const op = run.vertex.op as ExecOp;
    expect(op.meta.args).toEqual(["/bin/sh", "-c", "/dev/pipes/EOT"]);
    expect(op.mounts[1]).toEqual({ type: "bind", dest: "/dev/pipes/", input: 1, output: -1, readonly: true, selector: "/" });
    const script = inputOp(shebang.definition, run, 1);
    expect(script.meta.name).toBe("[internal] preparing inline document");
    // <<- strips the leading tabs.
    expect((script.vertex.op as FileOp).actions).toEqual([{ action: "mkfile", path: "/EOT", mode: 0o755, data: "#!/usr/bin/env python3\nprint(1)\n" }]);
  });

  test("several heredocs, or a heredoc fed to a command, are handed to the shell whole", async () => {
    const op = await execOf("RUN cat <<A && cat <<B\nfirst\nA\nsecond\nB");
    expect(op.meta.args).toEqual(["/bin/sh", "-c", "cat <<A && cat <<B\nfirst\nA\nsecond\nB"]);
  });
});

describe("RUN --mount", () => {
  test("bind mounts the context read-only by default; source, from and rw are honoured", async () => {
    const result = await convert("FROM busybox AS src\nRUN make\nFROM busybox\nWORKDIR /w\nRUN --mount=target=ctx --mount=type=bind,from=src,source=/out,target=/in,rw build\n");
    const run = root(result.definition);
    const op = run.vertex.op as ExecOp;
    expect(op.mounts).toEqual([
      { type: "bind", dest: "/", input: 0, output: 0, readonly: false },
      { type: "bind", dest: "/in", input: 1, output: -1, readonly: false, selector: "/out" },
      { type: "bind", dest: "/w/ctx", input: 2, output: -1, readonly: true },
    ]);
    expect(inputOp(result.definition, run, 1).meta.name).toBe("[src 2/2] RUN make");
    expect(inputOp(result.definition, run, 2).meta.name).toBe("[internal] load build context");
  });

  test("cache mounts: id defaults to the target, sharing to shared; uid/gid/mode prepare the directory", async () => {
    const op = await execOf("RUN --mount=type=cache,target=/root/.cache --mount=type=cache,id=go,target=/go,sharing=locked,uid=1000,gid=1001,mode=0700 build");
    expect(op.mounts[1]).toEqual({ type: "cache", dest: "/go", input: 1, output: -1, readonly: false, selector: "/cache", cache: { id: "go", sharing: "locked" } });
    expect(op.mounts[2]).toEqual({ type: "cache", dest: "/root/.cache", input: -1, output: -1, readonly: false, cache: { id: "/root/.cache", sharing: "shared" } });
    const result = await convert("FROM busybox\nRUN --mount=type=cache,target=/c,uid=5,mode=750 x\n");
    const perms = inputOp(result.definition, root(result.definition), 1);
    expect(perms.meta.name).toBe("[internal] setting cache mount permissions");
    expect(perms.vertex.op).toEqual({ kind: "file", base: -1, actions: [{ action: "mkdir", path: "/cache", mode: 0o750, makeParents: false, owner: { user: 5, group: 0 } }] });
  });

  test("a mount may name a stage by index, or an image; a cache may start from a stage's directory", async () => {
    const result = await convert("FROM busybox AS tools\nRUN make\nFROM busybox\nRUN --mount=from=0,target=/t --mount=type=cache,from=tools,source=/seed,target=/c --mount=from=alpine,target=/a x\n");
    const run = root(result.definition);
    const op = run.vertex.op as ExecOp;
    expect(op.mounts.map((m) => [m.dest, m.type, m.input, m.selector])).toEqual([
      ["/", "bind", 0, undefined],
      ["/a", "bind", 1, undefined],
      ["/c", "cache", 2, "/seed"],
      ["/t", "bind", 2, undefined],
    ]);
    expect(inputOp(result.definition, run, 1).meta.name).toBe("FROM docker.io/library/alpine:latest@sha256:" + "a".repeat(64));
    expect(inputOp(result.definition, run, 2).meta.name).toBe("[tools 2/2] RUN make");
  });

  test("tmpfs mounts take a size in docker's units", async () => {
    const op = await execOf("RUN --mount=type=tmpfs,target=/tmp,size=64m x");
    expect(op.mounts[1]).toEqual({ type: "tmpfs", dest: "/tmp", input: -1, output: -1, readonly: false, tmpfs: { size: 64 * 1024 * 1024 } });
  });

  test("secrets mount at /run/secrets/ID (mode 0400) or become environment variables", async () => {
    const result = await convert("FROM busybox\nRUN --mount=type=secret,id=npmrc --mount=type=secret,id=tok,env=TOKEN,required --mount=type=secret,source=key,target=/k,mode=0440,uid=1 echo $TOKEN\n");
    const op = execs(result.definition)[0] as ExecOp;
    expect(op.mounts.slice(1)).toEqual([
      { type: "secret", dest: "/run/secrets/npmrc", input: -1, output: -1, readonly: true, secret: { id: "npmrc", uid: 0, gid: 0, mode: 0o400, optional: true } },
      { type: "secret", dest: "/k", input: -1, output: -1, readonly: true, secret: { id: "key", uid: 1, gid: 0, mode: 0o440, optional: true } },
    ]);
    expect(op.secretEnv).toEqual([{ id: "tok", name: "TOKEN", optional: false }]);
    // The step name shows a secret variable as ****.
    expect(names(result.definition).at(-1)).toContain("echo ****");
  });

  test("ssh mounts get BuildKit's default socket path and set SSH_AUTH_SOCK", async () => {
    const op = await execOf("RUN --mount=type=ssh --mount=type=ssh,id=gh,target=/s,required git fetch");
    expect(op.mounts.slice(1)).toEqual([
      { type: "ssh", dest: "/run/buildkit/ssh_agent.0", input: -1, output: -1, readonly: true, ssh: { id: "default", uid: 0, gid: 0, mode: 0o600, optional: true } },
      { type: "ssh", dest: "/s", input: -1, output: -1, readonly: true, ssh: { id: "gh", uid: 0, gid: 0, mode: 0o600, optional: false } },
    ]);
    expect(op.meta.env).toContain("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
    const owned = await execOf("ENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh,uid=100,gid=102,mode=741 x");
    expect(owned.mounts[1]?.ssh).toEqual({ id: "default", uid: 100, gid: 102, mode: 0o741, optional: true });
    // A socket path the Dockerfile set is kept.
    expect(owned.meta.env).toContain("SSH_AUTH_SOCK=/mine");
    expect((await convertError("FROM busybox\nRUN --mount=type=ssh,src=x x\n")).message).toBe("ssh does not support source");
  });

  test("mount values expand the step's variables; mounts sort by target", async () => {
    const op = await execOf("ARG D=/z\nRUN --mount=type=cache,target=$D --mount=type=tmpfs,target=/a x");
    expect(op.mounts.map((m) => m.dest)).toEqual(["/", "/a", "/z"]);
  });

  test("bad mounts are errors with the closest valid word", async () => {
    const key = await convertError("FROM busybox\nRUN --mount=type=cache,taget=/x x\n");
    expect(key.message).toBe("unexpected key 'taget' in 'taget=/x'");
    expect(key.hint).toBe("did you mean target?");
    expect(key.location?.startLine).toBe(2);
    const type = await convertError("FROM busybox\nRUN --mount=type=cahce,target=/x x\n");
    expect(type.message).toBe('unsupported mount type "cahce"');
    expect(type.hint).toBe("did you mean cache?");
    expect((await convertError("FROM busybox\nRUN --mount=type=bind,target=/x,mode=0600 x\n")).message).toBe('mode not allowed for "bind" type mounts');
    expect((await convertError("FROM busybox\nRUN --mount=type=secret x\n")).message).toBe("invalid secret mount. one of source, target required");
    expect((await convertError("FROM busybox\nRUN --mount=type=cache,target=/ x\n")).message).toBe('invalid mount target "/"');
    expect((await convertError("FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=lots x\n")).message).toBe("invalid value for size: lots");
    expect((await convertError("FROM busybox\nRUN --mount=from=$X,target=/t x\n")).message).toBe("'from' doesn't support variable expansion, define alias stage instead");
    const later = await convertError("FROM busybox AS a\nRUN --mount=from=b,target=/b x\nFROM busybox AS b\n", { target: "a" });
    expect(later.message).toBe('cannot mount from stage "b" to "/b", stage needs to be defined before current command');
  });
});

describe("RUN --network and --security", () => {
  test("none and host are kept; default runs in the sandbox; insecure is passed on", async () => {
    expect((await execOf("RUN --network=none x")).network).toBe("none");
    expect((await execOf("RUN --network=host x")).network).toBe("host");
    expect((await execOf("RUN x")).network).toBe("sandbox");
    expect((await execOf("RUN --network=default x")).network).toBe("sandbox");
    expect((await execOf("RUN --security=insecure x")).security).toBe("insecure");
    expect((await execOf("RUN x")).security).toBe("sandbox");
  });

  test("the build's --network is the default of every RUN without its own; --add-host entries reach every RUN", async () => {
    const forced = { forceNetwork: "host", extraHosts: [{ host: "a.example", ip: "192.0.2.1" }] };
    expect((await execOf("RUN x", forced)).network).toBe("host");
    expect((await execOf("RUN --network=none x", forced)).network).toBe("none");
    expect((await execOf("RUN --network=default x", { forceNetwork: "none" })).network).toBe("none");
    expect((await execOf("RUN x", forced)).meta.extraHosts).toEqual([{ host: "a.example", ip: "192.0.2.1" }]);
    expect((await execOf("RUN x")).meta.extraHosts).toBeUndefined();
  });

  test("other values are parse errors, even in stages the target does not need", async () => {
    const net = await convertError("FROM busybox AS unused\nRUN --network=bridge x\nFROM busybox\n");
    expect(net.message).toBe('invalid network mode "bridge"');
    expect(net.location?.startLine).toBe(2);
    expect((await convertError("FROM busybox\nRUN --security=privileged x\n")).message).toBe('security "privileged" is not valid');
    expect((await convertError("FROM busybox\nRUN --network=none --network=host x\n")).message).toBe("duplicate flag specified: --network");
  });
});
