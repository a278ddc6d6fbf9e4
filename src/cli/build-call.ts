// `kitbuild build --call=check|outline|targets` (and `--check`): the frontend's answer printed on
// stdout as buildx prints it; a check with findings exits 1 (unless ignorestatus=true), and a
// check whose config says error=true fails with BuildKit's "lint violation" error.
import { type CallRequest, runCall } from "../control/checks.ts";
import { KitError } from "../util/errors.ts";
import type { CallFlag } from "./build-flags.ts";
import { checkJson, checkText, outlineJson, outlineText, targetsJson, targetsText } from "./call-output.ts";
import type { Renderer } from "./render/trace.ts";
import type { Runtime } from "./runtime.ts";

export async function runBuildCall(rt: Runtime, call: CallFlag, req: CallRequest, renderer: Renderer): Promise<void> {
  let result;
  try {
    result = await runCall(req, call.name, (e) => renderer.event(e), rt.signal);
  } finally {
    renderer.close();
  }
  const json = call.format === "json";
  if (result.kind === "outline") return void (await rt.stdout(json ? `${outlineJson(result.outline, result.source)}\n` : outlineText(result.outline)));
  if (result.kind === "targets") return void (await rt.stdout(json ? `${targetsJson(result.targets, result.source)}\n` : targetsText(result.targets)));
  const { warnings, failure, source } = result;
  if (json) await rt.stdout(`${checkJson(warnings, source, failure)}\n`);
  else if (warnings.length > 0 || !failure) await rt.stdout(checkText(warnings, source));
  if (failure) {
    if (!json && warnings.length > 0) await rt.stdout("\n");
    throw new KitError("E_DOCKERFILE_CHECK_FAILED", failure, { hint: "fix the findings above, or skip their rules with # check=skip=RULE" });
  }
  // BuildKit's status code: 1 when the check found anything (buildx exits with it, printing nothing more).
  if (warnings.length > 0 && !call.ignoreStatus) {
    rt.failure = new KitError("E_DOCKERFILE_CHECK_FINDINGS", `the build checks found ${warnings.length} warning(s)`);
  }
}
