// Unit: the drop log's rate limit, driven by an injected clock (a permanent refusal must not fill the host's log).

import { describe, expect, test } from "bun:test";
import type { Clock } from "../src/telemetry/clock.ts";
import {
  createDropLog,
  describeBound,
  DROP_LOG_INTERVAL_MS,
  MAX_DROP_LOG_INTERVAL_MS,
} from "../src/telemetry/drop-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

function setup() {
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => undefined, clearTimeout: () => undefined };
  const logger = createMemoryLogger();
  const drops = createDropLog(logger, clock);
  /** One flush every 10 s for `seconds`, each dropping `count` of (file, kind). */
  const run = (seconds: number, kind = "flush failed", count = 2) => {
    for (let s = 0; s < seconds; s += 10) {
      now += 10_000;
      drops.add("file", kind, count, "EACCES");
      drops.summarise();
    }
  };
  const later = (ms: number) => {
    now += ms;
    drops.summarise();
  };
  return { drops, logger, run, later };
}

const countsIn = (lines: string[]) =>
  lines.flatMap((line) => [...line.matchAll(/×(\d+)/g)].map((match) => Number(match[1])));

describe("drop log", () => {
  test("the same drops repeating for an hour: summaries back off (doubling, up to a cap), counts stay exact", () => {
    const { drops, logger, run, later } = setup();
    run(3_600);
    later(MAX_DROP_LOG_INTERVAL_MS); // the drops still queued
    const summaries = logger.lines.filter((line) => line.includes("dropped more events"));
    expect(summaries.length).toBeGreaterThan(3);
    expect(summaries.length).toBeLessThanOrEqual(15);
    // First drop logged at once (2), every other one in exactly one summary.
    expect(2 + countsIn(summaries).reduce((a, b) => a + b, 0)).toBe(drops.total());
    expect(drops.total()).toBe(720);
    drops.final();
    expect(logger.lines.at(-1)).toContain(
      "telemetry dropped 720 event deliveries this session: file: flush failed ×720",
    );
  });

  test("a new kind of drop brings the summaries back to every 10 s", () => {
    const { logger, run } = setup();
    run(1_800);
    const before = logger.lines.length;
    run(60, "body too large");
    // "body too large" is new: logged at once, then summaries of the changed set come at the short interval again.
    const after = logger.lines.slice(before);
    expect(after[0]).toContain("body too large");
    expect(after.filter((line) => line.includes("dropped more events")).length).toBeGreaterThanOrEqual(1);
  });

  test("while the kinds repeat, summaries come 10, 10, 20, 40 and 80 s apart, each naming the latest detail", () => {
    const { drops, logger, later } = setup();
    drops.add("file", "flush failed", 1, "EACCES"); // logged at once
    const summaryTimes: number[] = [];
    let elapsed = 0;
    for (let step = 0; step < 160; step++) {
      drops.add("file", "flush failed", 1, `EACCES #${step}`);
      const before = logger.lines.length;
      later(1_000);
      elapsed += 1_000;
      if (logger.lines.length > before) summaryTimes.push(elapsed / 1000);
    }
    // The first summary sets the kinds; from the second on the same kinds double the wait.
    expect(summaryTimes).toEqual([10, 20, 40, 80, 160]);
    expect(logger.lines.at(-1)).toContain("(EACCES #159)");
    expect(DROP_LOG_INTERVAL_MS).toBe(10_000);
  });

  test("nothing or a negative count is no drop; final() logs once and closes the log to later drops", () => {
    const { drops, logger } = setup();
    drops.add("file", "flush failed", 0, "x");
    drops.add("file", "flush failed", -3, "x");
    expect([drops.total(), logger.lines]).toEqual([0, []]);
    drops.add("file", "flush failed", 2, "x");
    drops.final();
    drops.final();
    drops.add("file", "flush failed", 5, "x");
    expect(drops.total()).toBe(2);
    expect(logger.lines.filter((l) => l.includes("this session"))).toHaveLength(1);
  });

  test("a byte bound is named in whole MiB where it is one, else in bytes", () => {
    expect([1_048_576, 3 * 1_048_576, 1_048_575, 1_048_577, 2_500_000, 512].map(describeBound)).toEqual([
      "1 MiB",
      "3 MiB",
      "1048575 bytes",
      "1048577 bytes",
      "2500000 bytes",
      "512 bytes",
    ]);
  });
});
