// Wraps sinks to count, per sink, events delivered and events lost in failed flushes (for /metrics). Adds no I/O.

import type { BatonEvent } from "../telemetry/event-types.ts";
import { eventsLost, type Sink } from "../telemetry/sinks/sink.ts";

export interface SinkCounts {
  readonly label: string;
  /** Events in flushes that succeeded, and those a failed flush delivered before it failed. */
  emitted: number;
  /** Events in flushes that failed or were abandoned, and those the sink lost on its own later. */
  failed: number;
}

/**
 * Returns counting wrappers of `sinks` (same order) and pushes one live {@link SinkCounts} per sink
 * onto `counts`. A wrapper passes on every optional member the dispatcher reads (without
 * `takeDrops`, an S3 upload given up in `serve` was neither logged nor counted).
 */
export function countingSinks(sinks: readonly Sink[], counts: SinkCounts[]): Sink[] {
  return sinks.map((sink) => {
    const count: SinkCounts = { label: sink.label, emitted: 0, failed: 0 };
    counts.push(count);
    let buffered = 0;
    const settle = async (work: Promise<void>): Promise<void> => {
      const batch = buffered;
      buffered = 0;
      try {
        await work;
        count.emitted += batch;
      } catch (error) {
        // A write cut short may have delivered part of the batch (see PartialFlushError).
        const lost = eventsLost(error, batch);
        count.emitted += batch - lost;
        count.failed += lost;
        throw error;
      }
    };
    const takeDrops = sink.takeDrops?.bind(sink);
    return {
      label: sink.label,
      // What the dispatcher reads from the sink itself: its queue shape and batch size.
      usesEvent: sink.usesEvent,
      usesLine: sink.usesLine,
      batchEvents: sink.batchEvents,
      write(event: BatonEvent, line: string) {
        buffered++;
        sink.write(event, line);
      },
      flush: () => settle(sink.flush()),
      close: (msLeft?: number) => settle(sink.close(msLeft)),
      // Losses the sink has on its own (an S3 upload given up, an OTLP call forgotten) are dropped events too.
      ...(takeDrops === undefined
        ? {}
        : {
            takeDrops: () => {
              const drops = takeDrops();
              for (const drop of drops) count.failed += drop.count;
              return drops;
            },
          }),
    };
  });
}
