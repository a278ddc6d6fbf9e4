// Step names of a several-platform build (BuildKit's MultiPlatformRequested): the stage's platform
// first, "->ARCH" once a BUILDPLATFORM stage has its target's variables, FROM named without them;
// a single-platform build's names are unchanged.
import { describe, expect, test } from "bun:test";
import { convert } from "./convert-helpers.ts";

const DOCKERFILE = [
  "FROM --platform=$BUILDPLATFORM busybox AS builder",
  "RUN echo native",
  "ARG TARGETARCH",
  "RUN echo for $TARGETARCH",
  "FROM busybox",
  "COPY --from=builder /out /out",
  "",
].join("\n");

const names = async (multiPlatform: boolean, architecture: string) => {
  const result = await convert(DOCKERFILE, { platform: { os: "linux", architecture }, ...(multiPlatform ? { multiPlatform } : {}) });
  return Object.values(result.definition.metadata).flatMap((m) => (m.name ? [m.name] : []));
};

describe("step names with several platforms", () => {
  test("the platform prefix, and the cross-compilation target after ARG TARGETARCH", async () => {
    const arm = await names(true, "arm64");
    expect(arm).toContain("[linux/amd64 builder 1/3] FROM docker.io/library/busybox:latest@sha256:" + "a".repeat(64));
    expect(arm).toContain("[linux/amd64 builder 2/3] RUN echo native");
    expect(arm).toContain("[linux/amd64->arm64 builder 3/3] RUN echo for arm64");
    expect(arm).toContain("[linux/arm64 stage-1 2/2] COPY --from=builder /out /out");
    // The steps before ARG TARGETARCH are the same vertex for every target: same name too.
    const amd = await names(true, "amd64");
    expect(amd).toContain("[linux/amd64 builder 2/3] RUN echo native");
    expect(amd).toContain("[linux/amd64 builder 3/3] RUN echo for amd64");
  });

  test("one platform: no prefix, as before", async () => {
    const single = await names(false, "arm64");
    expect(single).toContain("[builder 2/3] RUN echo native");
    expect(single).toContain("[stage-1 2/2] COPY --from=builder /out /out");
  });
});
