// Unit: serve's 502 log for an unreachable upstream, driven by a fake clock: each reason's first line at once, the rest counted in summaries.

import { describe, expect, test } from "bun:test";
import { createUpstreamDownLog, UPSTREAM_DOWN_LOG_INTERVAL_MS } from "../src/serve/upstream-down-log.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const REFUSED = "upstream http://127.0.0.1:9/mcp unreachable: ECONNREFUSED";
const TIMEOUT = "upstream http://127.0.0.1:9/mcp unreachable: timed out";

function setup() {
  const clock = createFakeClock(1_000);
  const logger = createMemoryLogger();
  return { clock, logger, log: createUpstreamDownLog(logger, clock) };
}

const told = (lines: string[]) =>
  lines.reduce(
    (sum, line) => sum + Number(/: (\d+) more request\(s\)/.exec(line)?.[1] ?? (line.includes("(answered") ? 1 : 0)),
    0,
  );

describe("upstream down log", () => {
  test("a flood of 502s for a minute: the first at once, then one summary per interval; every request told once", () => {
    const { clock, logger, log } = setup();
    for (let ms = 0; ms < 60_000; ms += 10) {
      log.failed(REFUSED, "answered 502");
      clock.advance(10);
    }
    expect(logger.lines[0]).toContain(`${REFUSED} (answered 502; further ones are summarised at most every 10 s)`);
    clock.advance(UPSTREAM_DOWN_LOG_INTERVAL_MS); // the flood stopped: its last count is still told
    expect(logger.lines.length).toBeLessThanOrEqual(1 + 60_000 / UPSTREAM_DOWN_LOG_INTERVAL_MS + 1);
    expect(told(logger.lines)).toBe(6_000);
    expect(logger.lines.slice(1).every((line) => line.includes(`${REFUSED}: `))).toBe(true);
    clock.advance(UPSTREAM_DOWN_LOG_INTERVAL_MS);
    expect(clock.timers()).toBe(0); // the quiet reason is forgotten: no timer left
  });

  test("a new reason is logged at once, and so is the first failure after a quiet interval", () => {
    const { clock, logger, log } = setup();
    log.failed(REFUSED, "answered 502");
    log.failed(REFUSED, "answered 502");
    log.failed(TIMEOUT, "answered 502 to GET /.well-known/x");
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]).toContain(`${TIMEOUT} (answered 502 to GET /.well-known/x;`);
    clock.advance(UPSTREAM_DOWN_LOG_INTERVAL_MS);
    expect(logger.lines[2]).toContain(`${REFUSED}: 1 more request(s) answered 502 in the last 10 s`);
    clock.advance(3 * UPSTREAM_DOWN_LOG_INTERVAL_MS);
    log.failed(REFUSED, "answered 502");
    expect(logger.lines).toHaveLength(4);
    expect(logger.lines[3]).toContain(`${REFUSED} (answered 502;`);
  });

  test("at shutdown, flush tells the counts not yet told, at once, and leaves no timer", () => {
    const { clock, logger, log } = setup();
    for (let i = 0; i < 7; i++) log.failed(REFUSED, "answered 502");
    clock.advance(3_000);
    log.flush();
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]).toContain(`${REFUSED}: 6 more request(s) answered 502 in the last 3 s`);
    expect(clock.timers()).toBe(0);
  });
});
