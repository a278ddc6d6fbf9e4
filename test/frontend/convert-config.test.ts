// The image config and history each instruction produces, as BuildKit's dispatchers write them
// (convert.go: dispatchEnv … dispatchShell, commitToHistory; convert_expose.go). Where docker's
// own BuildKit (v0.8, on this machine) writes history differently, the newer text is used and noted.
import { describe, expect, test } from "bun:test";
import type { FileOp } from "../../src/llb/ops.ts";
import { convert, convertError, execs, files, history } from "./convert-helpers.ts";

const image = async (src: string, images = {}) => convert(`FROM busybox\n${src}\n`, {}, images);

describe("config instructions", () => {
  test("ENV in both forms; every value sees the variables from before the instruction", async () => {
    const result = await image("ENV A=1\nENV A=2 B=$A C=\"x y\"\nENV D legacy form with spaces");
    expect(result.image.config.Env).toEqual(["PATH=/usr/bin:/bin", "A=2", "B=1", "C=x y", "D=legacy form with spaces"]);
    expect(history(result).slice(1)).toEqual(["ENV A=1 (empty)", "ENV A=2 B=1 C=x y (empty)", "ENV D=legacy form with spaces (empty)"]);
  });

  test("LABEL adds to the inherited labels, keys sorted as Go writes a map", async () => {
    const result = await image('LABEL z=1 "a b"="two words"\nLABEL base=mine', { busybox: { Labels: { base: "theirs", m: "kept" } } });
    expect(result.image.config.Labels).toEqual({ "a b": "two words", base: "mine", m: "kept", z: "1" });
    expect(Object.keys(result.image.config.Labels ?? {})).toEqual(["a b", "base", "m", "z"]);
    expect(history(result).slice(1)).toEqual(["LABEL z=1 a b=two words (empty)", "LABEL base=mine (empty)"]);
  });

  test("MAINTAINER sets the author, unexpanded", async () => {
    const result = await image("ARG X=1\nMAINTAINER me $X");
    expect(result.image.author).toBe("me $X");
    expect(history(result).at(-1)).toBe("MAINTAINER me $X (empty)");
  });

  test("EXPOSE expands and splits words, expands ranges, sorts keys; history lists the ports", async () => {
    const result = await image("ARG PORTS=\"9000 53/udp\"\nEXPOSE 8080-8081/TCP $PORTS 80");
    expect(Object.keys(result.image.config.ExposedPorts ?? {})).toEqual(["53/udp", "80/tcp", "8080/tcp", "8081/tcp", "9000/tcp"]);
    // BuildKit sorts the words as written, then expands them (docker's v0.8 printed a Go map here).
    expect(history(result).at(-1)).toBe("EXPOSE [9000/tcp 53/udp 80/tcp 8080/tcp 8081/tcp] (empty)");
    expect((await convertError("FROM busybox\nEXPOSE 80/xtp\n")).message).toBe('invalid port: "80/xtp": invalid proto: xtp');
    expect((await convertError("FROM busybox\nEXPOSE 70000\n")).message).toBe("invalid containerPort: 70000");
  });

  test("VOLUME in JSON or word form", async () => {
    const result = await image('ENV D=/data\nVOLUME ["$D", "/logs"]\nVOLUME /a /b');
    expect(result.image.config.Volumes).toEqual({ "/a": {}, "/b": {}, "/data": {}, "/logs": {} });
    expect(history(result).slice(-2)).toEqual(["VOLUME [/data /logs] (empty)", "VOLUME [/a /b] (empty)"]);
    expect((await convertError('FROM busybox\nVOLUME [""]\n')).message).toBe("VOLUME specified can not be an empty string");
  });

  test("STOPSIGNAL takes a signal name or number", async () => {
    expect((await image("STOPSIGNAL SIGQUIT")).image.config.StopSignal).toBe("SIGQUIT");
    expect((await image("ARG S=9\nSTOPSIGNAL $S")).image.config.StopSignal).toBe("9");
    expect((await image("STOPSIGNAL rtmin+3")).image.config.StopSignal).toBe("rtmin+3");
    expect((await convertError("FROM busybox\nSTOPSIGNAL SIGFOO\n")).message).toBe("invalid signal: SIGFOO");
  });

  test("SHELL must be JSON and is used by later shell forms", async () => {
    const result = await image('SHELL ["/bin/ash", "-c"]\nCMD serve');
    expect(result.image.config.Shell).toEqual(["/bin/ash", "-c"]);
    expect(result.image.config.Cmd).toEqual(["/bin/ash", "-c", "serve"]);
    expect(history(result).at(-2)).toBe("SHELL [/bin/ash -c] (empty)");
    const err = await convertError("FROM busybox\nSHELL /bin/ash -c\n");
    expect(err.message).toBe("SHELL requires the arguments to be in JSON form");
  });

  test("CMD sets the command (ArgsEscaped, as BuildKit sets it); history quotes it as Go does", async () => {
    const result = await image('CMD ["echo", "a \\"b\\""]');
    expect(result.image.config.Cmd).toEqual(["echo", 'a "b"']);
    expect(result.image.config.ArgsEscaped).toBe(true);
    expect(history(result).at(-1)).toBe('CMD ["echo" "a \\"b\\""] (empty)');
  });

  test("ENTRYPOINT drops an inherited CMD but keeps one set in the stage; [] clears it", async () => {
    const inherited = await image("ENTRYPOINT [\"app\"]");
    expect(inherited.image.config.Entrypoint).toEqual(["app"]);
    expect(inherited.image.config.Cmd).toBeUndefined();
    const own = await image('CMD ["--help"]\nENTRYPOINT app');
    expect(own.image.config).toMatchObject({ Entrypoint: ["/bin/sh", "-c", "app"], Cmd: ["--help"] });
    expect(history(own).at(-1)).toBe('ENTRYPOINT ["/bin/sh" "-c" "app"] (empty)');
    const cleared = await image("ENTRYPOINT []", { busybox: { Entrypoint: ["x"] } });
    expect(cleared.image.config.Entrypoint).toBeUndefined();
    expect(history(cleared).at(-1)).toBe("ENTRYPOINT [] (empty)");
  });

  test("HEALTHCHECK with every option, defaults left out of the config, and NONE", async () => {
    const result = await image("HEALTHCHECK --interval=1m30s --timeout=5s --start-period=500ms --start-interval=2s --retries=4 CMD curl -f http://x/ || exit 1");
    expect(result.image.config.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "curl -f http://x/ || exit 1"], Interval: 90e9, Timeout: 5e9, StartPeriod: 5e8, StartInterval: 2e9, Retries: 4,
    });
    // Go's %+v of the config (docker's v0.8 printed it with &{…} and quoted durations).
    expect(history(result).at(-1)).toBe(
      "HEALTHCHECK {Test:[CMD-SHELL curl -f http://x/ || exit 1] Interval:1m30s Timeout:5s StartPeriod:500ms StartInterval:2s Retries:4} (empty)",
    );
    const exec = await image('HEALTHCHECK CMD ["/check", "-q"]');
    expect(exec.image.config.Healthcheck).toEqual({ Test: ["CMD", "/check", "-q"] });
    const none = await image("HEALTHCHECK NONE");
    expect(none.image.config.Healthcheck).toEqual({ Test: ["NONE"] });
    expect(history(none).at(-1)).toBe("HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0} (empty)");
  });

  test("HEALTHCHECK errors", async () => {
    const msg = async (line: string) => (await convertError(`FROM busybox\n${line}\n`)).message;
    expect(await msg("HEALTHCHECK --interval=10us CMD x")).toBe('interval "interval" cannot be less than 1ms');
    expect(await msg("HEALTHCHECK --timeout=5 CMD x")).toBe('time: missing unit in duration "5"');
    expect(await msg("HEALTHCHECK --retries=-1 CMD x")).toBe("--retries cannot be negative (-1)");
    expect(await msg("HEALTHCHECK CMD")).toBe("missing command after HEALTHCHECK CMD");
    expect(await msg("HEALTHCHECK RUN x")).toBe('unknown type "RUN" in HEALTHCHECK (try CMD)');
    expect(await msg("HEALTHCHECK NONE x")).toBe("HEALTHCHECK NONE takes no arguments");
  });

  test("USER sets the config and the user of later steps, including WORKDIR's directory", async () => {
    const result = await image("ENV U=app\nUSER $U:staff\nWORKDIR /home/app\nRUN id");
    expect(result.image.config.User).toBe("app:staff");
    expect((files(result.definition)[0] as FileOp).actions[0]).toMatchObject({ action: "mkdir", path: "/home/app", owner: { user: "app", group: "staff" } });
    expect(execs(result.definition)[0]?.meta.user).toBe("app:staff");
    expect(history(result)).toContain("USER app:staff (empty)");
  });

  test("WORKDIR joins relative paths, keeps an absolute one as written, and creates the directory", async () => {
    const result = await image("WORKDIR /a\nWORKDIR b/../c\nWORKDIR /d/\nRUN pwd");
    expect(files(result.definition).map((f) => (f.actions[0] as { path: string }).path)).toEqual(["/a", "/a/c", "/d"]);
    expect(result.image.config.WorkingDir).toBe("/d/");
    expect(execs(result.definition)[0]?.meta.cwd).toBe("/d/");
    // Checked against docker's BuildKit: `WORKDIR /app/` is kept as written in the config and history.
    expect(history(result).slice(1, 4)).toEqual(["WORKDIR /a", "WORKDIR /a/c", "WORKDIR /d/"]);
    const root = await image("WORKDIR /");
    expect(files(root.definition)).toEqual([]);
    expect(history(root).at(-1)).toBe("WORKDIR / (empty)");
  });

  test("a base image's WORKDIR and USER apply to the stage's steps", async () => {
    const result = await image("RUN x", { busybox: { WorkingDir: "/srv", User: "web" } });
    expect(execs(result.definition)[0]?.meta).toMatchObject({ cwd: "/srv", user: "web" });
  });

  test("ONBUILD is stored as written (heredocs included) without a history entry", async () => {
    const result = await image("onbuild  COPY <<EOF /x\nhi\nEOF\nONBUILD RUN make");
    expect(result.image.config.OnBuild).toEqual(["COPY <<EOF /x\nhi\nEOF", "RUN make"]);
    expect(history(result)).toEqual(["base busybox"]);
    expect((await convertError("FROM busybox\nONBUILD ONBUILD RUN x\n")).message).toBe("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    expect((await convertError("FROM busybox\nONBUILD FROM x\n")).message).toBe("FROM isn't allowed as an ONBUILD trigger");
  });

  test("the base image's own config carries over, without its creation time", async () => {
    const result = await image("ENV A=1", { busybox: { Labels: { l: "1" }, StopSignal: "SIGINT", ExposedPorts: { "22/tcp": {} } } });
    expect(result.image.config).toMatchObject({ Labels: { l: "1" }, StopSignal: "SIGINT", ExposedPorts: { "22/tcp": {} }, Cmd: ["sh"] });
    expect(result.image.created).toBeUndefined();
    expect(result.image.rootfs.diff_ids).toHaveLength(1);
  });
});
