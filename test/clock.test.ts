// The telemetry clock (src/telemetry/clock.ts): ages and paces on a clock the wall clock being set cannot move.

import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { SYSTEM_CLOCK } from "../src/telemetry/clock.ts";

const HOUR_MS = 3_600_000;

describe("SYSTEM_CLOCK", () => {
  afterEach(() => {
    // Every spy of this file is on Date.now or performance.now: put the real ones back whatever a test did.
    for (const fn of [Date.now, performance.now]) (fn as { mockRestore?: () => void }).mockRestore?.();
  });

  test("now() never goes back when the wall clock is set back an hour (an NTP step, a VM restored)", () => {
    const before = SYSTEM_CLOCK.now();
    const wall = Date.now();
    spyOn(Date, "now").mockReturnValue(wall - HOUR_MS);
    const after = SYSTEM_CLOCK.now();
    expect(after).toBeGreaterThanOrEqual(before);
    expect(after - before).toBeLessThan(HOUR_MS / 2);
  });

  test("now() does not leap when the wall clock is set forward an hour", () => {
    const before = SYSTEM_CLOCK.now();
    spyOn(Date, "now").mockReturnValue(Date.now() + HOUR_MS);
    expect(SYSTEM_CLOCK.now() - before).toBeLessThan(HOUR_MS / 2);
  });
});
