// A hand-driven telemetry Clock for unit tests: timers fire only when the test advances time.

import type { Clock } from "../../src/telemetry/clock.ts";

export interface FakeClock extends Clock {
  /** Moves time forward, firing due timers in order (each sees `now()` at its due time). */
  advance(ms: number): void;
  /** Timers still pending. */
  timers(): number;
}

export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(nextId, { at: now + Math.max(0, ms), fn });
      return nextId++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    timers: () => timers.size,
  };
}
