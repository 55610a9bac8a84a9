// One sink's bounded queue and its worker (batches, export timeout, drain and close at shutdown); never prepares or serialises events and never touches another sink.

import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Clock } from "./clock.ts";
import { describeBound, type DropLog } from "./drop-log.ts";
import type { BatonEvent } from "./event-types.ts";
import { eventsLost, type Sink } from "./sinks/sink.ts";
import { SizedQueue } from "./sized-queue.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * A flush in flight this long means the sink is not keeping up: only then does the byte bound
 * drop queued events. Why: a healthy sink is handed bursts synchronously (a whole intake at once,
 * everything at shutdown) while its flush of the previous batch is still pending; those must wait,
 * not be dropped. A local flush takes milliseconds; a console that hangs is caught within this.
 */
export const SLOW_FLUSH_MS = 200;

/** Stands in for the event a sink said it does not read (`Sink.usesEvent === false`): the lane never keeps it. */
const NO_EVENT = undefined as unknown as BatonEvent;

/** What a lane keeps of a queued event: only what its sink reads (a pair only for a sink that reads both). */
type Kept = BatonEvent | string | readonly [BatonEvent, string];

const ignore = (): void => undefined;

/** What a lane needs from its dispatcher: settings, shared services and two views of the dispatcher's state. */
export interface LaneContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly drops: DropLog;
  readonly maxQueue: number;
  /** Bytes of queued lines (UTF-16 units), whether or not the sink reads the line: it stands for the event's size too. */
  readonly maxQueueBytes: number;
  readonly maxBatch: number;
  readonly exportTimeoutMs: number;
  /** True once shutdown began; from then on {@link SinkLane.finish} drives the lane. */
  isShuttingDown(): boolean;
  /** Asks the dispatcher to run its loop after the flush interval (a partial batch is waiting). */
  scheduleFlush(): void;
  /** Runs `fn` in a later background turn, after pending I/O (see background-turns.ts). */
  later(fn: () => void): void;
}

/** A sink's queue and worker. A failing or hanging sink shows up as counted drops, never as an error thrown here. */
export interface SinkLane {
  /** Starts one flush of up to a batch of events, unless one is running, nothing waits or the lane was abandoned. */
  pump(): void;
  /** {@link SinkLane.pump} in a later background turn (once however often asked): a flush apart from the work that filled the batch. */
  pumpSoon(): void;
  /** A whole batch waits: `maxBatch` events, or the sink's smaller `batchEvents`, or a quarter of `maxQueueBytes`. */
  full(): boolean;
  /**
   * Flushes until empty (waiting out a running flush), then closes the sink, telling it what is
   * left until `endsAt` (the shutdown deadline, a clock time); a close failure is logged. Stops early if abandoned.
   */
  finish(endsAt?: number): Promise<void>;
  /** Events queued, not counting the batch in flight. */
  size(): number;
  /** Events are queued and no flush is running. */
  waiting(): boolean;
  /**
   * Queues a prepared event and its line (serialised once, shared by every lane), keeping only what
   * the sink reads: a dead console's queue of 10 000 costs their lines, not their event objects too.
   * Beyond `maxQueue` events, or `maxQueueBytes` while a flush has been pending SLOW_FLUSH_MS or
   * more, the OLDEST are dropped and counted for {@link SinkLane.reportOverflow}; the newest always
   * stays, however large.
   */
  push(event: BatonEvent, line: string): void;
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
  const { clock, drops, maxQueue, maxQueueBytes, maxBatch, exportTimeoutMs } = context;
  const batchSize = Math.max(1, Math.min(maxBatch, sink.batchEvents ?? maxBatch));
  /**
   * Bytes of lines that make a batch too, whatever their count: large events are flushed long
   * before the byte bound, so only a sink that does not keep up ever reaches it.
   */
  const batchBytes = Math.max(1, Math.floor(maxQueueBytes / 4));
  const keepEvents = sink.usesEvent !== false;
  const keepLines = sink.usesLine !== false;
  // Sized by each line's length, for the byte bound (the line itself may not be kept).
  const queue = new SizedQueue<Kept>();
  const keep: (event: BatonEvent, line: string) => Kept =
    keepEvents && keepLines
      ? (event, line) => [event, line]
      : keepEvents
        ? (event) => event
        : (_, line) => (keepLines ? line : "");
  const write: (kept: Kept) => void =
    keepEvents && keepLines
      ? (kept) => sink.write(...(kept as readonly [BatonEvent, string]))
      : keepEvents
        ? (kept) => sink.write(kept as BatonEvent, "")
        : (kept) => sink.write(NO_EVENT, kept as string);
  let overflow = 0;
  let current: InFlight | undefined;
  let flightStartedAt = 0;
  let running: Promise<void> | undefined;
  let abandoned = false;
  let soon = false; // a pumpSoon is pending
  const size = (): number => queue.size;
  const full = (): boolean => queue.size >= batchSize || queue.bytes >= batchBytes;
  /** Events from the head that make the next batch: at most `batchSize`, and about `batchBytes` (one at least). */
  const nextBatch = (): number => {
    const most = Math.min(batchSize, queue.size);
    let bytes = 0;
    for (let i = 0; i < most; i++) {
      bytes += queue.bytesAt(i);
      if (bytes >= batchBytes) return i + 1;
    }
    return most;
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
    // The batch holds them now; the queue keeps no reference to them.
    const batch: Kept[] = [];
    const count = queue.take(nextBatch(), (kept) => void batch.push(kept));
    const flight: InFlight = { size: count, settled: false, timer: undefined };
    current = flight;
    flightStartedAt = clock.now();
    const settleOnce = (kind: string, detail: string | undefined, lost = flight.size): void => {
      if (flight.settled) return;
      flight.settled = true;
      clock.clearTimeout(flight.timer);
      if (detail !== undefined) drops.add(sink.label, kind, lost, detail);
    };
    flight.timer = clock.setTimeout(
      () => settleOnce("flush timed out", `no answer within ${exportTimeoutMs} ms (later batches wait for it)`),
      exportTimeoutMs,
    );
    const attempt = async (): Promise<void> => {
      for (const kept of batch) write(kept);
      await sink.flush();
    };
    running = attempt().then(
      () => settleOnce("", undefined),
      (error: unknown) => settleOnce("flush failed", describeError(error), eventsLost(error, flight.size)),
    );
    void running.then(() => {
      running = undefined;
      current = undefined;
      collectSinkDrops();
      if (context.isShuttingDown() || abandoned) return; // finish() drives the lane from here
      // A backlog of a whole dispatcher batch (a burst) is flushed back to back; below it, each
      // batch gets its own macrotask, so the messages arriving meanwhile are not held up.
      if (size() >= maxBatch) pump();
      else if (full()) pumpSoon();
      else if (size() > 0) context.scheduleFlush();
    });
  }

  function pumpSoon(): void {
    if (soon || abandoned) return;
    soon = true;
    context.later(() => {
      soon = false;
      if (!context.isShuttingDown()) pump(); // from then on finish() drives the lane
    });
  }

  async function finish(endsAt = Infinity): Promise<void> {
    for (;;) {
      if (abandoned) return;
      if (running !== undefined) await running;
      else if (size() === 0) break;
      else pump();
    }
    try {
      await sink.close(endsAt === Infinity ? undefined : Math.max(0, endsAt - clock.now()));
    } catch (error) {
      context.logger.warn(`closing sink ${sink.label} failed: ${describeError(error)}`);
    }
    collectSinkDrops();
  }

  // Once per event or batch, every lane's closures at once: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(pump, pumpSoon, full, size, nextBatch, keep, write);
  const lane: SinkLane = {
    pump,
    pumpSoon,
    full,
    finish,
    size,
    waiting: (): boolean => running === undefined && size() > 0,
    push(event: BatonEvent, line: string): void {
      queue.push(keep(event, line), line.length);
      const behind =
        queue.bytes > maxQueueBytes && current !== undefined && clock.now() - flightStartedAt >= SLOW_FLUSH_MS;
      while (queue.size > maxQueue || (behind && queue.bytes > maxQueueBytes && queue.size > 1)) {
        queue.take(1, ignore); // the oldest, released at once
        overflow++;
      }
    },
    reportOverflow(): void {
      if (overflow === 0) return;
      const bound = `more than ${maxQueue} events or ${describeBound(maxQueueBytes)} waiting`;
      drops.add(sink.label, "queue full", overflow, `${bound}; oldest dropped`);
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
      queue.take(Infinity, ignore);
      if (left > 0) drops.add(sink.label, "shutdown deadline", left, "not delivered before the shutdown deadline");
    },
  };
  keepOutOfFtl(lane.push, lane.waiting);
  return lane;
}
