// Carries events from the hot path to every sink in the background (bounded intake, prepared in small idle slices, one lane per sink, flush timer, once-only shutdown); never does I/O itself and never throws into or awaits on the pump.

import { describeError } from "../errors.ts";
import { SYSTEM_CLOCK } from "./clock.ts";
import { createDropLog, describeBound, DROP_LOG_INTERVAL_MS } from "./drop-log.ts";
import type { BatonEvent } from "./event-types.ts";
import { createBackgroundTurns } from "./background-turns.ts";
import { SizedQueue } from "./sized-queue.ts";
import { createSinkLane } from "./sink-lane.ts";
import {
  type Dispatcher,
  type DispatcherOptions,
  EXPORT_TIMEOUT_MS,
  FLUSH_INTERVAL_MS,
  INTAKE_TURN_BYTES,
  MAX_BATCH_EVENTS,
  MAX_INTAKE_BYTES,
  MAX_QUEUE_BYTES,
  MAX_QUEUE_EVENTS,
  PREPARE_INTERVAL_MS,
  PREPARE_SLICE_BUDGET_MS,
  PREPARE_SLICE_EVENTS,
  SHUTDOWN_DEADLINE_MS,
} from "./dispatcher-contract.ts";
import { gettersOf, keepOutOfFtl } from "../runtime/jit-tiers.ts";

// Re-exported so callers and tests keep importing the dispatcher's whole surface from here.
export { SYSTEM_CLOCK, type Clock } from "./clock.ts";
export { DROP_LOG_INTERVAL_MS } from "./drop-log.ts";
export * from "./dispatcher-contract.ts";

/** Slack on the real timer that keeps the process alive during shutdown, beyond the (possibly fake) deadline. */
const HOLD_MARGIN_MS = 1_000;

/**
 * Builds the dispatcher. Policy: each sink has its own queue and worker, so a failing or hanging
 * sink only loses its own events. A sink's flushes never overlap (the {@link Sink} contract): while
 * an abandoned flush is still pending, that sink's queue keeps filling up to `maxQueue`, dropping
 * the oldest events (the newest are the likeliest to explain a failure). Failed batches are not
 * retried: they are dropped and counted (retry storms against a sick console help nobody).
 */
export function createDispatcher<T = BatonEvent>(options: DispatcherOptions<T>): Dispatcher<T> {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const prepare = options.prepare ?? ((item: T) => item as unknown as BatonEvent);
  const idle = options.idle ?? (clock === SYSTEM_CLOCK ? runSoon : (fn: () => void) => void clock.setTimeout(fn, 0));
  const preciseNow = options.preciseNow ?? (() => clock.now());
  const maxQueue = options.maxQueue ?? MAX_QUEUE_EVENTS;
  const maxBatch = options.maxBatch ?? MAX_BATCH_EVENTS;
  const intakeTurnBytes = options.intakeTurnBytes ?? INTAKE_TURN_BYTES;
  const maxIntakeBytes = options.maxIntakeBytes ?? MAX_INTAKE_BYTES;
  const flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  const exportTimeoutMs = options.exportTimeoutMs ?? EXPORT_TIMEOUT_MS;
  const drops = createDropLog(options.logger, clock);
  const intake = new SizedQueue<T>();
  let intakeOverflow = 0;
  let slice: SliceWhen | undefined; // the pending slice's schedule
  const turns = createBackgroundTurns(options.paced === true, idle, clock);
  let timer: unknown;
  let shuttingDown = false;
  let shutdownPromise: Promise<void> | undefined;
  let lastObserveErrorAt = -Infinity;
  const lanes = options.sinks.map((sink) =>
    createSinkLane(sink, {
      clock,
      logger: options.logger,
      drops,
      maxQueue,
      maxQueueBytes: options.maxQueueBytes ?? MAX_QUEUE_BYTES,
      maxBatch,
      exportTimeoutMs,
      isShuttingDown: () => shuttingDown,
      scheduleFlush: schedule,
      later: (fn) => turns.later(fn),
    }),
  );

  /** Arms the flush timer (flushIntervalMs) unless it is armed already. */
  function schedule(): void {
    if (timer === undefined) timer = clock.setTimeout(runLoop, flushIntervalMs);
  }

  const waitingInIntake = (): number => intake.size;
  /** A whole batch waits in the intake, by count or by the size of what it holds: prepare it at once. */
  const intakeFull = (): boolean => intake.size >= maxBatch || intake.bytes >= intakeTurnBytes;

  /**
   * One turn: a slice of the intake within the time budget, or all of it once a batch has piled up
   * (a burst must not overflow it). What is left waits for the next macrotask, so a request that
   * arrived meanwhile is read first and the intake drains in short pieces between messages.
   */
  function prepareSlice(): void {
    slice = undefined;
    const waiting = waitingInIntake();
    if (intakeFull()) drainIntake("now", waiting);
    else drainIntake("soon", PREPARE_SLICE_EVENTS, preciseNow() + PREPARE_SLICE_BUDGET_MS);
    if (waitingInIntake() > 0) requestSlice(true);
    if (timer === undefined && !shuttingDown && lanes.some((l) => l.waiting())) schedule();
  }

  /** A slice: at the next macrotask once a full batch waits, in a later turn to go on draining, else in PREPARE_INTERVAL_MS. */
  function requestSlice(goingOn = false): void {
    if (shuttingDown) return;
    const when: SliceWhen = intakeFull() ? "now" : goingOn ? "turn" : "interval";
    if (slice !== undefined && SLICE_RANK[slice] >= SLICE_RANK[when]) return;
    slice = when;
    try {
      if (when === "now") idle(prepareSlice);
      else if (when === "turn") turns.later(prepareSlice);
      else clock.setTimeout(prepareSlice, PREPARE_INTERVAL_MS);
    } catch {
      slice = undefined; // the flush timer still drains the intake
    }
  }

  function runLoop(): void {
    timer = undefined;
    // A pending slice prepares the intake in short turns (and schedules the flush of what it
    // prepared); taking it all here would be the long pause those turns avoid.
    if (slice === undefined) drainIntake("now", Infinity);
    for (const lane of lanes) lane.pump();
    drops.summarise();
    if (!shuttingDown && (waitingInIntake() > 0 || lanes.some((l) => l.waiting()))) schedule();
  }

  /**
   * Prepares, serialises and observes up to `limit` intake items in order, then queues them per
   * sink; a lane that fills a batch on the way starts its flush `now` (a burst must not overflow a
   * healthy sink's queue), `soon` (at the next macrotask, apart from this work) or `later` (the
   * flush loop's turn). Given a `deadline` (a {@link preciseNow} reading), stops once it has
   * passed, after one item at least.
   */
  function drainIntake(batches: FullBatches, limit: number, deadline?: number): void {
    if (intakeOverflow > 0) {
      const bound = `more than ${maxQueue} events or ${describeBound(maxIntakeBytes)} of messages waiting`;
      drops.add("all sinks", "intake full", intakeOverflow * lanes.length, bound);
      intakeOverflow = 0;
    }
    const each = batches === "now" ? prepareFlushingNow : batches === "soon" ? prepareFlushingSoon : prepareOnly;
    if (deadline === undefined) intake.take(limit, each);
    else {
      for (let taken = 0; taken < limit && intake.take(1, each) > 0; taken++) {
        if (preciseNow() >= deadline) break;
      }
    }
    for (const lane of lanes) lane.reportOverflow();
  }

  const prepareFlushingNow = (raw: T): void => prepareOne(raw, "now");
  const prepareFlushingSoon = (raw: T): void => prepareOne(raw, "soon");
  const prepareOnly = (raw: T): void => prepareOne(raw, "later");
  /** Prepares one intake item and queues it for every sink (see drainIntake); a failure drops it, counted. */
  function prepareOne(raw: T, batches: FullBatches): void {
    let event: BatonEvent;
    let line: string;
    try {
      event = prepare(raw);
      line = JSON.stringify(event); // once, shared by every sink
      if (typeof line !== "string") throw new TypeError("prepare returned no event");
    } catch (error) {
      drops.add("all sinks", "prepare failed", lanes.length, describeError(error));
      return;
    }
    try {
      options.observe?.(event);
    } catch (error) {
      if (clock.now() - lastObserveErrorAt >= DROP_LOG_INTERVAL_MS) {
        lastObserveErrorAt = clock.now();
        options.logger.warn(`event observer failed (the session report may be incomplete): ${describeError(error)}`);
      }
    }
    for (const lane of lanes) {
      lane.push(event, line); // each lane keeps only what its sink reads
      if (batches === "later" || !lane.full()) continue;
      if (batches === "now") lane.pump();
      else lane.pumpSoon();
    }
  }

  // Once per event or slice, every dispatcher's closures at once: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(
    prepareOne,
    drainIntake,
    prepareSlice,
    requestSlice,
    intakeFull,
    prepareFlushingNow,
    prepareFlushingSoon,
  );
  const dispatcher: Dispatcher<T> = {
    enqueue(item: T, bytes = 0): void {
      if (shuttingDown) return;
      try {
        // One item alone is taken whatever its size: only a backlog is bounded.
        if (waitingInIntake() >= maxQueue || (intake.size > 0 && intake.bytes + bytes > maxIntakeBytes)) {
          intakeOverflow++; // counted and logged by the background loop, never here
          return;
        }
        intake.push(item, bytes);
        requestSlice();
        if (timer === undefined) schedule();
      } catch {
        // A broken clock must not reach the pump; the event waits for the next scheduled loop.
      }
    },
    settle: () => drainIntake("later", Infinity),
    poke: () => turns.poke(),
    get dropped(): number {
      return drops.total() + intakeOverflow * lanes.length;
    },
    droppedBy: (label) => drops.totalFor(label),
    get queued(): number {
      return waitingInIntake() + lanes.reduce((sum, lane) => sum + lane.size(), 0);
    },
    get needsTurn(): boolean {
      return intakeFull();
    },
    shutdown(deadlineMs = SHUTDOWN_DEADLINE_MS): Promise<void> {
      if (shutdownPromise !== undefined) return shutdownPromise;
      shuttingDown = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      drainIntake("later", Infinity);
      shutdownPromise = new Promise<void>((resolve) => {
        let deadline: unknown;
        // Clock timers are unref'd; here the caller is waiting, so hold the event loop open (bounded
        // by the deadline) or the process could exit with shutdown still pending and lose its exit code.
        const hold = setTimeout(() => {}, deadlineMs + HOLD_MARGIN_MS);
        const done = (): void => {
          clearTimeout(hold);
          clock.clearTimeout(deadline);
          for (const lane of lanes) lane.abandon();
          drops.final();
          resolve();
        };
        deadline = clock.setTimeout(done, deadlineMs);
        const endsAt = clock.now() + deadlineMs;
        void Promise.all(lanes.map((lane) => lane.finish(endsAt))).then(done, done);
      });
      return shutdownPromise;
    },
  };
  // Once per event (the hub reads `dropped` at every emit) or chunk: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(dispatcher.enqueue, dispatcher.poke, ...gettersOf(dispatcher, "dropped", "needsTurn"));
  return dispatcher;
}

/** When a lane that fills a batch while the intake is prepared starts its flush (see drainIntake). */
type FullBatches = "now" | "soon" | "later";
/** When the pending slice runs: after PREPARE_INTERVAL_MS, in a later background turn, or at the next macrotask. */
type SliceWhen = "interval" | "turn" | "now";
const SLICE_RANK: Readonly<Record<SliceWhen, number>> = { interval: 0, turn: 1, now: 2 };

/** The next macrotask, after pending I/O callbacks; never keeps the process alive by itself. */
function runSoon(fn: () => void): void {
  setImmediate(fn).unref();
}
