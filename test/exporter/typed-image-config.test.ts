// The exported image config keeps only BuildKit's typed fields (docker-image-spec's DockerOCIImage:
// ocispec.Image with ImageConfig plus Healthcheck/OnBuild/Shell), laid out as Go marshals them:
// the top level re-marshaled as a map by the exporter (keys sorted, exporter/containerimage/
// writer.go patchImageConfig), the rest in struct order with empty fields omitted and maps sorted.
import { describe, expect, test } from "bun:test";
import { finalizeImageConfig, goTime } from "../../src/exporter/image-config.ts";
import { configBlob } from "../../src/exporter/manifest.ts";
import type { Digest, ImageConfig } from "../../src/oci/types.ts";

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

// A base image config as `docker import` and old docker builds write it: legacy fields everywhere.
const legacyBase = {
  docker_version: "20.10.7",
  comment: "Imported from -",
  container: "3f1c0e5a",
  container_config: { Hostname: "3f1c0e5a", Cmd: ["/bin/sh"] },
  os: "linux",
  architecture: "amd64",
  created: "2021-06-01T10:00:00.120000000+00:00",
  config: {
    Hostname: "",
    Domainname: "",
    AttachStdin: false,
    AttachStdout: false,
    Tty: false,
    Image: "sha256:0000",
    Labels: { z: "1", a: "2" },
    Env: ["PATH=/bin"],
    Cmd: [],
    Entrypoint: null,
    OnBuild: null,
    ExposedPorts: { "80/tcp": {}, "443/tcp": {} },
    User: "",
  },
  rootfs: { type: "layers", diff_ids: [d("a")] },
  history: [{ created: "2021-06-01T10:00:00.100Z", created_by: "/bin/sh", comment: "Imported from -", empty_layer: false }],
} as unknown as ImageConfig;

describe("image config: BuildKit's typed fields only", () => {
  test("a base image's legacy fields (comment, docker_version, container_config, Hostname, Attach*, Image) are not exported", () => {
    const c = finalizeImageConfig({ config: legacyBase, diffIds: [d("a"), d("b")], baseLayers: 1, created: 1_700_000_000, fromEpoch: false, labels: {} });
    const text = JSON.stringify(c);
    for (const legacy of ["docker_version", "container_config", '"container"', "Hostname", "Domainname", "AttachStdin", "Tty", '"Image"']) {
      expect(text).not.toContain(legacy);
    }
    // The history entry's own comment is a typed field and stays.
    expect(c.history?.[0]?.comment).toBe("Imported from -");
    expect(Object.keys(c)).toEqual(["architecture", "config", "created", "history", "os", "rootfs"]);
  });

  test("fields in Go's order, empty ones omitted, maps sorted, times as Go prints them", () => {
    const c = finalizeImageConfig({ config: legacyBase, diffIds: [d("a")], baseLayers: 1, created: 1_700_000_000, fromEpoch: false, labels: {} });
    expect(JSON.stringify(c.config)).toBe(
      '{"ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":["PATH=/bin"],"Labels":{"a":"2","z":"1"}}',
    );
    expect(JSON.stringify(c.history?.[0])).toBe('{"created":"2021-06-01T10:00:00.1Z","created_by":"/bin/sh","comment":"Imported from -"}');
    expect(JSON.stringify(c.rootfs)).toBe(`{"type":"layers","diff_ids":["${d("a")}"]}`);
  });

  test("Go's time layout: trailing zeros trimmed, at most nanoseconds, a zero offset is Z, others kept", () => {
    expect(goTime("2021-06-01T10:00:00.120000000+00:00")).toBe("2021-06-01T10:00:00.12Z");
    expect(goTime("2021-06-01T10:00:00.000Z")).toBe("2021-06-01T10:00:00Z");
    expect(goTime("2021-06-01T10:00:00.1234567891Z")).toBe("2021-06-01T10:00:00.123456789Z");
    expect(goTime("2021-06-01T10:00:00+02:00")).toBe("2021-06-01T10:00:00+02:00");
  });

  test("Healthcheck, OnBuild and Shell (docker's extension) are kept after the OCI fields", () => {
    const base: ImageConfig = {
      architecture: "arm64",
      variant: "v8",
      os: "linux",
      config: { Shell: ["/bin/bash", "-c"], Healthcheck: { Test: ["CMD", "true"], Interval: 30e9, Retries: 0 }, OnBuild: ["RUN x"], User: "app", StopSignal: "SIGTERM", ArgsEscaped: true },
      rootfs: { type: "layers", diff_ids: [] },
    };
    const c = finalizeImageConfig({ config: base, diffIds: [], baseLayers: 0, created: 0, fromEpoch: true, labels: {} });
    expect(Object.keys(c.config)).toEqual(["User", "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"]);
    expect(c.config.Healthcheck).toEqual({ Test: ["CMD", "true"], Interval: 30e9 });
    expect(Object.keys(c)).toEqual(["architecture", "config", "created", "os", "rootfs", "variant"]);
  });

  test("the config blob escapes <, > and & as Go's encoding/json does (same bytes, same image id)", () => {
    const base: ImageConfig = { architecture: "amd64", os: "linux", config: { Labels: { url: "https://x/?a=1&b=<2>" } }, rootfs: { type: "layers", diff_ids: [] } };
    const blob = configBlob(finalizeImageConfig({ config: base, diffIds: [], baseLayers: 0, created: 0, fromEpoch: true, labels: {} }), true);
    const text = new TextDecoder().decode(blob.bytes);
    expect(text).toContain('"url":"https://x/?a=1\\u0026b=\\u003c2\\u003e"');
    expect(JSON.parse(text).config.Labels.url).toBe("https://x/?a=1&b=<2>");
  });
});
