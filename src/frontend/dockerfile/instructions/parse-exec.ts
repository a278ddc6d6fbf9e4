// The instructions with heredocs and the richest flags: RUN (--mount, --network, --security),
// COPY and ADD (sources and heredoc contents, --from, --chown, --chmod, --link, --parents,
// --exclude; ADD's --checksum, --keep-git-dir, --unpack) and ONBUILD.
import { chompHeredocContent, parseHeredoc } from "../parser/parser.ts";
import { parseMount } from "./mount.ts";
import { commandLine, InstructionError, type ParseRequest } from "./request.ts";
import type { CopyCommand, NetworkMode, OnbuildCommand, RunCommand, SecurityMode } from "./types.ts";

const NETWORKS: readonly NetworkMode[] = ["default", "none", "host"];
const SECURITY: readonly SecurityMode[] = ["sandbox", "insecure"];

export function parseRun(req: ParseRequest): RunCommand {
  const flags = req.flags({ mount: "strings", network: "string", security: "string" });
  const mounts = flags.strings("mount");
  // Checked now for what needs no variables (CSV syntax, `from` without expansion); the rest at conversion.
  for (const m of mounts) parseMount(m);
  const network = flags.string("network") ?? "default";
  if (!NETWORKS.includes(network as NetworkMode)) {
    throw new InstructionError(`invalid network mode "${network}"`, req.location, `use --network=${NETWORKS.join("|")}`);
  }
  const security = flags.string("security") ?? "sandbox";
  if (!SECURITY.includes(security as SecurityMode)) {
    throw new InstructionError(`security "${security}" is not valid`, req.location, `use --security=${SECURITY.join("|")}`);
  }
  return {
    location: req.location,
    original: req.original,
    kind: "run",
    ...commandLine(req.node, req.args),
    mounts,
    network: network as NetworkMode,
    security: security as SecurityMode,
    files: req.node.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp, expand: h.expand })),
  };
}

export function parseCopy(req: ParseRequest, kind: "copy" | "add"): CopyCommand {
  const name = kind.toUpperCase();
  if (req.args.length < 2) {
    throw new InstructionError(
      `${name} requires at least two arguments, but only one was provided. Destination could not be determined`,
      req.location,
      `write ${name} SOURCE... DEST`,
    );
  }
  const flags =
    kind === "copy"
      ? req.flags({ chown: "string", from: "string", chmod: "string", link: "bool", exclude: "strings", parents: "bool" })
      : req.flags({ chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", unpack: "bool", exclude: "strings" });
  const dest = req.args.at(-1) as string;
  if (heredocOf(dest)) throw new InstructionError(`${name} cannot accept a heredoc as a destination`, req.location, "name a destination path after the heredoc");
  const contents = new Map(req.node.heredocs.map((h) => [h.name, h.content]));
  const sourcePaths: string[] = [];
  const sourceContents: CopyCommand["sourceContents"] = [];
  for (const src of req.args.slice(0, -1)) {
    const doc = heredocOf(src);
    if (!doc) {
      sourcePaths.push(src);
      continue;
    }
    const content = contents.get(doc.name) ?? "";
    sourceContents.push({ path: doc.name, data: doc.chomp ? chompHeredocContent(content) : content, expand: doc.expand });
  }
  return {
    location: req.location,
    original: req.original,
    kind,
    sourcePaths,
    sourceContents,
    dest,
    from: kind === "copy" ? flags.string("from") || undefined : undefined,
    chown: flags.string("chown") || undefined,
    chmod: flags.string("chmod") || undefined,
    link: flags.bool("link"),
    parents: kind === "copy" && flags.bool("parents"),
    exclude: flags.strings("exclude"),
    checksum: kind === "add" ? flags.string("checksum") || undefined : undefined,
    keepGitDir: kind === "add" ? flags.boolOrUndefined("keep-git-dir") : undefined,
    unpack: kind === "add" ? flags.boolOrUndefined("unpack") : undefined,
  };
}

/** A word that opens a heredoc ("<<EOF", "<<-'EOF'"), or undefined; malformed ones are plain words. */
function heredocOf(word: string) {
  try {
    return parseHeredoc(word);
  } catch {
    return undefined;
  }
}

const ONBUILD_PREFIX = /^\s*ONBUILD\s*/i;

export function parseOnbuild(req: ParseRequest): OnbuildCommand {
  if (req.args.length === 0) throw new Error("ONBUILD requires at least one argument");
  req.flags({});
  const trigger = (req.args[0] as string).trim().toUpperCase();
  if (trigger === "ONBUILD") {
    throw new InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", req.location, "give ONBUILD one instruction");
  }
  if (trigger === "MAINTAINER" || trigger === "FROM") {
    throw new InstructionError(`${trigger} isn't allowed as an ONBUILD trigger`, req.location);
  }
  let expression = req.node.original.replace(ONBUILD_PREFIX, "");
  for (const doc of req.node.heredocs) expression += `\n${doc.content}${doc.name}`;
  return { location: req.location, original: req.original, kind: "onbuild", expression };
}
