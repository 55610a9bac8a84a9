// Logs requests answered 502 because the upstream could not be reached without flooding the log: each reason's first at once, the rest in timed summaries.

import type { Logger } from "../log.ts";
import { SYSTEM_CLOCK, type Clock } from "../telemetry/clock.ts";

/** After a reason's first line, its further 502s are summarised at most this often (as the telemetry drop log). */
export const UPSTREAM_DOWN_LOG_INTERVAL_MS = 10_000;

/** One per serve: the MCP route and the passthrough share it, so a flood on either counts once. */
export interface UpstreamDownLog {
  /**
   * One request answered 502: `reason` is the failure's message (`upstream … unreachable: …`),
   * `answered` what the line adds (`answered 502`, or `answered 502 to GET /path`).
   */
  failed(reason: string, answered: string): void;
  /** At shutdown: tells every count not yet told, whatever the interval (the last seconds before a stop are otherwise never told). */
  flush(): void;
}

/**
 * A reason not seen within the last interval is logged whole at once (so the first failure, a
 * change of reason, and an upstream down again after a quiet spell show the moment they happen);
 * further ones with that reason are counted and told in one line per reason once the interval since
 * its last line has passed (on an unref'd timer, so the count of a flood that stopped is still told).
 */
export function createUpstreamDownLog(logger: Logger, clock: Clock = SYSTEM_CLOCK): UpstreamDownLog {
  // Per reason: when its last line was written, and the 502s since then not yet told.
  const reasons = new Map<string, { loggedAt: number; pending: number }>();
  let timer: unknown;

  const tell = (all: boolean): void => {
    timer = undefined;
    const now = clock.now();
    for (const [reason, entry] of reasons) {
      if (!all && now - entry.loggedAt < UPSTREAM_DOWN_LOG_INTERVAL_MS) continue;
      if (entry.pending === 0) {
        reasons.delete(reason); // quiet for an interval: its next failure is news again
        continue;
      }
      const seconds = Math.round((now - entry.loggedAt) / 1000);
      logger.warn(`${reason}: ${entry.pending} more request(s) answered 502 in the last ${seconds} s`);
      entry.loggedAt = now;
      entry.pending = 0;
    }
    if (!all) schedule();
  };
  const flush = (): void => tell(false);
  const schedule = (): void => {
    if (timer !== undefined || reasons.size === 0) return;
    const next = Math.min(...[...reasons.values()].map((entry) => entry.loggedAt + UPSTREAM_DOWN_LOG_INTERVAL_MS));
    timer = clock.setTimeout(flush, Math.max(0, next - clock.now()));
  };

  return {
    failed(reason, answered) {
      const entry = reasons.get(reason);
      if (entry === undefined) {
        reasons.set(reason, { loggedAt: clock.now(), pending: 0 });
        const later = `further ones are summarised at most every ${UPSTREAM_DOWN_LOG_INTERVAL_MS / 1000} s`;
        logger.warn(`${reason} (${answered}; ${later})`);
      } else entry.pending++;
      schedule();
    },
    flush() {
      if (timer !== undefined) clock.clearTimeout(timer);
      tell(true);
    },
  };
}
