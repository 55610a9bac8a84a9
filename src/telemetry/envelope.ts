// Stamps event drafts with the envelope: UUIDv7 id, one session id, strictly increasing sequence, RFC 3339 µs time.

import type { Principal } from "../identity/user-id.ts";
import { META_DROPPED_EVENTS, type BatonEvent, type EventDraft } from "./event-types.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import type { RequestTrace } from "./otlp/trace-context.ts";

export interface EnvelopeIdentity {
  readonly tenantId: string;
  readonly vendorId: string;
  readonly consentToken: string;
  readonly sdkVersion: string;
}

/**
 * Per-request facts a transport knows and the events of that request carry (an HTTP front door
 * authenticates each request; stdio has none). Unset fields fall back to the process-wide identity.
 */
export interface RequestContext {
  /** Overrides BATON_CONSENT_TOKEN for this request's events. */
  readonly consentToken?: string;
  /** The authenticated principal, stamped as the envelope's `user_id` (default null). */
  readonly userId?: string;
  /**
   * Who is calling, raw (hosted mode: `principalFromHeaders`). The engine hashes it into `user_id`
   * with BATON_USER_ID_HMAC_KEY (none without a key); the raw value never reaches an event.
   */
  readonly principal?: Principal;
  /**
   * What the request says beyond its message, for its spans (hosted mode: its MCP-Protocol-Version,
   * traceparent and tracestate headers; see proxy/trace-meta.ts).
   */
  readonly trace?: RequestTrace;
}

export interface EnvelopeClock {
  /** Wall-clock time in milliseconds with a fractional part (µs resolution). */
  nowEpochMs(): number;
  /** A new UUIDv7. */
  uuid(): string;
}

/** How far the wall clock may drift from the monotonic one before events follow it again. */
const WALL_CLOCK_SLACK_MS = 1_000;

/**
 * The monotonic clock's epoch; starts as `performance.timeOrigin` (read once: the getter costs more
 * than `performance.now()` itself) and is moved when the wall clock jumps away from it.
 */
let originMs = performance.timeOrigin;

/**
 * The real clock: origin + `performance.now()` gives microseconds; ids from Bun's UUIDv7. The
 * monotonic clock stands still while the machine sleeps (a laptop's lid closed) and ignores the
 * clock being set, so an origin fixed at start would date every later event too early by each
 * sleep; when the wall clock is more than WALL_CLOCK_SLACK_MS away, the origin follows it.
 */
export const SYSTEM_ENVELOPE_CLOCK: EnvelopeClock = {
  nowEpochMs: () => {
    const monotonic = performance.now();
    const wall = Date.now();
    if (Math.abs(wall - (originMs + monotonic)) > WALL_CLOCK_SLACK_MS) originMs = wall - monotonic;
    return originMs + monotonic;
  },
  uuid: () => Bun.randomUUIDv7(),
};

/** The `2026-11-24T07:01:26.` prefix of the last second formatted (events come many per second). */
let cachedSecond = Number.NaN;
let cachedPrefix = "";

/** Formats epoch milliseconds as `2026-11-24T07:01:26.123456Z`. */
export function formatCapturedAt(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const second = Math.floor(wholeMs / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 2026-11-24T07:01:26.
    cachedSecond = second;
  }
  const millis = wholeMs - second * 1000;
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  return `${cachedPrefix}${pad3(millis)}${pad3(micros)}Z`;
}

/** "000" … "999": milliseconds and microseconds of every timestamp, without formatting each time. */
const PADDED_3 = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, "0"));

function pad3(n: number): string {
  return PADDED_3[n] ?? String(n).padStart(3, "0");
}

/**
 * What must be fixed when a draft is emitted (its place in the session and its time); the rest of
 * stamping (the UUID, the text time, the envelope object) can wait for the background.
 */
export interface StampMark {
  readonly sequence: number;
  readonly epochMs: number;
}

/**
 * Returns a function that turns drafts into full events for one session. `sequence_number`
 * starts at 1 and increases by one per event, in the order drafts are marked. `dropped` (events
 * lost so far) goes into `runtime_meta` when positive, on a copy: the draft is never changed.
 * `stamp` does both steps at once; `mark` (hot path) then `complete` (background) split them
 * (`nextSequence` and `now` are `mark` in parts, for a caller keeping them in a record of its own).
 */
export function createEnvelope(identity: EnvelopeIdentity, clock: EnvelopeClock = SYSTEM_ENVELOPE_CLOCK) {
  const sessionId = clock.uuid();
  let sequence = 0;
  /** The next sequence number (the hot path stores it with `now()` in its own record: no mark object per event). */
  const nextSequence = (): number => ++sequence;
  const now = (): number => clock.nowEpochMs();
  const mark = (): StampMark => ({ sequence: nextSequence(), epochMs: now() });
  const complete = (
    draft: EventDraft,
    context: RequestContext | undefined,
    dropped: number,
    at: StampMark,
  ): BatonEvent => {
    const meta =
      dropped > 0 && draft.runtime_meta !== null
        ? { ...draft.runtime_meta, [META_DROPPED_EVENTS]: dropped }
        : draft.runtime_meta;
    return {
      event_id: clock.uuid(),
      tenant_id: identity.tenantId,
      vendor_id: identity.vendorId,
      session_id: sessionId,
      sequence_number: at.sequence,
      captured_at: formatCapturedAt(at.epochMs),
      consent_token: context?.consentToken ?? identity.consentToken,
      sdk_version: identity.sdkVersion,
      agent_runtime: draft.agent_runtime,
      user_id: draft.user_id ?? context?.userId ?? null,
      runtime_meta: meta,
      event_type: draft.event_type,
      payload: draft.payload,
    } as BatonEvent;
  };
  keepOutOfFtl(complete); // every envelope's closure at once: once per event (see runtime/jit-tiers.ts)
  return {
    sessionId,
    mark,
    nextSequence,
    now,
    complete,
    stamp: (draft: EventDraft, context?: RequestContext, dropped = 0): BatonEvent =>
      complete(draft, context, dropped, mark()),
  };
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(formatCapturedAt);
