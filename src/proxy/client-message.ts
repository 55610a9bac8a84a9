// One client message decided: tool calls stripped, tracked and started, injected tools answered, reads tracked, cancellations closed. Pure.

import type { IdKey, JsonObject, Message } from "../wire/jsonrpc.ts";
import { cancelledKey, exactId, isObject, keyOf, WIRE_ERROR, wireError, wireResult } from "../wire/jsonrpc.ts";
import { callError, clientMeta, userIdFor } from "./call-events.ts";
import { answerInjectedCall, isInjected, listOnlyInjected } from "./injection.ts";
import { startWalk, takeWalk } from "./listing-walks.ts";
import { resumeCall, takeCancelledRound } from "./multi-round.ts";
import { followedTask } from "./task-answers.ts";
import { track, trackUnobserved, untrack } from "./pending.ts";
import {
  elapsedMs,
  captures,
  type Disposition,
  MODERN_CLIENT_INFO_KEY,
  MODERN_VERSION_KEY,
  noteClient,
  type Action,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";
import type { PendingSubject } from "./pending-book.ts";
import { captureGroupOf, isSubjectMethod, subjectError, subjectOf, subjectStart } from "./resource-prompt-events.ts";
import { isPlainObject } from "./canonical-json.ts";
import type { ReceivedText } from "./server-message.ts";
import { toolCall, withWrittenContainers } from "./server-tool-call.ts";

/**
 * One message of a client line. `lineBytes` is the whole line's size (a batch's members share it):
 * it decides whether the values the message's events hold need the hot-path bound (see `bound`).
 * `text` is the message's text, read again only when its numbers must be recorded as written.
 */
export function clientMessage(
  state: ProxyState,
  message: Message,
  text: ReceivedText,
  now: number,
  lineBytes: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): Disposition {
  if (message.kind === "notification") {
    if (message.method === "notifications/cancelled") return cancelled(state, message.value.params, text, now, actions);
    return "forward";
  }
  if (message.kind === "response") return "forward"; // answers a server→client request: not ours to look at
  const disposition = clientRequest(state, message, text, now, lineBytes, facts, actions);
  noteAnsweredHere(state, keyOf(message), disposition === "handled");
  return disposition;
}

function clientRequest(
  state: ProxyState,
  message: Extract<Message, { kind: "request" }>,
  text: ReceivedText,
  now: number,
  lineBytes: number,
  facts: RequestFacts | undefined,
  actions: Action[],
): Disposition {
  const params = isObject(message.value.params) ? message.value.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const modern = meta !== undefined && MODERN_VERSION_KEY in meta;
  // Its key in the book of requests awaiting an answer: the id as written (see IdKey).
  const key = keyOf(message);
  noteClient(state, message.method === "initialize" ? params?.clientInfo : meta?.[MODERN_CLIENT_INFO_KEY]);

  // Our list is one page and hands out no cursor: a request with one is no listing's start, and gets the server's answer.
  if (message.method === "tools/list" && state.answerToolsList && isFirstPage(params)) {
    actions.push({
      type: "send",
      to: "client",
      message: wireResult(exactId(message.id, message.idText), listOnlyInjected(state, modern)),
    });
    return "handled";
  }
  if (message.method === "tools/call" && params !== undefined) {
    const name = params.name;
    if (typeof name === "string" && isInjected(state, name)) {
      const id = exactId(message.id, message.idText);
      // 2025-11-25 tasks: with the server taking task-augmented calls, a tool without taskSupport (ours) SHOULD get -32601;
      // a server that does not take them has receivers ignore `task` (MUST), so the call is answered as any other.
      if (params.task !== undefined && state.serverTaskCalls) {
        const text = `${name} cannot be called as a task (it declares no execution.taskSupport); call it without "task"`;
        actions.push({ type: "send", to: "client", message: wireError(id, WIRE_ERROR.METHOD_NOT_FOUND, text) });
        return "handled";
      }
      const written = withWrittenContainers(params, text);
      answerInjectedCall(state, id, name, written, modern, userIdFor(state, facts, actions), actions, facts);
      return "handled";
    }
    return toolCall(
      state,
      key,
      typeof name === "string" ? name : String(name),
      params,
      text,
      now,
      lineBytes,
      facts,
      actions,
    );
  }
  if (isSubjectMethod(message.method)) {
    if (!captures(state, captureGroupOf(message.method))) {
      trackUnobserved(state, key, message.method, now, actions);
      return "forward";
    }
    const name = subjectOf(message.method, params);
    const resumed = params === undefined ? undefined : resumeCall(state, message.method, name, params, now);
    if (resumed !== undefined) {
      track(state, key, resumed, now, actions); // one more round of the same read/get: no second start
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
      key,
      { method: message.method, startedAt: now, firstPage: false, call: undefined, subject },
      now,
      actions,
    );
    // Its params as the client wrote them, numbers included (the start records them).
    const written = text.asWritten()?.params;
    actions.push(subjectStart(state, subject, isPlainObject(written) ? written : params, lineBytes));
    return "forward";
  }
  const taskId = followedTask(state, message.method, params);
  const firstPage = message.method === "tools/list" && isFirstPage(params);
  const walk =
    message.method !== "tools/list" ? undefined : firstPage ? startWalk() : takeWalk(state.walks, params?.cursor);
  track(
    state,
    key,
    {
      method: message.method,
      startedAt: now,
      firstPage,
      walk,
      call: undefined,
      taskId,
      modern,
      unrecorded: facts?.unrecorded !== undefined,
      recordedFor: facts?.recordedFor,
    },
    now,
    actions,
  );
  return "forward";
}

/** A listing's first page is asked for without a cursor (null or empty counts as none). */
function isFirstPage(params: JsonObject | undefined): boolean {
  return params?.cursor === undefined || params.cursor === null || params.cursor === "";
}

/** Requests answered here whose ids are remembered (a cancellation races its answer: only the latest matter). */
const MAX_ANSWERED_HERE = 256;

/** Remembers a request the proxy answered itself (`here`), or forgets its id once a request of that id went on to the server. */
function noteAnsweredHere(state: ProxyState, id: IdKey, here: boolean): void {
  if (!here) {
    if (state.answeredHere.size > 0) state.answeredHere.delete(id);
    return;
  }
  state.answeredHere.delete(id); // re-added as the latest
  state.answeredHere.add(id);
  if (state.answeredHere.size > MAX_ANSWERED_HERE)
    state.answeredHere.delete(state.answeredHere.values().next().value as IdKey);
}

/**
 * The client cancels a request: its call or read ends as cancelled, and the notification goes on
 * to the server, but for a request the proxy answered itself (the server never saw its id).
 */
function cancelled(
  state: ProxyState,
  params: unknown,
  text: ReceivedText,
  now: number,
  actions: Action[],
): Disposition {
  if (!isObject(params)) return "forward";
  const id = cancelledKey(params.requestId, () => {
    const written = text.asWritten()?.params;
    return isPlainObject(written) ? written.requestId : undefined;
  });
  if (id === undefined) return "forward";
  const request = untrack(state, id) ?? (state.rounds.waiting.size > 0 ? takeCancelledRound(state, id) : undefined);
  if (request === undefined) return state.answeredHere.has(id) ? "handled" : "forward";
  const reason =
    typeof params.reason === "string" ? `cancelled by the client: ${params.reason}` : "cancelled by the client";
  if (request.call) actions.push(callError(state, request, "cancelled", reason, now));
  else if (request.subject)
    actions.push(subjectError(state, request.subject, "cancelled", reason, elapsedMs(request.startedAt, now)));
  return "forward";
}
