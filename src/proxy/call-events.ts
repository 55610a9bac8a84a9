// Builds the friction events of one tool call (start, end, error) and the runtime_meta they carry. No I/O.

import type { EventType, PayloadByType } from "../telemetry/event-types.ts";
import { ERROR_DATA_MARK, META_CALL_ID, META_ROUNDS, META_SERVER, META_TRUNCATED } from "../telemetry/event-types.ts";
import { setOwn } from "../telemetry/scrub-walk.ts";
import { numberOf } from "./canonical-json.ts";
import type { JsonObject } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import type { Action, EventDraft, ProxyState, RequestFacts } from "./proxy-state.ts";
import type { PendingCall, PendingRequest } from "./pending-book.ts";
import { elapsedMs } from "./proxy-state.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export function callOutcome(
  state: ProxyState,
  request: PendingRequest,
  response: JsonObject,
  result: JsonObject | undefined,
  now: number,
  lineBytes: number,
): Action {
  const call = request.call as PendingCall;
  const outcome = outcomeOf(state, call, response, result, elapsedMs(request.startedAt, now), lineBytes);
  return emit(state, outcome.type, call, outcome.payload, outcome.truncated);
}

/** The event closing a call answered by `response` (`result`: its result when an object), of either build. */
export function outcomeOf(
  state: ProxyState,
  call: PendingCall,
  response: JsonObject,
  result: JsonObject | undefined,
  duration: number,
  lineBytes: number,
): Outcome {
  if (result === undefined) {
    const facts = errorFacts(state, response, lineBytes);
    return {
      type: "tool_call_error",
      payload: {
        tool_name: call.toolName,
        error_type: facts.errorType,
        error_body: facts.body,
        duration_ms: duration,
      },
      truncated: facts.truncated,
    };
  }
  if (result.isError === true) {
    const body = bound(state, textOf(result.content), lineBytes);
    return {
      type: "tool_call_error",
      payload: {
        tool_name: call.toolName,
        error_type: "tool_error",
        error_body: body.value as string,
        duration_ms: duration,
      },
      truncated: body.truncated,
    };
  }
  const content = bound(state, Array.isArray(result.content) ? result.content : result, lineBytes);
  return {
    type: "tool_call_end",
    payload: {
      tool_name: call.toolName,
      result: content.value,
      duration_ms: duration,
    },
    truncated: content.truncated,
  };
}

/** A call's closing event before it becomes a draft. */
export type Outcome =
  | { readonly type: "tool_call_error"; readonly payload: PayloadByType["tool_call_error"]; readonly truncated: number }
  | { readonly type: "tool_call_end"; readonly payload: PayloadByType["tool_call_end"]; readonly truncated: number };

/** `jsonrpc_<code>` and the message (+ data) of a JSON-RPC error answer, bounded (`lineBytes`: see `bound`). */
export function errorFacts(
  state: ProxyState,
  response: JsonObject,
  lineBytes: number,
): { errorType: string; body: string; truncated: number } {
  const error = response.error;
  // Only an integer is a JSON-RPC code (as /metrics reads it): `-32000.5` or `1e300` would name a class no peer uses.
  // numberOf: a response parsed with its numbers as written holds `-32000.0` as its text.
  const code =
    isObject(error) && Number.isSafeInteger(numberOf(error.code)) ? (numberOf(error.code) as number) : undefined;
  const text =
    isObject(error) && typeof error.message === "string" ? error.message : jsonText(error ?? response.result ?? null);
  const data = isObject(error) && error.data !== undefined ? `${ERROR_DATA_MARK}${jsonText(error.data)})` : "";
  const body = bound(state, text + data, lineBytes);
  return {
    errorType: code === undefined ? "jsonrpc_invalid" : `jsonrpc_${code}`,
    body: body.value as string,
    truncated: body.truncated,
  };
}

export function callError(
  state: ProxyState,
  request: PendingRequest,
  errorType: string,
  body: string,
  now: number,
  truncated = 0,
): Action {
  const call = request.call as PendingCall;
  return emit(
    state,
    "tool_call_error",
    call,
    {
      tool_name: call.toolName,
      error_type: errorType,
      error_body: body,
      duration_ms: elapsedMs(request.startedAt, now),
    },
    truncated,
  );
}

export function emit<T extends EventType>(
  state: ProxyState,
  type: T,
  call: PendingCall,
  payload: PayloadByType[T],
  truncated = 0,
): Action {
  return {
    type: "emit",
    draft: callDraft(type, call, call.rounds, payload, truncated, state.agentRuntime, state.serverLabel),
  };
}

/**
 * A call event's draft from values taken when it was emitted (`rounds`, the agent and the server
 * label may change before a draft built in the background runs).
 */
export function callDraft<T extends EventType>(
  type: T,
  call: PendingCall,
  rounds: number,
  payload: PayloadByType[T],
  truncated: number,
  agentRuntime: string,
  serverLabel: string | null,
): EventDraft {
  // A copy key by key, not a spread: most calls have no _meta, and a spread costs a clone even then.
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(call.meta)) setOwn(meta, key, call.meta[key]);
  meta[META_CALL_ID] = call.callId;
  if (serverLabel !== null) meta[META_SERVER] = serverLabel;
  if (truncated > 0) meta[META_TRUNCATED] = truncated;
  if (rounds > 0 && type !== "tool_call_start") meta[META_ROUNDS] = rounds + 1;
  return {
    event_type: type,
    payload,
    runtime_meta: meta,
    agent_runtime: agentRuntime,
    user_id: call.userId,
  } as EventDraft;
}

/**
 * The `user_id` for a request: its own principal (hosted mode) or the session's (stdio), hashed.
 * Without a key there is none, and a per-request principal is noted once in the log.
 */
export function userIdFor(state: ProxyState, facts: RequestFacts | undefined, actions: Action[]): string | null {
  const principal = facts?.principal ?? state.options.defaultPrincipal;
  if (principal === undefined) return null;
  if (state.options.hashPrincipal === undefined) {
    if (!state.warnedNoUserKey && facts?.principal !== undefined) {
      state.warnedNoUserKey = true;
      actions.push({
        type: "log",
        level: "warn",
        text: "requests name a principal but BATON_USER_ID_HMAC_KEY is unset: events carry no user_id",
      });
    }
    return null;
  }
  return state.options.hashPrincipal(principal);
}

export function withServer(state: ProxyState, meta: Record<string, unknown>): Record<string, unknown> {
  if (state.serverLabel !== null) meta[META_SERVER] = state.serverLabel;
  return meta;
}

/**
 * The request's `_meta` for `runtime_meta`, minus keys under our own `baton/` prefix: a client must
 * not be able to forge a call id or slip values past the privacy stage (which trusts `baton/` keys).
 */
export function clientMeta(meta: JsonObject | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  if (meta === undefined) return copy;
  // setOwn: a plain assignment of a "__proto__" key would set the prototype and lose the key.
  for (const key of Object.keys(meta)) if (!key.startsWith("baton/")) setOwn(copy, key, meta[key]);
  return copy;
}

/**
 * A line this short cannot hold a value over the event size caps, nor pin much memory: its values
 * skip the hot-path bound (the background scrubber still applies every cap). Most calls are such.
 */
export const HOT_BOUND_MIN_LINE_BYTES = 64 * 1024;

/**
 * `value` bounded for an event when it came from a line of `lineBytes` bytes (the raw line the
 * client or server sent, newline included). The size is a parameter, not state, so the decision
 * is visibly per line and cannot carry over from the line handled before.
 */
export function bound(state: ProxyState, value: unknown, lineBytes: number): { value: unknown; truncated: number } {
  if (state.options.boundValue === undefined || lineBytes <= HOT_BOUND_MIN_LINE_BYTES) return { value, truncated: 0 };
  return state.options.boundValue(value);
}

/** The text blocks of a tool result joined, or its JSON when it has none. */
export function textOf(content: unknown): string {
  if (Array.isArray(content)) {
    const texts = content
      .filter((c) => isObject(c) && c.type === "text" && typeof c.text === "string")
      .map((c) => (c as JsonObject).text as string);
    if (texts.length > 0) return texts.join("\n");
  }
  return jsonText(content ?? null);
}

/**
 * The JSON text of a parsed answer's value, or a marker when JSON.stringify cannot write it:
 * JSON.parse reads nesting far deeper than the recursive JSON.stringify can (RangeError past a few
 * thousand levels), and the call's event must still be made.
 */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return "[not serialisable: nested too deep]";
  }
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(outcomeOf, callDraft, userIdFor);
