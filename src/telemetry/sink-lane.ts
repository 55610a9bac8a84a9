// One sink's bounded queue and its worker (batches, export timeout, drain and close at shutdown); never prepares or serialises events and never touches another sink.

import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";
import type { DropLog } from "./drop-log.ts";
import type { BatonEvent } from "./event-types.ts";
import type { Sink } from "./sinks/sink.ts";

/** Dead entries at the queue's head before it is compacted (and only once they are at least half of it). */
const COMPACT_AFTER_TAKEN = 1024;

/**
 * A prepared event and its JSON line, serialised once and shared by every lane. `event` is
 * undefined when no sink reads events (`Sink.usesEvent === false` for all): queues then hold lines only.
 */
export interface LaneEntry {
  readonly event: BatonEvent | undefined;
  readonly line: string;
}

/** What a lane needs from its dispatcher: settings, shared services and two views of the dispatcher's state. */
export interface LaneContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly drops: DropLog;
  readonly maxQueue: number;
  readonly maxBatch: number;
  readonly exportTimeoutMs: number;
  /** True once shutdown began; from then on {@link SinkLane.finish} drives the lane. */
  isShuttingDown(): boolean;
  /** Asks the dispatcher to run its loop after the flush interval (a partial batch is waiting). */
  scheduleFlush(): void;
}

/** A sink's queue and worker. A failing or hanging sink shows up as counted drops, never as an error thrown here. */
export interface SinkLane {
  /** Starts one flush of up to `maxBatch` events, unless one is running, nothing waits or the lane was abandoned. */
  pump(): void;
  /** Flushes until empty (waiting out a running flush), then closes the sink; a close failure is logged. Stops early if abandoned. */
  finish(): Promise<void>;
  /** Events queued, not counting the batch in flight. */
  size(): number;
  /** Events are queued and no flush is running. */
  waiting(): boolean;
  /** Queues an entry; beyond `maxQueue` the OLDEST is dropped and counted for {@link SinkLane.reportOverflow}. */
  push(entry: LaneEntry): void;
  /** Hands the overflow counted since the last call to the drop log. */
  reportOverflow(): void;
  /** At the shutdown deadline: count what never got delivered, stop driving the sink. */
  abandon(): void;
}

/** The batch a sink is flushing; `settled` once counted (late results are then ignored). */
interface InFlight {
  readonly size: number;
  settled: boolean;
  timer: unknown;
}

/**
 * Builds the lane for one sink. A sink's flushes never overlap (the {@link Sink} contract): a flush
 * slower than `exportTimeoutMs` is counted as dropped, but later batches still wait for it. Failed
 * batches are not retried.
 */
export function createSinkLane(sink: Sink, context: LaneContext): SinkLane {
  const { clock, drops, maxQueue, maxBatch, exportTimeoutMs } = context;
  let queue: LaneEntry[] = [];
  let head = 0; // queue[head..] is live; compacted lazily so shift and drop stay O(1) amortised
  let overflow = 0;
  let current: InFlight | undefined;
  let running: Promise<void> | undefined;
  let abandoned = false;
  const size = (): number => queue.length - head;
  const take = (): LaneEntry => {
    const entry = queue[head++] as LaneEntry;
    if (head >= COMPACT_AFTER_TAKEN && head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return entry;
  };

  /** Counts what the sink lost by itself (background uploads, its own bounds) as this lane's drops. */
  function collectSinkDrops(): void {
    try {
      for (const drop of sink.takeDrops?.() ?? []) drops.add(sink.label, drop.kind, drop.count, drop.detail);
    } catch (error) {
      context.logger.warn(`sink ${sink.label} could not report its drops: ${describeError(error)}`);
    }
  }

  function pump(): void {
    if (running !== undefined || size() === 0 || abandoned) return;
    const batch = Array.from({ length: Math.min(maxBatch, size()) }, take);
    const flight: InFlight = { size: batch.length, settled: false, timer: undefined };
    current = flight;
    const settleOnce = (kind: string, detail: string | undefined): void => {
      if (flight.settled) return;
      flight.settled = true;
      clock.clearTimeout(flight.timer);
      if (detail !== undefined) drops.add(sink.label, kind, flight.size, detail);
    };
    flight.timer = clock.setTimeout(
      () => settleOnce("flush timed out", `no answer within ${exportTimeoutMs} ms (later batches wait for it)`),
      exportTimeoutMs,
    );
    const attempt = async (): Promise<void> => {
      // Without an event only when this sink said it does not read it (see LaneEntry).
      for (const entry of batch) sink.write(entry.event as BatonEvent, entry.line);
      await sink.flush();
    };
    running = attempt().then(
      () => settleOnce("", undefined),
      (error: unknown) => settleOnce("flush failed", describeError(error)),
    );
    void running.then(() => {
      running = undefined;
      current = undefined;
      collectSinkDrops();
      if (context.isShuttingDown() || abandoned) return; // finish() drives the lane from here
      if (size() >= maxBatch) pump();
      else if (size() > 0) context.scheduleFlush();
    });
  }

  async function finish(): Promise<void> {
    for (;;) {
      if (abandoned) return;
      if (running !== undefined) await running;
      else if (size() === 0) break;
      else pump();
    }
    try {
      await sink.close();
    } catch (error) {
      context.logger.warn(`closing sink ${sink.label} failed: ${describeError(error)}`);
    }
    collectSinkDrops();
  }

  return {
    pump,
    finish,
    size,
    waiting: (): boolean => running === undefined && size() > 0,
    push(entry: LaneEntry): void {
      queue.push(entry);
      if (size() > maxQueue) {
        take();
        overflow++;
      }
    },
    reportOverflow(): void {
      if (overflow === 0) return;
      drops.add(sink.label, "queue full", overflow, `more than ${maxQueue} events waiting; oldest dropped`);
      overflow = 0;
    },
    abandon(): void {
      if (abandoned) return;
      abandoned = true;
      const left = size() + (current !== undefined && !current.settled ? current.size : 0);
      if (current !== undefined) {
        current.settled = true;
        clock.clearTimeout(current.timer);
      }
      queue = [];
      head = 0;
      if (left > 0) drops.add(sink.label, "shutdown deadline", left, "not delivered before the shutdown deadline");
    },
  };
}
