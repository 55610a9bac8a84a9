// Plain tool calls and their answers handled from their lines' scanned facts, without a parse: the state changes happen now, the events are built in the background from a copy of the line. No I/O.

import type { ToolCallStartPayload } from "../telemetry/event-types.ts";
import { FACT, type LineFacts } from "../wire/line-facts.ts";
import type { JsonObject, Message } from "../wire/jsonrpc.ts";
import { decodeUtf8, scannedFacts } from "../wire/jsonrpc.ts";
import { parseEventValue } from "./canonical-json.ts";
import { callDraft, clientMeta, outcomeOf, userIdFor, type Outcome } from "./call-events.ts";
import { isInjected } from "./injection.ts";
import { containsMarker } from "./pass-through.ts";
import { holdsTextKeys, track, trackUnobserved, untrack } from "./pending.ts";
import {
  elapsedMs,
  captures,
  intentMode,
  MODERN_CLIENT_INFO_KEY,
  noteClient,
  type Action,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";
import type { PendingCall } from "./pending-book.ts";
import { gettersOf, keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Facts of a call line that send it down the full path: another round, doubt. */
const CALL_NEEDS_PARSE = FACT.PARAMS_ROUND | FACT.UNSURE | FACT.PARAMS_NOT_OBJECT;
/** Facts of an answer that send it down the full path: multi-round and task results, doubt. */
const ANSWER_NEEDS_PARSE = FACT.RESULT_SPECIAL | FACT.UNSURE;

/** A call without `_meta` has none to carry into runtime_meta (never mutated: drafts copy it). */
const NO_META: Record<string, unknown> = Object.freeze({});

/** A plain call's bookkeeping; its id text (`c<n>`) is made when first read, mostly by a draft built later. */
class PlainCall implements PendingCall {
  rounds = 0;
  #callId: string | undefined;
  constructor(
    readonly toolName: string,
    private readonly callNumber: number,
    readonly userId: string | null,
    readonly meta: Record<string, unknown>,
  ) {}
  get callId(): string {
    this.#callId ??= `c${this.callNumber}`;
    return this.#callId;
  }
}

/**
 * A client `tools/call` of a server tool that nothing rewrites, handled as `toolCall` in
 * transform.ts would (tracked, start event) but with its arguments read in the background.
 * Returns false when it is not such a call: the caller takes the full path, nothing was done.
 */
export function plainToolCall(
  state: ProxyState,
  message: Message,
  raw: Uint8Array,
  now: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): boolean {
  if (state.options.lazyDrafts !== true || message.kind !== "request") return false;
  const scanned = scannedFacts(message, raw);
  if (scanned === undefined) return false;
  const name = scanned.name;
  if (message.method !== "tools/call" || name === undefined || (scanned.flags & CALL_NEEDS_PARSE) !== 0) return false;
  if (isInjected(state, name)) return false;
  // Intent params are stripped from calls: without their names (or an escape) in the line there are none.
  if (intentMode(state) !== "off" && containsMarker(raw)) return false;
  // `_meta` (progress tokens, host keys; the client's info in the modern era) is small: read now.
  // Plain numbers: a progress token is matched against the server's notifications by value.
  const meta = scanned.metaIsObject
    ? (JSON.parse(decodeUtf8(raw.subarray(scanned.metaAt, scanned.metaEnd))) as JsonObject)
    : undefined;
  noteClient(state, meta?.[MODERN_CLIENT_INFO_KEY]);
  // A scanned id (a plain string, a short integer other than -0) is its own key (see IdKey).
  if (!captures(state, "tools")) {
    trackUnobserved(state, message.id, "tools/call", now, actions);
    return true;
  }
  const call = new PlainCall(
    name,
    state.nextCallId++,
    userIdFor(state, facts, actions),
    meta === undefined ? NO_META : clientMeta(meta),
  );
  track(state, message.id, { method: "tools/call", startedAt: now, firstPage: false, call }, now, actions);
  // Only the arguments' bytes are kept (a copy: raw is a view into a read chunk) and parsed later.
  const args = scanned.argumentsIsObject ? raw.slice(scanned.argumentsAt, scanned.argumentsEnd) : undefined;
  actions.push(
    later(state, call, true, () => ({
      type: "tool_call_start",
      payload: { tool_name: name, params: args === undefined ? {} : (parsed(args) as JsonObject) },
      truncated: 0,
    })),
  );
  return true;
}

/**
 * A server answer that is no rewrite's business: one to a plain tracked tool call (closed, its
 * end or error event built in the background) or to nothing tracked (forwarded, not even parsed).
 * Returns false when the full path must look (other requests, multi-round and task results).
 */
export function plainAnswer(
  state: ProxyState,
  message: Message,
  raw: Uint8Array,
  now: number,
  actions: Action[],
): boolean {
  if (state.options.lazyDrafts !== true || message.kind !== "response") return false;
  const scanned = scannedFacts(message, raw);
  if (scanned === undefined) return false;
  if (message.id === null || (scanned.flags & ANSWER_NEEDS_PARSE) !== 0) return false;
  // The full path learns the server's name from the first answer carrying it.
  if ((scanned.flags & FACT.RESULT_META) !== 0 && state.serverLabel === null) return false;
  const request = state.pending.get(message.id);
  // Not the id as written: a request whose number id was written otherwise (1.0) may be its by value (see untrackAnswered).
  if (request === undefined && typeof message.id === "number" && holdsTextKeys(state)) return false;
  if (request === undefined) {
    if (state.evictedIds.size > 0) untrack(state, message.id); // an evicted request answered late: nothing owed
    return true;
  }
  const call = request.call;
  if (call === undefined) return false;
  untrack(state, message.id);
  const duration = elapsedMs(request.startedAt, now);
  const lineBytes = raw.length;
  actions.push(later(state, call, false, outcomeLater(state, call, scanned, raw, duration, lineBytes)));
  return true;
}

/**
 * How the answer's event is built later, from copies of only the bytes it reads: the content of a
 * result (or the whole result when its content is no array), the whole line for a JSON-RPC error.
 */
function outcomeLater(
  state: ProxyState,
  call: PendingCall,
  scanned: LineFacts,
  raw: Uint8Array,
  duration: number,
  lineBytes: number,
): () => Outcome {
  if (!scanned.resultIsObject) {
    const line = raw.slice();
    return () => outcomeOf(state, call, parsed(line) as JsonObject, undefined, duration, lineBytes);
  }
  const content = scanned.contentAt < 0 ? undefined : raw.slice(scanned.contentAt, scanned.contentEnd);
  if ((scanned.flags & FACT.IS_ERROR_TRUE) !== 0) {
    // outcomeOf reads only `isError` and `content` of such a result
    return () => outcomeOf(state, call, {}, resultOf(true, content), duration, lineBytes);
  }
  if (scanned.contentIsArray) return () => outcomeOf(state, call, {}, resultOf(false, content), duration, lineBytes);
  const result = raw.slice(scanned.resultAt, scanned.resultEnd);
  return () => outcomeOf(state, call, {}, parsed(result) as JsonObject, duration, lineBytes);
}

/** A stand-in result holding what outcomeOf reads of it: `isError` and the parsed `content`. */
function resultOf(isError: boolean, content: Uint8Array | undefined): JsonObject {
  const result: JsonObject = { isError };
  if (content !== undefined) result.content = parsed(content);
  return result;
}

/** A call event's type, payload and truncation count, before it becomes a draft. */
type CallEvent =
  | Outcome
  | { readonly type: "tool_call_start"; readonly payload: ToolCallStartPayload; readonly truncated: number };

/** An `emitLater` action: the draft's parts that may change are taken now, the rest when it is built. */
function later(state: ProxyState, call: PendingCall, opens: boolean, event: () => CallEvent): Action {
  const { rounds } = call;
  const { agentRuntime, serverLabel } = state;
  return {
    type: "emitLater",
    call,
    opens,
    build: () => {
      const built = event();
      return callDraft(built.type, call, rounds, built.payload, built.truncated, agentRuntime, serverLabel);
    },
  };
}

/** The value of a line's bytes, numbers as written (`1.0`, big integers): events record what was sent. */
function parsed(bytes: Uint8Array): unknown {
  return parseEventValue(bytes);
}

/** One `build` closure of {@link later}, made at load only to mark them all (closures of one source share the mark). */
function sampleBuild(): (...args: never[]) => unknown {
  const action = later({} as ProxyState, { rounds: 0 } as PendingCall, true, () => {
    throw new Error("never built");
  });
  return action.type === "emitLater" ? action.build : () => undefined;
}

// Once per call: straight-line code around allocations and runtime calls (DFG runs it about as fast),
// but it inlines much, so its FTL compile is among the largest (see runtime/jit-tiers.ts). The later
// ones (the call id, the drafts' builders) were the last FTL compiles of 4 000 sequential calls.
keepOutOfFtl(
  plainToolCall,
  plainAnswer,
  outcomeLater,
  later,
  sampleBuild(),
  ...gettersOf(PlainCall.prototype, "callId"),
);
