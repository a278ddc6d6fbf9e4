// A pasta whose kitbuild died before the watchdog heard of it is found by its netns path (which
// names the owner's pid) and killed at the next start; a live owner's pasta is left alone.
import { describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { killOrphanPastas } from "../../src/worker/network/pasta.ts";
import { isProcessAlive } from "../../src/util/process.ts";
import { tempDir } from "../harness.ts";

/** A stand-in whose command line is pasta's: argv[0] ends in "pasta", then `--netns PATH`. */
function fakePasta(stepsDir: string, owner: number): ChildProcess {
  const argv0 = `${stepsDir}/bin/pasta`;
  return spawn("bash", ["-c", `exec -a ${argv0} /bin/sh -c 'sleep 60' ${argv0} --netns ${stepsDir}/kitbuild-${owner}-1/netns`], { stdio: "ignore" });
}

const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));

describe("orphan pasta", () => {
  test("killed when its owner is dead, kept while its owner lives", async () => {
    const stepsDir = tempDir();
    const dead = spawnSync("true").pid as number;
    const orphan = fakePasta(stepsDir, dead);
    const owned = fakePasta(stepsDir, process.pid);
    try {
      await Bun.sleep(200);
      killOrphanPastas(stepsDir, isProcessAlive);
      await exited(orphan);
      expect(orphan.signalCode).toBe("SIGKILL");
      await Bun.sleep(100);
      expect(owned.exitCode).toBeNull();
      expect(owned.signalCode).toBeNull();
    } finally {
      orphan.kill("SIGKILL");
      owned.kill("SIGKILL");
    }
  });
});
