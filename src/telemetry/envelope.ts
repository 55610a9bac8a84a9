// Stamps event drafts with the envelope: UUIDv7 id, one session id, strictly increasing sequence, RFC 3339 µs time.

import { META_DROPPED_EVENTS, type BatonEvent, type EventDraft } from "./event-types.ts";

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
}

export interface EnvelopeClock {
  /** Wall-clock time in milliseconds with a fractional part (µs resolution). */
  nowEpochMs(): number;
  /** A new UUIDv7. */
  uuid(): string;
}

/** The real clock: `performance.timeOrigin + performance.now()` gives microseconds; ids from Bun's UUIDv7. */
export const SYSTEM_ENVELOPE_CLOCK: EnvelopeClock = {
  nowEpochMs: () => performance.timeOrigin + performance.now(),
  uuid: () => Bun.randomUUIDv7(),
};

/** Formats epoch milliseconds as `2026-11-24T07:01:26.123456Z`. */
export function formatCapturedAt(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  const iso = new Date(wholeMs).toISOString(); // 2026-11-24T07:01:26.123Z
  return `${iso.slice(0, 23)}${String(micros).padStart(3, "0")}Z`;
}

/**
 * Returns a function that turns drafts into full events for one session. `sequence_number`
 * starts at 1 and increases by one per event, in the order drafts are stamped. `dropped` (events
 * lost so far) goes into `runtime_meta` when positive, on a copy: the draft is never changed.
 */
export function createEnvelope(identity: EnvelopeIdentity, clock: EnvelopeClock = SYSTEM_ENVELOPE_CLOCK) {
  const sessionId = clock.uuid();
  let sequence = 0;
  return {
    sessionId,
    stamp(draft: EventDraft, context?: RequestContext, dropped = 0): BatonEvent {
      sequence += 1;
      const meta = dropped > 0 && draft.runtime_meta !== null ? { ...draft.runtime_meta, [META_DROPPED_EVENTS]: dropped } : draft.runtime_meta;
      return {
        event_id: clock.uuid(),
        tenant_id: identity.tenantId,
        vendor_id: identity.vendorId,
        session_id: sessionId,
        sequence_number: sequence,
        captured_at: formatCapturedAt(clock.nowEpochMs()),
        consent_token: context?.consentToken ?? identity.consentToken,
        sdk_version: identity.sdkVersion,
        agent_runtime: draft.agent_runtime,
        user_id: context?.userId ?? null,
        runtime_meta: meta,
        event_type: draft.event_type,
        payload: draft.payload,
      } as BatonEvent;
    },
  };
}
