// The telemetry time source (now and timers), shared by the dispatcher, its sink lanes and its drop log; must never keep the process alive.

/** Time source; injectable so tests drive timers by hand. Real timers must not keep the process alive. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and unref'd timers (telemetry never keeps the proxy alive). */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
