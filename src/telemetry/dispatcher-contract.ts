// The dispatcher's contract: its bounds and timings, the options it is built with, and the handle the pumps hold.

import type { Clock } from "./clock.ts";
import type { BatonEvent } from "./event-types.ts";
import type { Sink } from "./sinks/sink.ts";
import type { Logger } from "../log.ts";

/** Per-sink queue bound (events); beyond it the OLDEST queued event is dropped and counted. */
export const MAX_QUEUE_EVENTS = 10_000;
/**
 * Per-sink queue bound in bytes of serialised events (UTF-16 units of their lines); beyond it the OLDEST are dropped and counted, once the sink is behind
 * (a flush pending for sink-lane's SLOW_FLUSH_MS: a healthy sink may be handed more at once, at
 * shutdown or in a burst, and loses none of it); a quarter of it makes a sink batch. Why a byte
 * bound beside the count: an event may be 256 KiB (scrub-walk-state's MAX_EVENT_BYTES), so 10 000 of them behind a
 * dead console could hold 2.5 GiB; and small ones cost far more than their bytes: on the 2-core
 * bench, each 1 000 echo-call lines (~0.5 MiB) a hanging console's queue held raised the proxy's
 * peak RSS by ~3.5 MiB (the collector lets the heap grow with what is live). 4 MiB, like the
 * stderr sink's backlog, holds ~8 000 such events, or 16 of the largest.
 */
export const MAX_QUEUE_BYTES = 4 * 1_048_576;
/**
 * What the pumps enqueued, by the size of the messages its events came from, that the background
 * prepares at once (as for a full batch of events), and that makes the pumps yield it a turn.
 * Why: the batch count alone let 500 drafts of 60 KB results wait (30 MB live): a pipelined
 * burst of 2 000 such calls peaked at 196-208 MiB RSS, 118-121 when drained this early; events of
 * small messages (500 of them are ~150 KB) are prepared as before.
 */
export const INTAKE_TURN_BYTES = 1_048_576;
/** The intake's bound by those sizes (beside MAX_QUEUE_EVENTS); beyond it new events are dropped and counted. */
export const MAX_INTAKE_BYTES = 32 * 1_048_576;
/** Events handed to one sink per flush. */
export const MAX_BATCH_EVENTS = 512;
/** How long a prepared event may wait in its sink's queue before a partial batch is flushed. */
export const FLUSH_INTERVAL_MS = 200;
/**
 * How long what the pumps enqueued waits before the background starts preparing it (stamping,
 * scrubbing, serialising, observing): none of that right behind every message (an idle turn after
 * each one lands where the next request arrives: the p50). A full batch is prepared at once.
 */
export const PREPARE_INTERVAL_MS = 5;
/** Events prepared per turn below a full batch, at most (the time budget usually ends a turn first). */
export const PREPARE_SLICE_EVENTS = 64;
/**
 * Time one turn of preparation may take below a full batch; the rest waits for the next turn, after
 * pending I/O. A request that arrives during a turn waits for it: turns of 30 to 64 events took 0.3
 * to 2 ms on the 2-core bench (about 10 µs per event), and were behind most of the sequential p99.
 */
export const PREPARE_SLICE_BUDGET_MS = 0.05;
/** A sink flush slower than this is abandoned: its batch is counted as dropped. */
export const EXPORT_TIMEOUT_MS = 2_000;
/** `shutdown()` resolves by this deadline whatever the sinks do. */
export const SHUTDOWN_DEADLINE_MS = 2_000;

/** Settings for {@link createDispatcher}; only `sinks` and `logger` are required (and `prepare` when `T` is not an event). */
export interface DispatcherOptions<T = BatonEvent> {
  sinks: readonly Sink[];
  logger: Logger;
  /**
   * Turns an enqueued item into the event the sinks get, once per item, in the background (the
   * hub stamps and scrubs here). Default: the item is the event. If it throws, the event is
   * dropped, counted and logged.
   */
  prepare?: (item: T) => BatonEvent;
  /** Sees every prepared event, in order (the live report). Errors are caught and logged (rate-limited). */
  observe?: (event: BatonEvent) => void;
  /** Default {@link SYSTEM_CLOCK}. */
  clock?: Clock;
  /**
   * Fine-grained time in ms for the {@link PREPARE_SLICE_BUDGET_MS} of a turn. Default: `clock.now`
   * (the system clock's is `performance.now`; a fake clock stands still within a turn, so tests see
   * whole turns of PREPARE_SLICE_EVENTS).
   */
  preciseNow?: () => number;
  /**
   * Runs `fn` once the pumps have had their turn (the next macrotask): a full batch to prepare, the
   * rest of a slice cut short by its time budget, a sink's next small batch. Default:
   * `setImmediate` with the system clock, else `clock.setTimeout(fn, 0)` so tests with a fake clock stay in control.
   */
  idle?: (fn: () => void) => void;
  /**
   * True when the caller calls {@link Dispatcher.poke} after each message it handles (the stdio
   * pumps): the rest of a slice and a sink's next small batch then wait for the next message (or
   * a millisecond), one step per turn, instead of running back to back (see background-turns.ts).
   */
  paced?: boolean;
  /** Per sink (and for the intake), default {@link MAX_QUEUE_EVENTS}. */
  maxQueue?: number;
  /** Per sink, default {@link MAX_QUEUE_BYTES}. */
  maxQueueBytes?: number;
  /** Default {@link INTAKE_TURN_BYTES}. */
  intakeTurnBytes?: number;
  /** Default {@link MAX_INTAKE_BYTES}. */
  maxIntakeBytes?: number;
  /** Default {@link MAX_BATCH_EVENTS}. */
  maxBatch?: number;
  /** Default {@link FLUSH_INTERVAL_MS}. */
  flushIntervalMs?: number;
  /** Per sink flush, default {@link EXPORT_TIMEOUT_MS}. */
  exportTimeoutMs?: number;
}

/** The pump's handle on telemetry: enqueue on the hot path, settle for the report, shutdown once at exit. */
export interface Dispatcher<T = BatonEvent> {
  /**
   * O(1), never throws, never awaits: the pump's only telemetry call. Ignored after shutdown.
   * `bytes`: the size of the message the item came from (an estimate of what it holds), for the
   * intake's byte bounds; default 0.
   */
  enqueue(item: T, bytes?: number): void;
  /** Synchronously prepares and observes everything enqueued so far (for a complete live report). Does not flush sinks. */
  settle(): void;
  /** O(1), never throws: the pumps handled a message (paced: a waiting background step may run next). */
  poke(): void;
  /** (event, sink) deliveries lost so far: queue full, failed or timed-out flush, prepare failure, shutdown deadline. */
  readonly dropped: number;
  /**
   * Events one sink (by its label) lost after the live report's observer saw them: its queue was
   * full, its flush failed or timed out, it lost them by itself, or the shutdown deadline passed.
   */
  droppedBy(label: string): number;
  /** Events waiting (intake plus every sink queue); bounded by `maxQueue × (sinks + 1)`. */
  readonly queued: number;
  /**
   * True when a full batch (or INTAKE_TURN_BYTES of messages) waits in the intake: the background
   * loop needs a turn of the event loop. A pump that reads back-to-back chunks resolves its reads
   * as microtasks and never lets timers run; it should yield a macrotask when this is set, or a
   * burst overflows the intake.
   */
  readonly needsTurn: boolean;
  /**
   * Exactly once (later calls return the same promise): flushes what it can, closes the sinks that
   * drained, and resolves by `deadlineMs` (default {@link SHUTDOWN_DEADLINE_MS}) even if a sink hangs
   * forever. Whatever is still queued or in flight then is counted as dropped; logs one summary line
   * if anything was dropped during the session. Never rejects.
   */
  shutdown(deadlineMs?: number): Promise<void>;
}
