// The plain renderer prints BuildKit's --progress=plain format.
import { describe, expect, test } from "bun:test";
import { PlainRenderer } from "../../src/cli/render/plain.ts";

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
