// One dispatcher and one set of sinks per process, shared by every session: opens per-session event streams (own session id, sequence and live-report observer).

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { SDK_VERSION } from "../version.ts";
import { createDispatcher, type Dispatcher } from "./dispatcher.ts";
import { createEnvelope, type EnvelopeClock, type RequestContext, type StampMark } from "./envelope.ts";
import type { BatonEvent, EventDraft } from "./event-types.ts";
import { createEventScrubber } from "./scrub.ts";
import { createSinks, type SinkDeps } from "./sinks/create-sinks.ts";
import type { Sink } from "./sinks/sink.ts";
import { gettersOf, keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** One session's events: stamped with its own session id and sequence, delivered by the shared dispatcher. */
export interface SessionEvents {
  readonly sessionId: string;
  /**
   * O(1), never throws: marks the draft's sequence and time and enqueues it (stamped with the
   * request's context, if any, in the background). A function is a draft built in the background
   * (from the raw bytes it closes over), so the pumps pay for no parse or payload; if it throws,
   * the event is dropped, counted and logged like any failed preparation. `bytes`: the size of the
   * message the event came from, an estimate of what the draft holds (see Dispatcher.enqueue).
   */
  emit(draft: LazyDraft, context?: RequestContext, bytes?: number): void;
  /** The wall clock (epoch ms) this session's events are dated by: a live report's "for how long so far". */
  now(): number;
  /** Stops observing this session's events; later emits are still delivered to the sinks. */
  close(): void;
}

export interface TelemetryHub {
  /**
   * A new session's event stream. `observe` sees each of its events after the privacy stage, in
   * order (the live report fold); other sessions' events never reach it.
   */
  openSession(observe?: (event: BatonEvent) => void): SessionEvents;
  /** Prepares and observes everything enqueued so far, synchronously (before rendering a live report). */
  settle(): void;
  /** Events lost so far (every session: the sinks are shared). */
  readonly dropped: number;
  /**
   * Events of any session the sink labelled `label` lost after the live reports had folded them:
   * what a report read back from that sink lacks and a live report holds (see Dispatcher.droppedBy).
   */
  droppedBy(label: string): number;
  /** A full batch waits: a pump reading back-to-back chunks should yield one macrotask. */
  readonly needsTurn: boolean;
  /** Exactly once, at process exit: flushes within `deadlineMs`, never rejects (see Dispatcher.shutdown). */
  shutdown(deadlineMs?: number): Promise<void>;
}

/** The hub as its creator holds it: with the pumps' side of pacing. */
export interface OwnedTelemetryHub extends TelemetryHub {
  /** O(1), never throws: a pump handled a chunk (with `paced`, background work goes on after it; see Dispatcher.poke). */
  poke(): void;
}

export interface TelemetryHubOptions {
  readonly config: Pick<Config, "scrub" | "scrubKeys" | "tenantId" | "vendorId" | "consentToken">;
  readonly logger: Logger;
  /** The sinks; in production `createSinks(config, logger, deps)` (see {@link createConfiguredHub}). */
  readonly sinks: readonly Sink[];
  /** Default: the real clock and Bun's UUIDv7. */
  readonly envelopeClock?: EnvelopeClock;
  /** The caller calls `poke()` after each chunk it handles (see DispatcherOptions.paced). Default false. */
  readonly paced?: boolean;
}

/** A draft, or a function that builds it in the background (at most once, in emission order). */
export type LazyDraft = EventDraft | (() => EventDraft);

/** An emitted draft as the pumps leave it: ordered and timed (its own stamp mark: one object per emit); stamped and scrubbed in the background. */
interface EmittedDraft extends StampMark {
  readonly draft: LazyDraft;
  readonly context: RequestContext | undefined;
  readonly dropped: number;
  readonly envelope: ReturnType<typeof createEnvelope>;
}

/** The hub over already-built sinks (tests pass in-memory ones). */
export function createTelemetryHub(options: TelemetryHubOptions): OwnedTelemetryHub {
  const { config } = options;
  const observers = new Map<string, (event: BatonEvent) => void>();
  const scrub = createEventScrubber({ mode: config.scrub, extraKeys: config.scrubKeys });
  const prepare = (e: EmittedDraft): BatonEvent =>
    scrub(e.envelope.complete(typeof e.draft === "function" ? e.draft() : e.draft, e.context, e.dropped, e));
  // Once per event: no FTL compile (see runtime/jit-tiers.ts); every hub's closure at once.
  keepOutOfFtl(prepare);
  const dispatcher: Dispatcher<EmittedDraft> = createDispatcher<EmittedDraft>({
    sinks: options.sinks,
    logger: options.logger,
    paced: options.paced,
    prepare,
    // Routed by session id: each engine folds only its own session into its live report.
    observe: (event) => observers.get(event.session_id)?.(event),
  });
  const identity = {
    tenantId: config.tenantId,
    vendorId: config.vendorId,
    consentToken: config.consentToken,
    sdkVersion: SDK_VERSION,
  };
  const hub: OwnedTelemetryHub = {
    openSession(observe) {
      const envelope = createEnvelope(identity, options.envelopeClock);
      if (observe !== undefined) observers.set(envelope.sessionId, observe);
      const emit = (draft: LazyDraft, context?: RequestContext, bytes?: number): void =>
        dispatcher.enqueue(
          {
            draft,
            context,
            dropped: dispatcher.dropped,
            sequence: envelope.nextSequence(),
            epochMs: envelope.now(),
            envelope,
          },
          bytes,
        );
      // Once per event, every session's at once: no FTL compile (see runtime/jit-tiers.ts).
      keepOutOfFtl(emit);
      return {
        sessionId: envelope.sessionId,
        emit,
        now: envelope.now,
        close: () => void observers.delete(envelope.sessionId),
      };
    },
    settle: () => dispatcher.settle(),
    get dropped() {
      return dispatcher.dropped;
    },
    droppedBy: (label) => dispatcher.droppedBy(label),
    get needsTurn() {
      return dispatcher.needsTurn;
    },
    poke: () => dispatcher.poke(),
    shutdown: (deadlineMs) => dispatcher.shutdown(deadlineMs),
  };
  // Once per chunk the pumps handle: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(hub.poke, ...gettersOf(hub, "dropped", "needsTurn"));
  return hub;
}

/** The process's hub with the configured sinks (stderr events through `deps.writeStderr`); `paced`: see TelemetryHubOptions. */
export function createConfiguredHub(config: Config, logger: Logger, deps: SinkDeps, paced = false): OwnedTelemetryHub {
  return createTelemetryHub({ config, logger, sinks: createSinks(config, logger, deps), paced });
}
