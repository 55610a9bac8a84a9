// The proxy's brain: pure message transforms `(state, message, now) -> actions`. No I/O, no clock, no randomness.
// State is updated in place (O(1) per message even with 100k calls in flight); everything else is returned as actions.

import type { Classified, JsonRpcId, Message } from "../wire/jsonrpc.ts";
import { isObject, wireResult } from "../wire/jsonrpc.ts";
import { bound, callError, callOutcome, clientMeta, emit } from "./call-events.ts";
import { answerInjectedCall, injectHandshake, injectToolList, isInjected, listOnlyInjected } from "./injection.ts";
import { track, untrack } from "./pending.ts";
import { MODERN_CLIENT_INFO_KEY, MODERN_SERVER_INFO_KEY, MODERN_VERSION_KEY, noteClient, noteServer, type Action, type PendingCall, type ProxyState } from "./proxy-state.ts";

export { createProxyState, serverLinesPassUnchanged, MAX_PENDING_REQUESTS, PENDING_TTL_MS } from "./proxy-state.ts";
export type { Action, EventDraft, ProxyState, Side, TransformOptions } from "./proxy-state.ts";
export { failPending, failRequests, sweepPending } from "./pending.ts";
export { injectedResult } from "./injection.ts";
export { fromServerLongLine } from "./long-lines.ts";

/** A line from the client. `raw` is the line with its newline, forwarded when nothing changes. */
export function fromClient(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  state.lineBytes = raw.length;
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "server", bytes: raw });
  } else if (line.kind === "message") {
    if (!clientMessage(state, line.message, now, actions)) actions.push({ type: "forward", to: "server", bytes: raw });
  } else {
    const kept = line.values.filter((_value, i) => {
      const member = line.members[i];
      return member === undefined || !clientMessage(state, member, now, actions);
    });
    if (kept.length === line.values.length) actions.push({ type: "forward", to: "server", bytes: raw });
    else if (kept.length > 0) actions.push({ type: "send", to: "server", message: kept });
  }
  return actions;
}

/** A line from the server. Responses to tracked requests are observed; a few are rewritten. */
export function fromServer(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  state.lineBytes = raw.length;
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "client", bytes: raw });
  } else if (line.kind === "message") {
    if (serverMessage(state, line.message, now, actions)) actions.push({ type: "send", to: "client", message: line.message.value });
    else actions.push({ type: "forward", to: "client", bytes: raw });
  } else {
    let changed = false;
    for (const member of line.members) if (member !== undefined && serverMessage(state, member, now, actions)) changed = true;
    actions.push(changed ? { type: "send", to: "client", message: [...line.values] } : { type: "forward", to: "client", bytes: raw });
  }
  return actions;
}

function clientMessage(state: ProxyState, message: Message, now: number, actions: Action[]): boolean {
  if (message.kind === "notification") {
    if (message.method === "notifications/cancelled") cancelled(state, message.value.params, now, actions);
    return false;
  }
  if (message.kind === "response") return false; // answers a server→client request: not ours to look at
  const params = isObject(message.value.params) ? message.value.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const modern = meta !== undefined && MODERN_VERSION_KEY in meta;
  noteClient(state, message.method === "initialize" ? params?.clientInfo : meta?.[MODERN_CLIENT_INFO_KEY]);

  if (message.method === "tools/list" && state.answerToolsList) {
    actions.push({ type: "send", to: "client", message: wireResult(message.id, listOnlyInjected(state, modern)) });
    return true;
  }
  if (message.method === "tools/call" && params !== undefined) {
    const name = params.name;
    if (typeof name === "string" && isInjected(state, name)) {
      answerInjectedCall(state, message.id, name, params, modern, actions);
      return true;
    }
    const call: PendingCall = {
      toolName: typeof name === "string" ? name : String(name),
      callId: `c${state.nextCallId++}`,
      meta: clientMeta(meta),
    };
    track(state, message.id, { method: message.method, startedAt: now, firstPage: false, call }, now, actions);
    const args = bound(state, isObject(params.arguments) ? params.arguments : {});
    actions.push(emit(state, "tool_call_start", call, {
      tool_name: call.toolName,
      params: args.value as Record<string, unknown>,
      call_intent: null,
      call_expected: null,
      call_workflow: null,
      intent_source: null,
    }, args.truncated));
    return false;
  }
  const firstPage = message.method === "tools/list" && params?.cursor === undefined;
  track(state, message.id, { method: message.method, startedAt: now, firstPage, call: undefined }, now, actions);
  return false;
}

/** Returns true when the message object was changed and must be re-serialised. */
function serverMessage(state: ProxyState, message: Message, now: number, actions: Action[]): boolean {
  if (message.kind !== "response" || message.id === null) return false;
  const request = untrack(state, message.id);
  if (request === undefined) return false;
  const result = isObject(message.value.result) ? message.value.result : undefined;
  // Stateless-era results carry serverInfo in _meta; a session may never see server/discover
  // (SDK v2 probes on a separate process), so learn the server's name from any answer.
  if (state.serverLabel === null && result !== undefined && isObject(result._meta)) noteServer(state, result._meta[MODERN_SERVER_INFO_KEY]);
  if (request.call) {
    actions.push(callOutcome(state, request, message.value, result, now));
    return false;
  }
  if (result === undefined) return false;
  switch (request.method) {
    case "initialize":
    case "server/discover":
      return injectHandshake(state, result, actions);
    case "tools/list":
      return injectToolList(state, request, result, actions);
    default:
      return false;
  }
}

function cancelled(state: ProxyState, params: unknown, now: number, actions: Action[]): void {
  if (!isObject(params)) return;
  const request = untrack(state, params.requestId as JsonRpcId);
  if (request === undefined) return;
  if (request.call) {
    const reason = typeof params.reason === "string" ? `cancelled by the client: ${params.reason}` : "cancelled by the client";
    actions.push(callError(state, request, "cancelled", reason, now));
  }
}
