// Subcommands other than build/debug refuse what citty would ignore: unknown flags, string flags
// without a value, surplus arguments.
import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { checkArgs } from "../../src/cli/strict-args.ts";

const defs = {
  server: { type: "positional", required: false },
  all: { type: "boolean", alias: "a" },
  force: { type: "boolean", alias: "f" },
  username: { type: "string", alias: "u" },
  "keep-storage": { type: "string" },
} satisfies ArgsDef;

const err = (args: string[]) => {
  try {
    checkArgs("cmd", args, defs);
    return undefined;
  } catch (e) {
    return e as { code: string; message: string; hint?: string };
  }
};

describe("checkArgs", () => {
  test("declared flags, aliases, grouped short flags, values inline or next, one positional pass", () => {
    for (const args of [[], ["host"], ["-af"], ["--all", "--force"], ["-u", "me"], ["-ume"], ["-fu", "me", "host"], ["--keep-storage=1GB"], ["--keep-storage", "1GB"], ["--", "host"]]) {
      expect(err(args)).toBeUndefined();
    }
  });

  test("an unknown long or short flag is a usage error naming it", () => {
    expect(err(["--keep-storge", "1GB"])).toMatchObject({ code: "E_USAGE", message: "unknown flag: --keep-storge", hint: "see kitbuild cmd --help" });
    expect(err(["-ax"])).toMatchObject({ code: "E_USAGE", message: "unknown shorthand flag: 'x' in -ax" });
  });

  test("a string flag without its value is a usage error", () => {
    expect(err(["--keep-storage"])?.message).toBe("flag needs an argument: --keep-storage");
    expect(err(["-fu"])?.message).toBe("flag needs an argument: 'u' in -fu");
  });

  test("surplus positionals are refused, also after --", () => {
    expect(err(["a", "b"])?.message).toBe(`"kitbuild cmd" accepts at most 1 argument`);
    expect(err(["--", "a", "b"])?.message).toBe(`"kitbuild cmd" accepts at most 1 argument`);
    let noneErr: { message: string } | undefined;
    try {
      checkArgs("version", ["x"], {});
    } catch (e) {
      noneErr = e as { message: string };
    }
    expect(noneErr?.message).toBe(`"kitbuild version" accepts no arguments`);
  });
});
