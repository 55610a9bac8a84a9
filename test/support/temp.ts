// Test helper: temporary directories removed by the test (or file) that made them, and the clean environment black-box tests run in.

import { afterAll, onTestFinished } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const left = new Set<string>();

/**
 * Removes what is still left after the whole run (called by test/support/cleanup.ts, preloaded):
 * a describe block whose tests a `-t` filter skipped runs none of its hooks, so a directory made
 * while its tests were collected would stay. (Bun's test runner fires no process "exit" event.)
 */
export function removeLeftovers(): void {
  for (const path of left) rmSync(path, { recursive: true, force: true });
  left.clear();
}

/**
 * Removes `path` when the current test finishes, or, when called outside a test (a file's top
 * level or a describe block), after that file's or block's tests. Support modules are shared by
 * every test file of a run, so a module-level afterAll would only ever fire for the first file.
 */
export function removeAfterwards(path: string): string {
  left.add(path);
  const remove = (): void => {
    rmSync(path, { recursive: true, force: true });
    left.delete(path);
  };
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return path;
}

/** A fresh temp directory for one test's event files and logs, removed afterwards. */
export function tempDir(prefix = "baton-test-"): string {
  return removeAfterwards(mkdtempSync(join(tmpdir(), prefix)));
}

/** A clean environment: PATH, HOME and a stderr: event sink, plus what the test sets. Never the developer's BATON_* vars. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  // Events go to stderr unless the test names its sinks: the default sinks would also append to the
  // machine's real /tmp/baton-proxy.jsonl, which no test may touch. (stderr: is the default minus the
  // file, so the proxy behaves the same: every sink local, the report tool offered.)
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    BATON_EVENT_SINK: "stderr:",
    ...extra,
  };
}
