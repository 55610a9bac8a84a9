// A client's call of a server tool: intent params stripped, the call tracked (or its next round continued), its start emitted. Pure.

import type { ToolCallStartPayload } from "../telemetry/event-types.ts";
import type { JsonObject, JsonRpcId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { bound, clientMeta, emit, userIdFor } from "./call-events.ts";
import { INTENT_SOURCE_PARAM, intentAnnotation } from "./injection.ts";
import { stripIntentParams } from "./intent-params.ts";
import { resumeCall } from "./multi-round.ts";
import { track, trackUnobserved } from "./pending.ts";
import {
  captures,
  type Disposition,
  intentMode,
  noteProactive,
  type Action,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";
import type { PendingCall } from "./pending-book.ts";

/**
 * A call of a server tool: strip the intent params, then track it and emit its start (or continue a
 * held call). Its `_meta` is read from `params` here, which keeps the list of inputs short now that
 * the line's size (`lineBytes`) is one of them.
 */
export function toolCall(
  state: ProxyState,
  id: JsonRpcId,
  toolName: string,
  params: JsonObject,
  now: number,
  lineBytes: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): Disposition {
  const meta = isObject(params._meta) ? params._meta : undefined;
  const intent = stripIntentParams(params.arguments, toolName, intentMode(state), state.intentRegistry);
  if (intent.unlisted && !state.unlistedStripped.has(toolName) && state.unlistedStripped.size < 1000) {
    state.unlistedStripped.add(toolName);
    actions.push({
      type: "log",
      level: "info",
      text: `stripped user_goal/expected_result from a call of "${toolName}", a tool not listed through the proxy (the names are reserved for it)`,
    });
  }
  const disposition: Disposition = intent.stripped ? { strip: intent.removed } : "forward";
  const resumed = resumeCall(state, "tools/call", toolName, params, now);
  if (resumed !== undefined) {
    track(state, id, resumed, now, actions); // the same call, one more round: no second start
    return disposition;
  }
  if (!captures(state, "tools")) {
    trackUnobserved(state, id, "tools/call", now, actions);
    return disposition;
  }
  const call: PendingCall = {
    toolName,
    callId: `c${state.nextCallId++}`,
    meta: clientMeta(meta),
    userId: userIdFor(state, facts, actions),
    rounds: 0,
  };
  track(state, id, { method: "tools/call", startedAt: now, firstPage: false, call }, now, actions);
  // An unrecorded request's note would be dropped (hosted per-request consent): the first recorded intent makes it.
  if (
    intent.intent !== undefined &&
    facts?.unrecorded === undefined &&
    noteProactive(state, facts?.recordedFor ?? "")
  ) {
    actions.push(intentAnnotation(state, call, intent.intent, intent.expected));
  }
  const args = bound(state, isObject(params.arguments) ? params.arguments : {}, lineBytes);
  const payload: ToolCallStartPayload = { tool_name: call.toolName, params: args.value as Record<string, unknown> };
  if (intent.intent !== undefined) payload.call_intent = intent.intent;
  if (intent.expected !== undefined) payload.call_expected = intent.expected;
  if (intent.intent !== undefined || intent.expected !== undefined) payload.intent_source = INTENT_SOURCE_PARAM;
  actions.push(emit(state, "tool_call_start", call, payload, args.truncated));
  return disposition;
}
