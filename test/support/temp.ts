// Test helper: temporary directories removed by the test (or file) that made them, and the clean environment black-box tests run in.

import { afterAll, onTestFinished } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const left = new Set<string>();
// Last resort for a run that is killed between a test and its cleanup hook.
process.on("exit", () => {
  for (const path of left) rmSync(path, { recursive: true, force: true });
});

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
