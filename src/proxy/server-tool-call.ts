// A client's call of a server tool: intent params stripped, the call tracked (or its next round continued), its start emitted. Pure.

import type { ToolCallStartPayload } from "../telemetry/event-types.ts";
import type { JsonObject, JsonRpcId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { bound, clientMeta, emit, userIdFor } from "./call-events.ts";
import { INTENT_SOURCE_PARAM, intentAnnotation } from "./injection.ts";
import { stripIntentParams } from "./intent-params.ts";
import { isPlainObject } from "./canonical-json.ts";
import type { ReceivedText } from "./server-message.ts";
import { setOwn } from "../telemetry/scrub-walk.ts";
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

/** Unlisted tools whose stripped calls are logged (once each) per session; later ones are stripped silently. */
export const MAX_UNLISTED_LOGGED = 100;
/** A tool name is quoted in the log, and remembered, cut to this many characters (the client's text, any length). */
export const MAX_QUOTED_NAME_CHARS = 120;

/**
 * Logs, once per tool, that a call of a tool never listed through the proxy had the reserved names
 * stripped. The name is the client's text: quoted whole, a client calling tools of 1 MB names wrote
 * a megabyte per log line and kept as much per name for the session (in `serve`, per session). It is
 * quoted and remembered cut, with its length: two names alike in their first characters and length
 * count as one.
 */
function noteUnlisted(state: ProxyState, toolName: string, actions: Action[]): void {
  // The template makes a new string: a slice alone would keep the whole name alive (JSC substrings share it).
  const quoted =
    toolName.length <= MAX_QUOTED_NAME_CHARS
      ? `"${toolName}"`
      : `"${toolName.slice(0, MAX_QUOTED_NAME_CHARS)}…" (${toolName.length} characters)`;
  if (state.unlistedStripped.has(quoted) || state.unlistedStripped.size >= MAX_UNLISTED_LOGGED) return;
  state.unlistedStripped.add(quoted);
  actions.push({
    type: "log",
    level: "info",
    text: `stripped user_goal/expected_result from a call of ${quoted}, a tool not listed through the proxy (the names are reserved for it)`,
  });
}

/**
 * A call of a server tool: strip the intent params, then track it and emit its start (or continue a
 * held call). Its `_meta` is read from `params` here, which keeps the list of inputs short now that
 * the line's size (`lineBytes`) is one of them. `text` gives its start the arguments' numbers as written.
 */
export function toolCall(
  state: ProxyState,
  id: JsonRpcId,
  toolName: string,
  params: JsonObject,
  text: ReceivedText,
  now: number,
  lineBytes: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): Disposition {
  const meta = isObject(params._meta) ? params._meta : undefined;
  const intent = stripIntentParams(params.arguments, toolName, intentMode(state), state.intentRegistry);
  if (intent.unlisted) noteUnlisted(state, toolName, actions);
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
  const args = bound(state, eventArguments(params.arguments, text, intent.removed), lineBytes);
  const payload: ToolCallStartPayload = { tool_name: call.toolName, params: args.value as Record<string, unknown> };
  if (intent.intent !== undefined) payload.call_intent = intent.intent;
  if (intent.expected !== undefined) payload.call_expected = intent.expected;
  if (intent.intent !== undefined || intent.expected !== undefined) payload.intent_source = INTENT_SOURCE_PARAM;
  actions.push(emit(state, "tool_call_start", call, payload, args.truncated));
  return disposition;
}

/**
 * The arguments for the call's start event: as the client wrote them, numbers included (`1.0`,
 * integers past 2^53, which `parsed` holds rounded), less the intent params `removed` from them.
 */
function eventArguments(parsed: unknown, text: ReceivedText, removed: readonly string[]): JsonObject {
  const written = writtenArguments(text);
  if (written === undefined) return isObject(parsed) ? parsed : {};
  const args: JsonObject = {};
  for (const key of Object.keys(written)) if (!removed.includes(key)) setOwn(args, key, written[key]);
  return args;
}

/** The call's `arguments` with numbers as written, when its line holds numbers JSON.parse changes. */
function writtenArguments(text: ReceivedText): JsonObject | undefined {
  const params = text.asWritten()?.params;
  return isPlainObject(params) && isPlainObject(params.arguments) ? params.arguments : undefined;
}

/**
 * `params` of a `baton_annotate` call whose object and array arguments (its `context`, unknown
 * fields) hold their numbers as the agent wrote them, for the annotation event. Its other
 * arguments stay as parsed: a number where text belongs is recorded as that number's text.
 */
export function withWrittenContainers(params: JsonObject, text: ReceivedText): JsonObject {
  const written = writtenArguments(text);
  const parsed = params.arguments;
  if (written === undefined || !isObject(parsed)) return params;
  const args: JsonObject = {};
  for (const key of Object.keys(parsed)) {
    const value = written[key];
    setOwn(args, key, isPlainObject(value) || Array.isArray(value) ? value : parsed[key]);
  }
  return { ...params, arguments: args };
}
