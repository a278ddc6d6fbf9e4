// Typed instructions: flags (BuildKit's bflag rules), RUN --mount values, Go durations, the
// closest-word suggestions, and each instruction's argument checks.
import { describe, expect, test } from "bun:test";
import { formatGoDuration, parseGoDuration } from "../../src/frontend/dockerfile/instructions/duration.ts";
import { FlagError, parseFlags } from "../../src/frontend/dockerfile/instructions/flags.ts";
import { parseMount } from "../../src/frontend/dockerfile/instructions/mount.ts";
import { parseInstructions } from "../../src/frontend/dockerfile/instructions/parse.ts";
import { closest } from "../../src/frontend/dockerfile/instructions/suggest.ts";
import type { Command } from "../../src/frontend/dockerfile/instructions/types.ts";
import { parseDockerfile } from "../../src/frontend/dockerfile/parser/parser.ts";

function parse(text: string) {
  return parseInstructions(parseDockerfile(text), text.split("\n"));
}

function commands(body: string): Command[] {
  return parse(`FROM scratch\n${body}\n`).stages[0]?.commands ?? [];
}

function parseErrorOf(body: string): { message: string; hint?: string } {
  try {
    commands(body);
  } catch (e) {
    return { message: (e as Error).message, hint: (e as { hint?: string }).hint };
  }
  throw new Error(`"${body}" parsed`);
}

describe("flags", () => {
  const spec = { link: "bool", from: "string", exclude: "strings" } as const;
  const flagError = (raw: string[]) => {
    try {
      parseFlags(raw, spec);
    } catch (e) {
      if (e instanceof FlagError) return e;
    }
    throw new Error("no FlagError");
  };

  test("booleans take no value, true or false (any case); strings need one; strings repeat", () => {
    expect(parseFlags(["--link"], spec).bool("link")).toBe(true);
    expect(parseFlags(["--link=FALSE"], spec).bool("link")).toBe(false);
    expect(parseFlags([], spec).boolOrUndefined("link")).toBeUndefined();
    expect(parseFlags(["--exclude=a", "--exclude=b", "--from="], spec).strings("exclude")).toEqual(["a", "b"]);
    expect(parseFlags(["--from=x", "--", "--link"], spec).bool("link")).toBe(false);
  });

  test("BuildKit's messages for bad flags", () => {
    expect(flagError(["--link=yes"]).message).toBe("expecting boolean value for flag --link, not: yes");
    expect(flagError(["--link="]).message).toBe("missing a value on flag: --link");
    expect(flagError(["--from"]).message).toBe("missing a value on flag: --from");
    expect(flagError(["--from=a", "--from=b"]).message).toBe("duplicate flag specified: --from");
    expect(flagError(["-from=a"]).message).toBe("arg should start with -- : -from=a");
    const unknown = flagError(["--frm=a"]);
    expect(unknown.message).toBe("unknown flag: --frm");
    expect(unknown.hint).toBe("did you mean --from?");
  });
});

describe("RUN --mount values", () => {
  test("defaults: bind and secret are read-only, cache and tmpfs writable", () => {
    expect(parseMount("target=/t", (w) => w)).toMatchObject({ type: "bind", target: "/t", readonly: true });
    expect(parseMount("type=cache,target=/t", (w) => w).readonly).toBe(false);
    expect(parseMount("type=tmpfs,target=/t", (w) => w).readonly).toBe(false);
    expect(parseMount("type=cache,target=/t,ro", (w) => w).readonly).toBe(true);
    expect(parseMount("type=bind,target=/t,rw=true", (w) => w).readonly).toBe(false);
  });

  test("every option and alias", () => {
    const m = parseMount("type=cache,id=x,dst=/d,src=/s,from=stage,sharing=PRIVATE,mode=0750,uid=1,gid=2", (w) => w);
    expect(m).toMatchObject({ type: "cache", id: "x", target: "/d", source: "/s", from: "stage", sharing: "private", mode: 0o750, uid: 1, gid: 2 });
    expect(parseMount("type=secret,id=a,env=A,required=false", (w) => w)).toMatchObject({ env: "A", required: false });
    expect(parseMount("type=ssh,required", (w) => w).required).toBe(true);
    expect(parseMount("type=tmpfs,target=/t,size=1.5g", (w) => w).sizeLimit).toBe(1.5 * 1024 ** 3);
    expect(parseMount('type=bind,"target=/a,b"', (w) => w).target).toBe("/a,b");
  });

  test("values go through the expander; without one only `from` is read", () => {
    expect(parseMount("type=cache,target=$T", (w) => w.replace("$T", "/x")).target).toBe("/x");
    expect(parseMount("type=cache,target=$T,from=s")).toMatchObject({ type: "bind", target: "", from: "s" });
  });

  test("errors", () => {
    const err = (v: string) => {
      try {
        parseMount(v, (w) => w);
      } catch (e) {
        return (e as Error).message;
      }
      return "parsed";
    };
    expect(err("type=bind,required")).toBe("unexpected key 'required' for mount type 'bind'");
    expect(err("type=cache,size=1m")).toBe("unexpected key 'size' for mount type 'cache'");
    expect(err("type=bind,target")).toBe("invalid field 'target' must be a key=value pair");
    expect(err("type=cache,uid=x")).toBe("invalid value x for uid");
    expect(err("type=cache,mode=9")).toBe("invalid value 9 for mode");
    expect(err("type=bind,sharing=shared")).toBe("invalid cache sharing set for bind mount");
    expect(err("type=secret,id=a,src=b")).toBe("both source and id can't be set");
    expect(err("type=secret,id=a,from=b")).toBe("secret mount should not have a from");
    expect(err('"target=/a')).toBe('failed to parse csv mounts: extraneous or missing " in quoted-field');
    expect(err('target="/a"')).toBe('failed to parse csv mounts: bare " in non-quoted-field');
  });
});

describe("Go durations", () => {
  test("parse as time.ParseDuration", () => {
    expect(parseGoDuration("1h2m3.5s")).toBe(3723.5e9);
    expect(parseGoDuration("1.5ms")).toBe(1.5e6);
    expect(parseGoDuration("300\u00b5s")).toBe(3e5);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("-2s")).toBe(-2e9);
    expect(() => parseGoDuration("1d")).toThrow('time: unknown unit "d" in duration "1d"');
    expect(() => parseGoDuration("s")).toThrow('time: invalid duration "s"');
  });

  test("print as Duration.String", () => {
    expect([0, 1, 1500, 2e6, 1.5e9, 60e9, 90e9, 3600e9, 3723.5e9].map(formatGoDuration)).toEqual([
      "0s", "1ns", "1.5\u00b5s", "2ms", "1.5s", "1m0s", "1m30s", "1h0m0s", "1h2m3.5s",
    ]);
  });
});

describe("suggestions", () => {
  test("the closest option within two edits, in the case the user wrote", () => {
    expect(closest("COPPY", ["add", "copy", "cmd"], false)).toBe("COPY");
    expect(closest("coppy", ["ADD", "COPY"], false)).toBe("copy");
    expect(closest("chwon", ["chown", "chmod"], true)).toBe("chown");
    expect(closest("banana", ["chown", "chmod"], true)).toBeUndefined();
    expect(closest("copy", ["copy"], true)).toBeUndefined();
  });
});

describe("instruction arguments", () => {
  test("instructions taking one argument, ENV/LABEL names, COPY's destination", () => {
    expect(parseErrorOf("WORKDIR").message).toBe("WORKDIR requires exactly one argument");
    expect(parseErrorOf("USER").message).toBe("USER requires exactly one argument");
    expect(parseErrorOf("ENV =x").message).toBe("ENV names can not be blank");
    expect(parseErrorOf("ARG =x").message).toBe("ARG names can not be blank");
    expect(parseErrorOf("EXPOSE").message).toBe("EXPOSE requires at least one argument");
    expect(parseErrorOf("COPY onlyone").message).toBe("COPY requires at least two arguments, but only one was provided. Destination could not be determined");
    expect(parseErrorOf("FROM a AS 1x").message).toBe('invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  });

  test("flags are checked per instruction; BuildKit ignores ARG's, STOPSIGNAL's and HEALTHCHECK NONE's", () => {
    expect(parseErrorOf("ENV --x=1 A=1").message).toBe("unknown flag: --x");
    expect(parseErrorOf("ENV --x=1 A=1").hint).toBe("this instruction takes no flags");
    expect(commands("ARG --x=1 A=1\nSTOPSIGNAL --y 9\nHEALTHCHECK --bogus NONE").map((c) => c.kind)).toEqual(["arg", "stopsignal", "healthcheck"]);
    expect(parseErrorOf("HEALTHCHECK --bogus CMD x").message).toBe("unknown flag: --bogus");
  });

  test("EXPOSE keeps its words sorted; VOLUME trims them; ENTRYPOINT [] has no command", () => {
    const [expose, volume, ep] = commands('EXPOSE 9 10 8\nVOLUME [" /a "]\nENTRYPOINT []');
    expect(expose).toMatchObject({ kind: "expose", ports: ["10", "8", "9"] });
    expect(volume).toMatchObject({ kind: "volume", volumes: ["/a"] });
    expect(ep).toMatchObject({ kind: "entrypoint", cmdLine: undefined, prependShell: false });
  });

  test("the first and last line of every instruction", () => {
    const df = parse("FROM scratch\nRUN a \\\n  b \\\n\n  c\nCOPY <<EOF /x\nline\nEOF\nENV A=1\n");
    expect(df.stages[0]?.commands.map((c) => [c.kind, c.location.startLine, c.location.endLine])).toEqual([
      ["run", 2, 5],
      ["copy", 6, 8],
      ["env", 9, 9],
    ]);
  });
});
