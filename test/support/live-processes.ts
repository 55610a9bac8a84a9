// Stops the servers a test started and did not stop: a failed assertion skips the test's own stop, and a serve (or an HTTP upstream) ignores its stdin, so it outlived the whole run.

import type { Subprocess } from "bun";

interface Tracked {
  readonly proc: Subprocess;
  readonly stop: () => Promise<unknown>;
  /** Started inside a test (or its beforeEach), not in a beforeAll whose afterAll stops it. */
  readonly inTest: boolean;
}

const live = new Set<Tracked>();
let inTest = false;

/**
 * Records a started process until it exits; `stop` is the handle's own stop (idempotent: the
 * test may call it too). The preloaded cleanup.ts stops it after its test, whatever the outcome.
 */
export function trackProcess(proc: Subprocess, stop: () => Promise<unknown>): void {
  const entry: Tracked = { proc, stop, inTest };
  live.add(entry);
  void proc.exited.then(() => live.delete(entry));
}

/** A root beforeEach: what starts from now on belongs to this test. */
export function testStarted(): void {
  inTest = true;
}

/** A root afterEach: stops what this test started and left running (a beforeAll's servers stay for the next tests). */
export async function testEnded(): Promise<void> {
  inTest = false;
  await Promise.all([...live].filter((entry) => entry.inTest).map((entry) => entry.stop()));
}

/** After the run: stops everything still running (a beforeAll's server whose afterAll never ran). */
export async function stopLeftovers(): Promise<void> {
  await Promise.all([...live].map((entry) => entry.stop()));
}

/** At exit, synchronously (no await is possible there): kills what is somehow still running. */
export function killLeftovers(): void {
  for (const entry of live) if (entry.proc.exitCode === null) entry.proc.kill("SIGKILL");
}
