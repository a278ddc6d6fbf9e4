// Loaded before the test files (bunfig.toml): hooks registered here are global, so the harness's
// cleanups run once, after every file.
import { afterAll } from "bun:test";
import { runCleanups } from "./harness.ts";

afterAll(runCleanups);
