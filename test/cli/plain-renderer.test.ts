// The plain renderer prints BuildKit's --progress=plain format.
import { describe, expect, test } from "bun:test";
import { PlainRenderer } from "../../src/cli/render/plain.ts";
import { createRenderer } from "../../src/cli/render/renderer.ts";

describe("PlainRenderer", () => {
  test("steps, logs with times, statuses, cached and failed steps, and the error report", () => {
    let out = "";
    const r = new PlainRenderer((t) => (out += t));
    const t0 = 1_000_000;
    r.event({ type: "vertex", id: "a", name: "[1/3] FROM img", started: t0 });
    r.event({ type: "status", vertex: "a", id: "resolve img", current: 0, started: t0, completed: t0 + 5 });
    r.event({ type: "vertex", id: "a", name: "[1/3] FROM img", started: t0, completed: t0 + 250 });
    r.event({ type: "vertex", id: "b", name: "[2/3] COPY . .", started: t0, completed: t0, cached: true });
    r.event({ type: "vertex", id: "c", name: "[3/3] RUN make", started: t0 });
    r.event({ type: "log", vertex: "c", stream: 1, data: new TextEncoder().encode("compiling\npart"), timestamp: t0 + 123 });
    r.event({ type: "log", vertex: "c", stream: 2, data: new TextEncoder().encode("ial line\n"), timestamp: t0 + 1500 });
    r.event({ type: "vertex", id: "c", name: "[3/3] RUN make", started: t0, completed: t0 + 2000, error: "exit code: 2" });
    r.close();
    expect(out).toBe(
      [
        "#1 [1/3] FROM img",
        "#1 resolve img done",
        "#1 DONE 0.3s",
        "",
        "#2 [2/3] COPY . .",
        "#2 CACHED",
        "",
        "#3 [3/3] RUN make",
        "#3 0.123 compiling",
        "#3 0.123 partial line",
        "#3 ERROR: exit code: 2",
        "",
        "------",
        " > [3/3] RUN make:",
        "0.123 compiling",
        "0.123 partial line",
        "------",
        "",
      ].join("\n"),
    );
  });
});

describe("quiet progress", () => {
  const terminal = (writes: string[]) => ({ stderr: (t: string) => void writes.push(t), stdout: () => {}, stderrIsTTY: () => false, columns: () => 80 });

  test("a build that did not fail writes nothing at all, so process.stderr is never made", () => {
    const writes: string[] = [];
    const r = createRenderer("quiet", terminal(writes));
    r.event({ type: "vertex", id: "a", name: "[1/2] FROM img", started: 1, completed: 2 });
    r.event({ type: "vertex", id: "b", name: "[2/2] RUN true", started: 2, completed: 3 });
    r.close();
    expect(writes).toEqual([]);
  });

  test("a failed step's log is still written at the end", () => {
    const writes: string[] = [];
    const r = createRenderer("quiet", terminal(writes));
    r.event({ type: "vertex", id: "c", name: "[2/2] RUN make", started: 1 });
    r.event({ type: "log", vertex: "c", stream: 2, data: new TextEncoder().encode("boom\n"), timestamp: 2 });
    r.event({ type: "vertex", id: "c", name: "[2/2] RUN make", started: 1, completed: 3, error: "exit code: 2" });
    r.close();
    expect(writes.join("")).toContain("boom");
    expect(writes.join("")).toContain("[2/2] RUN make");
  });
});
