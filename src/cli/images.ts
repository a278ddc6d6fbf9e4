// `kitbuild images [REPOSITORY[:TAG]]`: the images kept in kitbuild's image store, as `docker images`
// lists them (REPOSITORY TAG IMAGE ID CREATED SIZE; untagged ones as <none>), `-q` for IDs only,
// `--format json` for one JSON object per line with docker's fields.
import { type ArgsDef, defineCommand } from "citty";
import { openEnvironment } from "../control/environment.ts";
import { type ImageListing, listStoredImages, shortId } from "../control/image-store.ts";
import { goEscaped } from "../exporter/manifest.ts";
import { KitError } from "../util/errors.ts";
import { flagValues, humanDuration } from "./du-prune-flags.ts";
import { guarded, type Runtime } from "./runtime.ts";
import { checkArgs } from "./strict-args.ts";

const IMAGES_ARGS = {
  repository: { type: "positional", required: false, description: "Only images of this repository (and tag, REPOSITORY:TAG)" },
  all: { type: "boolean", alias: "a", description: "Show all images (kitbuild keeps no intermediate images: the same list)" },
  quiet: { type: "boolean", alias: "q", description: "Only show image IDs" },
  "no-trunc": { type: "boolean", description: "Don't truncate output" },
  filter: { type: "string", alias: "f", description: "Filter output: dangling=true|false, reference=REPOSITORY[:TAG] (repeatable, ANDed)" },
  format: { type: "string", description: "table (default) or json (one object per line, docker's fields)" },
} satisfies ArgsDef;

export function imagesCommand(rt: Runtime) {
  return defineCommand({
    meta: { name: "images", description: "List the images kept in kitbuild's image store (built with -t NAME)" },
    args: IMAGES_ARGS,
    run: ({ args, rawArgs }) =>
      guarded(rt, async () => {
        checkArgs("images", rawArgs, IMAGES_ARGS);
        const format = args.format ?? "table";
        if (format !== "table" && format !== "json") throw new KitError("E_USAGE", `unsupported --format "${format}"`, { hint: "kitbuild images takes --format table or json (no Go templates)" });
        const keep = imageFilter([...flagValues(rawArgs, "filter"), ...shortFilterValues(rawArgs)], args.repository as string | undefined);
        await using env = await openEnvironment({ config: rt.config(), env: rt.env, insecureRegistries: [] });
        const images = listStoredImages(env).filter(keep);
        // citty reads --no-trunc as a negated "trunc": the raw arguments say it plainly.
        const noTrunc = rawArgs.some((a) => a === "--no-trunc" || a === "--no-trunc=true");
        const id = (i: ImageListing) => (noTrunc ? i.id : shortId(i.id));
        if (args.quiet) await rt.stdout([...new Set(images.map(id))].map((i) => `${i}\n`).join(""));
        else if (format === "json") await rt.stdout(images.map((i) => `${goEscaped(JSON.stringify(jsonRecord(i, id(i))))}\n`).join(""));
        else await rt.stdout(table(images, id));
      }, { solving: false }),
  });
}

/** `-f VALUE`, `-fVALUE`, `-f=VALUE` (citty keeps only the last of a repeated flag). */
function shortFilterValues(rawArgs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") break;
    const m = /^-[aq]*f(.*)$/.exec(arg);
    if (!m || arg.startsWith("--")) continue;
    if (m[1] === "" && i + 1 < rawArgs.length) out.push(rawArgs[++i] as string);
    else if (m[1] !== "") out.push((m[1] as string).replace(/^=/, ""));
  }
  return out;
}

/** `--filter dangling=…`/`reference=…` and the REPOSITORY[:TAG] argument, as docker reads them. */
function imageFilter(filters: string[], repository: string | undefined): (i: ImageListing) => boolean {
  const tests: Array<(i: ImageListing) => boolean> = [];
  if (repository !== undefined) tests.push(matchesReference(repository));
  for (const f of filters) {
    const eq = f.indexOf("=");
    const [key, value] = eq < 0 ? [f, ""] : [f.slice(0, eq), f.slice(eq + 1)];
    if (key === "dangling") {
      if (!/^(true|false|1|0)$/i.test(value)) throw new KitError("E_USAGE", `invalid filter 'dangling=${value}'`, { hint: "use dangling=true or dangling=false" });
      const want = /^(true|1)$/i.test(value);
      tests.push((i) => i.dangling === want);
    } else if (key === "reference") tests.push(matchesReference(value));
    else throw new KitError("E_USAGE", `invalid filter '${key}'`, { hint: "kitbuild images filters by dangling=true|false and reference=REPOSITORY[:TAG]" });
  }
  return (i) => tests.every((t) => t(i));
}

/** REPOSITORY or REPOSITORY:TAG, with * and ? wildcards as docker's reference filter. */
function matchesReference(pattern: string): (i: ImageListing) => boolean {
  const colon = pattern.lastIndexOf(":");
  const [repo, tag] = colon > pattern.lastIndexOf("/") ? [pattern.slice(0, colon), pattern.slice(colon + 1)] : [pattern, undefined];
  const glob = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  const repoRe = glob(repo);
  const tagRe = tag === undefined ? undefined : glob(tag);
  return (i) => !i.dangling && repoRe.test(i.repository) && (tagRe === undefined || tagRe.test(i.tag));
}

function table(images: ImageListing[], id: (i: ImageListing) => string): string {
  const rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
  for (const i of images) rows.push([i.repository, i.tag, id(i), `${humanDuration(Date.now() - i.created)} ago`, humanSize(i.size)]);
  // docker's tabwriter: columns at least 10 wide, 3 spaces of padding.
  const widths = (rows[0] as string[]).map((_, c) => Math.max(10, ...rows.map((r) => (r[c] as string).length + 3)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] as number))).join("")).join("\n") + "\n";
}

function jsonRecord(i: ImageListing, id: string): Record<string, string> {
  return {
    Containers: "N/A",
    CreatedAt: goTime(i.created),
    CreatedSince: `${humanDuration(Date.now() - i.created)} ago`,
    Digest: "<none>",
    ID: id,
    Repository: i.repository,
    SharedSize: "N/A",
    Size: humanSize(i.size),
    Tag: i.tag,
    UniqueSize: "N/A",
    VirtualSize: humanSize(i.size),
  };
}

/** Go's time.Time string in UTC ("2024-05-01 10:00:00 +0000 UTC"), as docker's CreatedAt. */
function goTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}

/** go-units HumanSizeWithPrecision(size, 3): decimal units, three significant digits ("4.26MB"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))}${units[u]}`;
}
