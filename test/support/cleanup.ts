// Preloaded by `bun test` (bunfig.toml): stops the servers a test left running (live-processes.ts) and, after the whole run, removes the temp directories whose own cleanup hook never ran.

import { afterAll, afterEach, beforeEach } from "bun:test";
import { killLeftovers, stopLeftovers, testEnded, testStarted } from "./live-processes.ts";
import { removeLeftovers } from "./temp.ts";

beforeEach(testStarted);
afterEach(testEnded);
afterAll(async () => {
  await stopLeftovers();
  removeLeftovers();
});
process.on("exit", killLeftovers);
