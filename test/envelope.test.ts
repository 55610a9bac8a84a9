// Unit tests for src/telemetry/envelope.ts time formatting: the cached-second formatter equals the plain toISOString one.

import { expect, spyOn, test } from "bun:test";
import { formatCapturedAt, SYSTEM_ENVELOPE_CLOCK } from "../src/telemetry/envelope.ts";

/** The straightforward formatting the cached one must equal. */
function reference(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  return `${new Date(wholeMs).toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}Z`;
}

test.each([
  [Date.UTC(2026, 10, 24, 7, 1, 26, 123) + 0.456, "2026-11-24T07:01:26.123456Z"],
  [Date.UTC(2026, 10, 24, 7, 1, 26, 0), "2026-11-24T07:01:26.000000Z"],
  [Date.UTC(2026, 10, 24, 7, 1, 26, 999) + 0.999, "2026-11-24T07:01:26.999999Z"],
  [Date.UTC(2026, 11, 31, 23, 59, 59, 999) + 0.5, "2026-12-31T23:59:59.999500Z"],
  [Date.UTC(2027, 0, 1, 0, 0, 0, 7) + 0.05, "2027-01-01T00:00:00.007050Z"],
])("%p -> %p", (epochMs, text) => {
  expect(formatCapturedAt(epochMs)).toBe(text);
});

test("consecutive and random times format exactly as toISOString does (the cached second never leaks)", () => {
  let seed = 3;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let t = Date.UTC(2026, 11, 1, 13, 59, 58);
  for (let i = 0; i < 20_000; i++) {
    t += rand() * (i % 100 === 0 ? 5_000 : 0.4); // mostly within one second, sometimes jumping ahead
    expect(formatCapturedAt(t)).toBe(reference(t));
    const back = t - rand() * 3_000; // and sometimes back to an earlier second
    expect(formatCapturedAt(back)).toBe(reference(back));
  }
});

test("captured_at follows the wall clock when it jumps away from the monotonic one (a laptop waking from sleep, a clock set)", () => {
  // The monotonic clock stands still while the machine sleeps: time read from it alone would be
  // behind by every sleep since the process started, on every later event.
  const slept = 3 * 3_600_000;
  const realNow = Date.now;
  const wall = spyOn(Date, "now").mockImplementation(() => realNow() + slept);
  try {
    expect(Math.abs(SYSTEM_ENVELOPE_CLOCK.nowEpochMs() - (realNow() + slept))).toBeLessThan(1_000);
    const first = SYSTEM_ENVELOPE_CLOCK.nowEpochMs();
    expect(SYSTEM_ENVELOPE_CLOCK.nowEpochMs()).toBeGreaterThanOrEqual(first); // and runs on from there
  } finally {
    wall.mockRestore();
  }
  expect(Math.abs(SYSTEM_ENVELOPE_CLOCK.nowEpochMs() - Date.now())).toBeLessThan(1_000);
});
