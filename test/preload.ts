// Loaded before the test files (bunfig.toml): hooks registered here are global, so the harness's
// cleanups run once, after every file. Removing a whole suite's temp trees (many snapshots and
// exported filesystems) can take several seconds, more than a hook's default 5.
import { afterAll } from "bun:test";
import { runCleanups } from "./harness.ts";

afterAll(runCleanups, 120_000);
