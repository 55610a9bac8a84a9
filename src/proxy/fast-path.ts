// Plain tool calls and their answers handled from their lines' scanned facts: the whole line is never parsed, only the small values their events hold (arguments, content). No I/O.

import { FACT, type LineFacts } from "../wire/line-facts.ts";
import type { JsonObject, Message } from "../wire/jsonrpc.ts";
import { decodeUtf8, scannedFacts } from "../wire/jsonrpc.ts";
import { clientMeta, emit, outcomeOf, userIdFor } from "./call-events.ts";
import { isInjected } from "./injection.ts";
import { containsMarker } from "./pass-through.ts";
import { track, untrack } from "./pending.ts";
import {
  captures,
  intentMode,
  MODERN_CLIENT_INFO_KEY,
  noteClient,
  type Action,
  type PendingCall,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";

/** Facts of a call line that send it down the full path: another round, doubt. */
const CALL_NEEDS_PARSE = FACT.PARAMS_ROUND | FACT.UNSURE | FACT.PARAMS_NOT_OBJECT;
/** Facts of an answer that send it down the full path: multi-round and task results, doubt. */
const ANSWER_NEEDS_PARSE = FACT.RESULT_SPECIAL | FACT.UNSURE;

/**
 * A client `tools/call` of a server tool that nothing rewrites, handled as `toolCall` in
 * transform.ts would (tracked, start event), reading only its `_meta` and `arguments` values.
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
  if (state.options.fastPath !== true || message.kind !== "request") return false;
  const scanned = scannedFacts(message, raw);
  if (scanned === undefined) return false;
  const name = scanned.name;
  if (message.method !== "tools/call" || name === undefined || (scanned.flags & CALL_NEEDS_PARSE) !== 0) return false;
  if (isInjected(state, name)) return false;
  // Intent params are stripped from calls: without their names (or an escape) in the line there are none.
  if (intentMode(state) !== "off" && containsMarker(raw)) return false;
  // `_meta`: progress tokens, host keys; the client's info in the modern era.
  const meta = scanned.metaIsObject ? (parsed(raw, scanned.metaAt, scanned.metaEnd) as JsonObject) : undefined;
  noteClient(state, meta?.[MODERN_CLIENT_INFO_KEY]);
  if (!captures(state, "tools")) return true;
  const call: PendingCall = {
    toolName: name,
    callId: `c${state.nextCallId++}`,
    meta: clientMeta(meta),
    userId: userIdFor(state, facts, actions),
    rounds: 0,
  };
  track(state, message.id, { method: "tools/call", startedAt: now, firstPage: false, call }, now, actions);
  const args = scanned.argumentsIsObject ? parsed(raw, scanned.argumentsAt, scanned.argumentsEnd) : {};
  actions.push(emit(state, "tool_call_start", call, { tool_name: name, params: args as Record<string, unknown> }));
  return true;
}

/**
 * A server answer that is no rewrite's business: one to a plain tracked tool call (closed, its
 * end or error event from its content alone) or to nothing tracked (forwarded, not parsed at all).
 * Returns false when the full path must look (other requests, multi-round and task results).
 */
export function plainAnswer(
  state: ProxyState,
  message: Message,
  raw: Uint8Array,
  now: number,
  actions: Action[],
): boolean {
  if (state.options.fastPath !== true || message.kind !== "response") return false;
  const scanned = scannedFacts(message, raw);
  if (scanned === undefined) return false;
  if (message.id === null || (scanned.flags & ANSWER_NEEDS_PARSE) !== 0) return false;
  // The full path learns the server's name from the first answer carrying it.
  if ((scanned.flags & FACT.RESULT_META) !== 0 && state.serverLabel === null) return false;
  const request = state.pending.get(message.id);
  if (request === undefined) return true;
  const call = request.call;
  if (call === undefined) return false;
  untrack(state, message.id);
  const duration = Math.max(0, Math.round(now - request.startedAt));
  const outcome = scanned.resultIsObject
    ? outcomeOf(state, call, {}, resultOf(scanned, raw), duration, raw.length)
    : outcomeOf(state, call, message.value, undefined, duration, raw.length); // a JSON-RPC error: rare, parsed
  actions.push(emit(state, outcome.type, call, outcome.payload, outcome.truncated));
  return true;
}

/**
 * The result as outcomeOf reads it: its `isError` and parsed `content` when the content is an
 * array or the result is an error, else the whole result (outcomeOf keeps it when there is no array).
 */
function resultOf(scanned: LineFacts, raw: Uint8Array): JsonObject {
  const isError = (scanned.flags & FACT.IS_ERROR_TRUE) !== 0;
  if (!isError && !scanned.contentIsArray) return parsed(raw, scanned.resultAt, scanned.resultEnd) as JsonObject;
  const result: JsonObject = { isError };
  if (scanned.contentAt >= 0) result.content = parsed(raw, scanned.contentAt, scanned.contentEnd);
  return result;
}

function parsed(raw: Uint8Array, start: number, end: number): unknown {
  return JSON.parse(decodeUtf8(raw.subarray(start, end)));
}
