// Counts and rate-limits the logging of telemetry drops (first of each kind at once, then summaries, then one session total); never decides what to drop.

import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";

/** After the first drop of a kind is logged, further drops are summarised at most this often. */
export const DROP_LOG_INTERVAL_MS = 10_000;
/**
 * While each summary names the same kinds as the one before (a file owned by another user is refused
 * for the whole session), the wait doubles up to this: ~12 lines an hour in the host's log, not 360.
 */
export const MAX_DROP_LOG_INTERVAL_MS = 600_000;

/** A byte bound as a drop's detail names it: whole MiB where it is one, else bytes. */
export function describeBound(bytes: number): string {
  return bytes >= 1_048_576 && bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${bytes} bytes`;
}

/** Drop bookkeeping for one dispatcher; a drop is keyed by (sink label, kind). */
export interface DropLog {
  /** Every (event, sink) delivery counted so far. */
  total(): number;
  /** Deliveries counted so far under one sink label (the dispatcher's own losses before any sink are "all sinks"). */
  totalFor(label: string): number;
  /** Counts `count` drops (ignored if not positive or after {@link DropLog.final}); logs the first of its key at once, queues the rest for a summary. */
  add(label: string, kind: string, count: number, detail: string): void;
  /** Logs one line for the queued drops once the wait since the last summary has passed ({@link DROP_LOG_INTERVAL_MS}, doubling while the kinds repeat). */
  summarise(): void;
  /** Once: logs the session totals if anything was dropped, then ignores further drops. */
  final(): void;
}

/** Drop bookkeeping: the first drop of each (sink, kind) is logged at once, later ones in summaries. */
export function createDropLog(logger: Logger, clock: Clock): DropLog {
  const seen = new Set<string>();
  const pending = new Map<string, { count: number; detail: string }>();
  const totals = new Map<string, number>();
  const byLabel = new Map<string, number>();
  let total = 0;
  let lastSummaryAt = clock.now();
  let interval = DROP_LOG_INTERVAL_MS;
  let lastKinds = "";
  let closed = false;
  const render = (map: Map<string, { count: number; detail: string }>): string =>
    [...map].map(([key, v]) => `${key} ×${v.count} (${v.detail})`).join("; ");

  return {
    total: (): number => total,
    totalFor: (label: string): number => byLabel.get(label) ?? 0,
    add(label: string, kind: string, count: number, detail: string): void {
      if (count <= 0 || closed) return;
      total += count;
      byLabel.set(label, (byLabel.get(label) ?? 0) + count);
      const key = `${label}: ${kind}`;
      totals.set(key, (totals.get(key) ?? 0) + count);
      if (!seen.has(key)) {
        seen.add(key);
        interval = DROP_LOG_INTERVAL_MS; // something new went wrong: its sequel is worth hearing soon
        const later = `further drops are summarised at most every ${DROP_LOG_INTERVAL_MS / 1000} s`;
        logger.warn(`dropped ${count} event(s) for ${label}: ${kind}: ${detail}; ${later}`);
        return;
      }
      const entry = pending.get(key) ?? { count: 0, detail };
      entry.count += count;
      entry.detail = detail;
      pending.set(key, entry);
    },
    summarise(): void {
      if (pending.size === 0 || clock.now() - lastSummaryAt < interval) return;
      lastSummaryAt = clock.now();
      const kinds = [...pending.keys()].sort().join("\n");
      interval = kinds === lastKinds ? Math.min(interval * 2, MAX_DROP_LOG_INTERVAL_MS) : DROP_LOG_INTERVAL_MS;
      lastKinds = kinds;
      logger.warn(`dropped more events: ${render(pending)}`);
      pending.clear();
    },
    final(): void {
      if (closed) return;
      closed = true;
      if (total === 0) return;
      const parts = [...totals].map(([key, count]) => `${key} ×${count}`).join("; ");
      logger.warn(`telemetry dropped ${total} event deliveries this session: ${parts}`);
    },
  };
}
