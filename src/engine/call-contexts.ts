// Each call in flight's request context, so the call's later events carry the context of the request that started it; released when the call is open nowhere. No I/O.

import type { RequestContext } from "../telemetry/envelope.ts";
import { META_CALL_ID } from "../telemetry/event-types.ts";
import type { LazyDraft, SessionEvents } from "../telemetry/telemetry-hub.ts";
import type { OpenRounds } from "../proxy/multi-round.ts";
import type { Action, PendingBook, PendingRequest } from "../proxy/transform.ts";

export interface CallContexts {
  /** Emits a draft; a call's draft (tool calls, resource reads/lists, prompt gets/lists) goes through {@link emitForCall}. */
  emit(draft: Extract<Action, { type: "emit" }>["draft"], context: RequestContext | undefined, bytes: number): void;
  /** An opening event records `context` for the call; a closing one carries the recorded context and releases it. */
  emitForCall(
    draft: LazyDraft,
    call: { readonly callId: string },
    opens: boolean,
    context: RequestContext | undefined,
    bytes: number,
  ): void;
  /** How many calls hold a context. */
  size(): number;
  /** Drops the contexts of every call not in `open` (calls whose closing event was lost). */
  keepOnly(open: ReadonlySet<string>): void;
}

export function createCallContexts(events: SessionEvents): CallContexts {
  /** Contexts of calls in flight, by call id, so a call's outcome carries its request's context. */
  const callContexts = new Map<string, RequestContext>();

  function emit(
    draft: Extract<Action, { type: "emit" }>["draft"],
    context: RequestContext | undefined,
    bytes: number,
  ): void {
    const callId = draft.runtime_meta?.[META_CALL_ID];
    if (typeof callId !== "string") return events.emit(draft, context, bytes);
    // tool calls, resource reads/lists, prompt gets/lists
    emitForCall(draft, { callId }, draft.event_type.endsWith("_start"), context, bytes);
  }

  /** A call's events carry the context of the request that started it. */
  function emitForCall(
    draft: LazyDraft,
    call: { readonly callId: string },
    opens: boolean,
    context: RequestContext | undefined,
    bytes: number,
  ): void {
    if (opens) {
      if (context !== undefined) callContexts.set(call.callId, context);
      return events.emit(draft, context, bytes);
    }
    const started = callContexts.size === 0 ? undefined : callContexts.get(call.callId);
    if (started !== undefined) callContexts.delete(call.callId);
    events.emit(draft, started ?? context, bytes);
  }

  return {
    emit,
    emitForCall,
    size: () => callContexts.size,
    keepOnly: (open) => {
      for (const callId of callContexts.keys()) if (!open.has(callId)) callContexts.delete(callId);
    },
  };
}

/** Drops the contexts of calls no longer open anywhere: in no book's requests, in no held round or task. */
export function releaseEndedCalls(calls: CallContexts, books: readonly PendingBook[], rounds: OpenRounds): void {
  const open = new Set<string>();
  const note = (request: PendingRequest): void => {
    const callId = request.call?.callId ?? request.subject?.callId;
    if (callId !== undefined) open.add(callId);
  };
  for (const book of books) for (const request of book.pending.values()) note(request);
  for (const held of rounds.waiting.values()) note(held.request);
  for (const held of rounds.tasks.values()) note(held.request);
  calls.keepOnly(open);
}
