// The proxy's brain: pure message transforms `(state, message, now) -> actions`. No I/O, no clock, no randomness.
// State is updated in place (O(1) per message even with 100k calls in flight); everything else is returned as actions.

import type { SurfaceSnapshotPayload, ToolCallStartPayload } from "../telemetry/event-types.ts";
import type { Classified, JsonObject, JsonRpcId, Message } from "../wire/jsonrpc.ts";
import { decodeUtf8, isObject, wireResult } from "../wire/jsonrpc.ts";
import { bound, callError, callOutcome, clientMeta, emit, userIdFor, withServer } from "./call-events.ts";
import { isPlainObject, parseKeepingNumbers } from "./canonical-json.ts";
import {
  answerInjectedCall,
  INTENT_SOURCE_PARAM,
  injectHandshake,
  injectToolList,
  intentAnnotation,
  isInjected,
  listOnlyInjected,
  offeredToolNames,
} from "./injection.ts";
import { stripIntentParams } from "./intent-params.ts";
import { plainAnswer, plainToolCall } from "./fast-path.ts";
import { followedTask, holdCall, resumeCall, taskAnswer, taskStatus } from "./multi-round.ts";
import { track, untrack } from "./pending.ts";
import {
  elapsedMs,
  captures,
  intentMode,
  MODERN_CLIENT_INFO_KEY,
  MODERN_SERVER_INFO_KEY,
  MODERN_VERSION_KEY,
  noteClient,
  noteServer,
  type Action,
  type PendingCall,
  type PendingRequest,
  type PendingSubject,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";
import {
  captureGroupOf,
  isSubjectMethod,
  subjectError,
  subjectOf,
  subjectOutcome,
  subjectStart,
} from "./resource-prompt-events.ts";
import { notePage, noteHandshake } from "./surface-snapshot.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export { createProxyState, serverLinesPassUnchanged, MAX_PENDING_REQUESTS, PENDING_TTL_MS } from "./proxy-state.ts";
export type { Action, EventDraft, Principal, ProxyState, RequestFacts, Side, TransformOptions } from "./proxy-state.ts";
export { failPending, failRequests, sweepPending } from "./pending.ts";
export { injectedResult } from "./injection.ts";
export { fromServerLongLine } from "./long-lines.ts";

/** What handling a message decided: forward its bytes, drop it (answered or consumed), or send it without `strip`ped arguments. */
type Disposition = "forward" | "handled" | { readonly strip: readonly string[] };

/**
 * A line from the client. `raw` is the line with its newline, forwarded when nothing changes.
 * `facts` are what the transport knows about this request (e.g. its principal in hosted mode).
 */
export function fromClient(
  state: ProxyState,
  raw: Uint8Array,
  line: Classified,
  now: number,
  facts?: RequestFacts,
): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "server", bytes: raw });
  } else if (line.kind === "message") {
    if (plainToolCall(state, line.message, raw, now, facts, actions)) {
      actions.push({ type: "forward", to: "server", bytes: raw });
      return actions;
    }
    const disposition = clientMessage(state, line.message, now, raw.length, facts, actions);
    if (disposition === "forward") actions.push({ type: "forward", to: "server", bytes: raw });
    else if (disposition !== "handled")
      actions.push({
        type: "send",
        to: "server",
        message: withoutArguments(raw, undefined, disposition.strip) ?? line.message.value,
      });
  } else {
    let changed = false;
    const kept: unknown[] = [];
    line.values.forEach((value, i) => {
      const member = line.members[i];
      const disposition =
        member === undefined ? "forward" : clientMessage(state, member, now, raw.length, facts, actions);
      if (disposition === "handled") return;
      if (disposition !== "forward") changed = true;
      kept.push(disposition === "forward" ? value : (withoutArguments(raw, i, disposition.strip) ?? value));
    });
    if (kept.length === line.values.length && !changed) actions.push({ type: "forward", to: "server", bytes: raw });
    else if (kept.length > 0) actions.push({ type: "send", to: "server", message: kept });
  }
  return actions;
}

/**
 * The call again from its text (numbers as the client wrote them: `1.0`, big integers) without
 * the `keys` of its arguments; undefined when the text does not have that shape (the caller then
 * sends the parsed message, already stripped).
 */
function withoutArguments(raw: Uint8Array, index: number | undefined, keys: readonly string[]): JsonObject | undefined {
  const parsed = parseKeepingNumbers(decodeUtf8(raw));
  const message = index === undefined ? parsed : Array.isArray(parsed) ? parsed[index] : undefined;
  if (!isPlainObject(message) || !isPlainObject(message.params) || !isPlainObject(message.params.arguments))
    return undefined;
  for (const key of keys) delete message.params.arguments[key];
  return message;
}

/** A line from the server. Responses to tracked requests are observed; a few are rewritten. */
export function fromServer(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "client", bytes: raw });
  } else if (line.kind === "message") {
    if (plainAnswer(state, line.message, raw, now, actions)) {
      actions.push({ type: "forward", to: "client", bytes: raw });
      return actions;
    }
    const out = serverMessage(state, line.message, receivedText(raw, undefined), now, raw.length, actions);
    actions.push(
      out === undefined ? { type: "forward", to: "client", bytes: raw } : { type: "send", to: "client", message: out },
    );
  } else {
    const values = [...line.values];
    let changed = false;
    line.members.forEach((member, i) => {
      const out =
        member === undefined ? undefined : serverMessage(state, member, receivedText(raw, i), now, raw.length, actions);
      if (out !== undefined) {
        values[i] = out;
        changed = true;
      }
    });
    actions.push(
      changed ? { type: "send", to: "client", message: values } : { type: "forward", to: "client", bytes: raw },
    );
  }
  return actions;
}
// Once per line: straight-line code around allocations and runtime calls (DFG runs it about as fast),
// but it inlines much, so its FTL compile is among the largest (see runtime/jit-tiers.ts).
keepOutOfFtl(fromClient, fromServer);

/**
 * The line's text parsed with numbers as written, on demand: once for the surface (kept as
 * received) and once more for a rewrite (so the client gets the server's numbers back, `1.0`
 * and big integers included, and the surface is never touched by our additions).
 */
interface ReceivedText {
  surface(): unknown;
  wire(): unknown;
}

function receivedText(raw: Uint8Array, index: number | undefined): ReceivedText {
  const parse = (): unknown => {
    const value = parseKeepingNumbers(decodeUtf8(raw));
    return index === undefined ? value : Array.isArray(value) ? value[index] : undefined;
  };
  let surface: unknown;
  return { surface: () => (surface ??= parse()), wire: parse };
}

/**
 * One message of a client line. `lineBytes` is the whole line's size (a batch's members share it):
 * it decides whether the values the message's events hold need the hot-path bound (see `bound`).
 */
function clientMessage(
  state: ProxyState,
  message: Message,
  now: number,
  lineBytes: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): Disposition {
  if (message.kind === "notification") {
    if (message.method === "notifications/cancelled") cancelled(state, message.value.params, now, actions);
    return "forward";
  }
  if (message.kind === "response") return "forward"; // answers a server→client request: not ours to look at
  const params = isObject(message.value.params) ? message.value.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const modern = meta !== undefined && MODERN_VERSION_KEY in meta;
  noteClient(state, message.method === "initialize" ? params?.clientInfo : meta?.[MODERN_CLIENT_INFO_KEY]);

  if (message.method === "tools/list" && state.answerToolsList) {
    actions.push({ type: "send", to: "client", message: wireResult(message.id, listOnlyInjected(state, modern)) });
    return "handled";
  }
  if (message.method === "tools/call" && params !== undefined) {
    const name = params.name;
    if (typeof name === "string" && isInjected(state, name)) {
      answerInjectedCall(state, message.id, name, params, modern, userIdFor(state, facts, actions), actions);
      return "handled";
    }
    return toolCall(
      state,
      message.id,
      typeof name === "string" ? name : String(name),
      params,
      now,
      lineBytes,
      facts,
      actions,
    );
  }
  if (isSubjectMethod(message.method)) {
    if (!captures(state, captureGroupOf(message.method))) return "forward";
    const name = subjectOf(message.method, params);
    const resumed = params === undefined ? undefined : resumeCall(state, message.method, name, params);
    if (resumed !== undefined) {
      track(state, message.id, resumed, now, actions); // one more round of the same read/get: no second start
      return "forward";
    }
    const subject: PendingSubject = {
      method: message.method,
      subject: name,
      callId: `c${state.nextCallId++}`,
      meta: clientMeta(meta),
      userId: userIdFor(state, facts, actions),
      rounds: 0,
    };
    track(
      state,
      message.id,
      { method: message.method, startedAt: now, firstPage: false, call: undefined, subject },
      now,
      actions,
    );
    actions.push(subjectStart(state, subject, params, lineBytes));
    return "forward";
  }
  const taskId = followedTask(state, message.method, params);
  const firstPage =
    message.method === "tools/list" && (params?.cursor === undefined || params.cursor === null || params.cursor === "");
  track(
    state,
    message.id,
    { method: message.method, startedAt: now, firstPage, call: undefined, taskId },
    now,
    actions,
  );
  return "forward";
}

/**
 * A call of a server tool: strip the intent params, then track it and emit its start (or continue a
 * held call). Its `_meta` is read from `params` here, which keeps the list of inputs short now that
 * the line's size (`lineBytes`) is one of them.
 */
function toolCall(
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
  const resumed = resumeCall(state, "tools/call", toolName, params);
  if (resumed !== undefined) {
    track(state, id, resumed, now, actions); // the same call, one more round: no second start
    return disposition;
  }
  if (!captures(state, "tools")) return disposition;
  const call: PendingCall = {
    toolName,
    callId: `c${state.nextCallId++}`,
    meta: clientMeta(meta),
    userId: userIdFor(state, facts, actions),
    rounds: 0,
  };
  track(state, id, { method: "tools/call", startedAt: now, firstPage: false, call }, now, actions);
  if (intent.intent !== undefined && !state.proactiveFiled) {
    state.proactiveFiled = true;
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

/**
 * Returns the message to send instead of the line's bytes when it was rewritten; undefined to
 * forward them. `lineBytes` is the whole line's size: the events it completes bound values by it.
 */
function serverMessage(
  state: ProxyState,
  message: Message,
  text: ReceivedText,
  now: number,
  lineBytes: number,
  actions: Action[],
): JsonObject | undefined {
  if (message.kind === "notification") {
    if (
      message.method === "notifications/tasks/status" &&
      isObject(message.value.params) &&
      typeof message.value.params.taskId === "string"
    ) {
      const action = taskStatus(state, message.value.params.taskId, message.value.params, now, lineBytes);
      if (action !== undefined) actions.push(action);
    }
    return undefined;
  }
  if (message.kind !== "response" || message.id === null) return undefined;
  const request = untrack(state, message.id);
  if (request === undefined) return undefined;
  const result = isObject(message.value.result) ? message.value.result : undefined;
  // Stateless-era results carry serverInfo in _meta; a session may never see server/discover
  // (SDK v2 probes on a separate process), so learn the server's name from any answer.
  if (state.serverLabel === null && result !== undefined && isObject(result._meta))
    noteServer(state, result._meta[MODERN_SERVER_INFO_KEY]);
  if (request.call) {
    if (result === undefined || !holdCall(state, request, result, now, actions))
      actions.push(callOutcome(state, request, message.value, result, now, lineBytes));
    return undefined;
  }
  if (request.subject) {
    if (result === undefined || !holdCall(state, request, result, now, actions))
      actions.push(subjectOutcome(state, request, message.value, result, now, lineBytes));
    return undefined;
  }
  if (request.taskId !== undefined) {
    const action = taskAnswer(state, request.method, request.taskId, message.value, now, lineBytes);
    if (action !== undefined) actions.push(action);
    return undefined;
  }
  if (request.method === "tools/list") snapshotSurface(state, request, result, text, actions);
  if (result === undefined) return undefined;
  if (request.method !== "initialize" && request.method !== "server/discover" && request.method !== "tools/list")
    return undefined;
  if (request.method !== "tools/list") noteHandshake(state.surface, text.surface());
  try {
    const tree = text.wire();
    const target = isPlainObject(tree) && isPlainObject(tree.result) ? tree : message.value;
    const rewritten =
      request.method === "tools/list"
        ? injectToolList(state, request, target.result as JsonObject, actions)
        : injectHandshake(state, target.result as JsonObject, actions);
    return rewritten ? target : undefined;
  } catch (error) {
    // Fail open: whatever odd shape made the rewrite throw, the client still gets the server's answer.
    actions.push({
      type: "log",
      level: "warn",
      text: `could not add the proxy's part to a ${request.method} answer (${String(error)}); forwarded it unchanged`,
    });
    return undefined;
  }
}

function snapshotSurface(
  state: ProxyState,
  request: PendingRequest,
  result: JsonObject | undefined,
  text: ReceivedText,
  actions: Action[],
): void {
  const firstPage = request.firstPage;
  if (result === undefined || !Array.isArray(result.tools)) {
    state.surface.pages = undefined;
    return;
  }
  if (!firstPage && state.surface.pages === undefined) return;
  const listed = new Set<unknown>(firstPage ? [] : state.listedNames);
  for (const tool of result.tools) if (isObject(tool)) listed.add(tool.name);
  const injectedTools = offeredToolNames(state).filter((name) => !listed.has(name));
  let payload: SurfaceSnapshotPayload | undefined;
  try {
    payload = notePage(state.surface, text.surface(), firstPage, { mode: intentMode(state), injectedTools });
  } catch {
    state.surface.pages = undefined; // the text already parsed once: cannot happen, but never break the pipe
  }
  if (payload !== undefined) {
    actions.push({
      type: "emit",
      draft: {
        event_type: "surface_snapshot",
        payload,
        runtime_meta: withServer(state, {}),
        agent_runtime: state.agentRuntime,
      },
    });
  }
}

function cancelled(state: ProxyState, params: unknown, now: number, actions: Action[]): void {
  if (!isObject(params)) return;
  const request = untrack(state, params.requestId as JsonRpcId);
  if (request === undefined) return;
  const reason =
    typeof params.reason === "string" ? `cancelled by the client: ${params.reason}` : "cancelled by the client";
  if (request.call) actions.push(callError(state, request, "cancelled", reason, now));
  else if (request.subject)
    actions.push(subjectError(state, request.subject, "cancelled", reason, elapsedMs(request.startedAt, now)));
}
