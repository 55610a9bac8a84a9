// One server message observed: answers close their tracked requests (events out), handshakes and tool lists get the proxy's part. Pure.

import type { SurfaceSnapshotPayload } from "../telemetry/event-types.ts";
import type { JsonObject, Message, WireId } from "../wire/jsonrpc.ts";
import { decodeUtf8, exactId, isObject, keyOf, wireResult } from "../wire/jsonrpc.ts";
import { callOutcome, withServer } from "./call-events.ts";
import {
  holdsChangedNumbers,
  isPlainObject,
  MAX_REWRITE_DEPTH,
  nestsDeeperThan,
  parseKeepingNumbers,
} from "./canonical-json.ts";
import { injectHandshake, injectToolList, listOnlyInjected, offeredToolNames } from "./injection.ts";
import { holdCall } from "./multi-round.ts";
import { taskAnswer, taskStatus } from "./task-answers.ts";
import { keepAlive, tracksProgress, untrackAnswered } from "./pending.ts";
import {
  intentMode,
  MODERN_SERVER_INFO_KEY,
  noteServer,
  REWRITTEN_METHODS,
  type Action,
  type ProxyState,
} from "./proxy-state.ts";
import type { PendingRequest } from "./pending-book.ts";
import { subjectOutcome } from "./resource-prompt-events.ts";
import { notePageNames } from "./listing-walks.ts";
import { notePage, noteHandshake } from "./surface-snapshot.ts";
import { skipSpace } from "../wire/json-bytes.ts";
import { elementsOf, isObjectAt, membersOf } from "../wire/json-cuts.ts";

/**
 * The line's text parsed with numbers as written, on demand: once for the surface (kept as
 * received) and once more for a rewrite (so the client gets the server's numbers back, `1.0`
 * and big integers included, and the surface is never touched by our additions).
 */
export interface ReceivedText {
  surface(): unknown;
  wire(): unknown;
  /**
   * The message for an event's values: the surface's tree when the line holds numbers JSON.parse
   * would change (`1.0`, big integers), so events record them as sent; undefined otherwise (the
   * parsed message says the same, and the line is not parsed again). Never changed by a caller.
   */
  asWritten(): JsonObject | undefined;
  /** The line nests past {@link MAX_REWRITE_DEPTH}: too deep to parse keeping numbers, or to hash. */
  tooDeep(): boolean;
  /** SHA-256 (hex) of the message's `result` value as its bytes came; undefined when it has none. */
  resultDigest(): string | undefined;
}

export function receivedText(raw: Uint8Array, index: number | undefined): ReceivedText {
  const parse = (): unknown => {
    const value = parseKeepingNumbers(decodeUtf8(raw));
    return index === undefined ? value : Array.isArray(value) ? value[index] : undefined;
  };
  let surface: unknown;
  let deep: boolean | undefined;
  const text: ReceivedText = {
    tooDeep: () => (deep ??= nestsDeeperThan(raw, MAX_REWRITE_DEPTH)),
    resultDigest: () => {
      const at = skipSpace(raw, 0);
      const object = index === undefined ? at : elementsOf(raw, at)[index]?.valueAt;
      if (object === undefined || !isObjectAt(raw, object)) return undefined;
      // The last `result` is the one JSON.parse keeps.
      const member = membersOf(raw, object).findLast((m) => m.key === "result");
      if (member === undefined) return undefined;
      return new Bun.CryptoHasher("sha256").update(raw.subarray(member.valueAt, member.valueEnd)).digest("hex");
    },
    surface: () => (surface ??= parse()),
    wire: parse,
    asWritten: () => {
      if (!holdsChangedNumbers(raw)) return undefined;
      const value = text.surface();
      return isPlainObject(value) ? value : undefined;
    },
  };
  return text;
}

/** JSON-RPC "Method not found". */
const METHOD_NOT_FOUND = -32601;

/**
 * The server notifications the proxy reads (a task's status: 2025-11-25's name, and the 2026-07-28
 * tasks extension's, which carries the detailed task); every other one passes unread.
 */
const TASK_STATUS = new Set(["notifications/tasks/status", "notifications/tasks"]);

/** Progress for a request in flight: it keeps that request tracked (see pending.ts keepAlive). */
const PROGRESS = "notifications/progress";

/**
 * True for a message {@link serverMessage} may act on: an answer, or a notification it reads. The
 * rest (log notifications, the server's own requests) pass unread, whatever they hold; progress is
 * read only while some request in flight has a progress token.
 */
export function observesServerMessage(message: Message): boolean {
  return message.kind === "response" || observesServerMethod(message.method);
}

/** A server request or notification with this method may matter to {@link serverMessage}. */
export function observesServerMethod(method: string): boolean {
  return TASK_STATUS.has(method) || method === PROGRESS;
}

/**
 * Returns the message to send instead of the line's bytes when it was rewritten; undefined to
 * forward them. `lineBytes` is the whole line's size: the events it completes bound values by it.
 */
export function serverMessage(
  state: ProxyState,
  message: Message,
  text: ReceivedText,
  now: number,
  lineBytes: number,
  actions: Action[],
): JsonObject | undefined {
  if (message.kind === "notification") {
    if (message.method === PROGRESS) {
      // Its params are parsed only when a request could match (a long stream is mostly progress).
      if (tracksProgress(state) && isObject(message.value.params))
        keepAlive(state, message.value.params.progressToken, now);
      return undefined;
    }
    if (
      TASK_STATUS.has(message.method) &&
      isObject(message.value.params) &&
      typeof message.value.params.taskId === "string"
    ) {
      // Its result goes into the call's end event: read with its numbers as written when they would change
      // (the line is parsed again only for a task this session follows).
      const written = state.rounds.tasks.has(message.value.params.taskId) ? text.asWritten()?.params : undefined;
      const params = isPlainObject(written) ? written : message.value.params;
      const action = taskStatus(state, message.value.params.taskId, params, now, lineBytes);
      if (action !== undefined) actions.push(action);
    }
    return undefined;
  }
  if (message.kind !== "response" || message.id === null) return undefined;
  const key = keyOf({ id: message.id, idText: message.idText });
  const request = untrackAnswered(state, key);
  if (request === undefined) return undefined;
  const result = isObject(message.value.result) ? message.value.result : undefined;
  // Stateless-era results carry serverInfo in _meta; a session may never see server/discover
  // (SDK v2 probes on a separate process), so learn the server's name from any answer.
  if (state.serverLabel === null && result !== undefined && isObject(result._meta))
    noteServer(state, result._meta[MODERN_SERVER_INFO_KEY]);
  if (request.call) {
    if (result === undefined || !holdCall(state, request, key, result, now, actions)) {
      const response = text.asWritten() ?? message.value;
      const written = isPlainObject(response.result) ? response.result : undefined;
      actions.push(callOutcome(state, request, response, written, now, lineBytes));
    }
    return undefined;
  }
  if (request.subject) {
    if (result === undefined || !holdCall(state, request, key, result, now, actions))
      actions.push(subjectOutcome(state, request, text.asWritten() ?? message.value, result, now, lineBytes));
    return undefined;
  }
  if (request.taskId !== undefined) {
    const action = taskAnswer(state, request.method, request.taskId, text.asWritten() ?? message.value, now, lineBytes);
    if (action !== undefined) actions.push(action);
    return undefined;
  }
  if (REWRITTEN_METHODS.has(request.method) && result !== undefined && text.tooDeep()) {
    leaveTooDeep(state, request, result, actions);
    return undefined;
  }
  if (request.method === "tools/list") snapshotSurface(state, request, result, text, actions);
  if (result === undefined)
    return toolsListFallback(state, request, exactId(message.id, message.idText), message.value.error);
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

/**
 * A handshake or listing answer nested past {@link MAX_REWRITE_DEPTH} (a bug or a hostile server):
 * it goes to the client as it came, without the proxy's tools or paragraph, and no surface is
 * hashed from it (a listing's names still count, so ours never shadow the server's). Its parse and
 * canonical walk would overflow the stack, which fail-open caught as an internal error of ours.
 */
function leaveTooDeep(state: ProxyState, request: PendingRequest, result: JsonObject, actions: Action[]): void {
  if (request.method !== "tools/list") state.surface.handshake = null;
  else if (request.walk !== undefined) {
    if (Array.isArray(result.tools)) notePageNames(state.walks, request.walk, result.tools, result.nextCursor);
    request.walk.pages = undefined;
  }
  if (state.warnedTooDeep) return;
  state.warnedTooDeep = true;
  actions.push({
    type: "log",
    level: "warn",
    text: `the server's ${request.method} answer nests deeper than ${MAX_REWRITE_DEPTH} levels: passed on as it came, without the proxy's additions, and no surface snapshot taken from it (further ones are not logged)`,
  });
}

/**
 * A listing's start answered "method not found": a server without tools. The proxy's handshake
 * answer promised tools, but a stateless-era session may never show it the handshake (the SDK v2
 * client probes server/discover on a sibling process, then starts with tools/list): answer with
 * the proxy's own tools, as when it knows from the handshake. Other errors pass as they are.
 */
function toolsListFallback(
  state: ProxyState,
  request: PendingRequest,
  id: WireId,
  error: unknown,
): JsonObject | undefined {
  if (request.method !== "tools/list" || !request.firstPage || !isObject(error)) return undefined;
  return error.code === METHOD_NOT_FOUND ? wireResult(id, listOnlyInjected(state, request.modern === true)) : undefined;
}

function snapshotSurface(
  state: ProxyState,
  request: PendingRequest,
  result: JsonObject | undefined,
  text: ReceivedText,
  actions: Action[],
): void {
  const walk = request.walk;
  if (walk === undefined) return; // a page of a listing this session did not see start
  if (result === undefined || !Array.isArray(result.tools)) {
    walk.pages = undefined;
    return;
  }
  notePageNames(state.walks, walk, result.tools, result.nextCursor);
  if (walk.pages === undefined) return;
  const injects = state.options.injects !== false;
  const injectedTools = injects ? offeredToolNames(state).filter((name) => !walk.names.has(name)) : [];
  let payload: SurfaceSnapshotPayload | undefined;
  try {
    const page = {
      digest: text.resultDigest(),
      tools: (): unknown[] => {
        const received = text.surface();
        return isPlainObject(received) && isPlainObject(received.result) && Array.isArray(received.result.tools)
          ? received.result.tools
          : [];
      },
    };
    payload = notePage(state.surface, walk, result, page, {
      mode: intentMode(state),
      injectedTools,
      instructionsSuffix: injects,
      unrecorded: request.unrecorded,
      recordedFor: request.recordedFor,
    });
  } catch {
    walk.pages = undefined; // the text already parsed once: cannot happen, but never break the pipe
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
