// The telemetry time source (now and timers), shared by the dispatcher, its sink lanes and its drop log; must never keep the process alive.

/** Time source; injectable so tests drive timers by hand. Real timers must not keep the process alive. */
export interface Clock {
  /** Milliseconds on a clock that only moves forward: for ages, paces and deadlines, never a date. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `performance.now` (monotonic) and unref'd timers (telemetry never keeps the proxy
 * alive). Not `Date.now`: the wall clock set back an hour (an NTP step, a VM restored) held S3
 * batches, upload and export retries and the file sink's reopen for that hour, as their ages went negative.
 */
export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
