// Requests that outlive their first answer: multi-round (`input_required`) tool calls, reads and gets, and task handles; bounded in count and time. Pure.

import type { IdKey, JsonObject } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { closeRequest } from "./resource-prompt-events.ts";
import { PENDING_MAX_AGE_MS, type Action, type ProxyState } from "./proxy-state.ts";
import type { PendingRequest } from "./pending-book.ts";
import { roundKey } from "./round-key.ts";

/** Calls waiting for the client's next round; beyond this the oldest is closed as `evicted`. */
export const MAX_WAITING_ROUNDS = 1_000;
/** A call whose client never sends the next round is closed after this long. */
export const ROUND_TTL_MS = 15 * 60_000;
/** Tasks followed at once; beyond this the oldest is closed as `evicted`. */
export const MAX_OPEN_TASKS = 1_000;
/**
 * A task not seen to finish, nor reported on, within this long is closed as `evicted` (a server's
 * own ttl is capped by it). A status that is not final (a `tasks/get` answer, a status
 * notification) restarts it, never past the task's own ttl nor PENDING_MAX_AGE_MS from its start.
 */
export const TASK_TTL_MS = 60 * 60_000;

interface Held {
  readonly request: PendingRequest;
  /** When it was held, or (a task) last reported on: its `ttlMs` runs from then. */
  since: number;
  readonly ttlMs: number;
  /** A task: how long after it was held signs of life may keep it followed (see TASK_TTL_MS). */
  readonly maxAgeMs?: number;
  readonly heldAt?: number;
  /** The id of the round the server answered `input_required`: a client that gives up cancels that id. */
  readonly roundId?: IdKey;
  /** The client sent `tasks/cancel` for this task: a cancelled status is then its doing, not the server's. */
  cancelAsked?: boolean;
}

export interface OpenRounds {
  /** Calls answered `input_required`, keyed by tool name + the `requestState` the retry echoes. */
  readonly waiting: Map<string, Held>;
  /** Calls answered with a task handle, keyed by task id. */
  readonly tasks: Map<string, Held>;
}

/**
 * Called with a tool call's successful answer. An `input_required` answer or a task handle does
 * not finish the call: it is held (true returned, no event) until the round or task that does.
 */
export function holdCall(
  state: ProxyState,
  request: PendingRequest,
  roundId: IdKey,
  result: JsonObject,
  now: number,
  actions: Action[],
): boolean {
  const held = request.call ?? request.subject;
  if (held === undefined) return false;
  if (result.resultType === "input_required") {
    held.rounds++;
    const subject = request.call?.toolName ?? request.subject?.subject ?? "";
    hold(
      state,
      state.rounds.waiting,
      roundKey(request.method, subject, result.requestState),
      { request, since: now, ttlMs: ROUND_TTL_MS, roundId },
      MAX_WAITING_ROUNDS,
      now,
      actions,
    );
    return true;
  }
  const call = request.call;
  if (call === undefined) return false; // only tool calls become tasks
  const task = taskOf(result);
  if (task === undefined) return false;
  const own = typeof task.ttl === "number" && task.ttl > 0 ? task.ttl : undefined;
  const ttlMs = Math.min(own ?? TASK_TTL_MS, TASK_TTL_MS);
  const maxAgeMs = Math.min(own ?? PENDING_MAX_AGE_MS, PENDING_MAX_AGE_MS);
  const followed = { request, since: now, ttlMs, maxAgeMs, heldAt: now };
  hold(state, state.rounds.tasks, task.taskId, followed, MAX_OPEN_TASKS, now, actions);
  return true;
}

/**
 * A request that carries `requestState` or `inputResponses` continues a held call or read/get (same
 * call id), as the request to track now: sent at `now` (the server gets its full time to answer this
 * round, however long the client took over the last), its duration still counted from the first.
 */
export function resumeCall(
  state: ProxyState,
  method: string,
  subject: string,
  params: JsonObject,
  now: number,
): PendingRequest | undefined {
  if (params.requestState === undefined && params.inputResponses === undefined) return undefined;
  const key = roundKey(method, subject, params.requestState);
  const held = state.rounds.waiting.get(key);
  if (held === undefined) return undefined;
  state.rounds.waiting.delete(key);
  const { aliveAt: _progressOfEarlierRound, ...request } = held.request;
  return { ...request, sentAt: now };
}

/**
 * The call waiting for its next round after the server answered `requestId` with `input_required`,
 * taken out of the waiting rounds: the client's `notifications/cancelled` for that round (an SDK
 * timeout or abort while it gathers the input) ends the call, which no round will continue.
 */
export function takeCancelledRound(state: ProxyState, requestId: IdKey): PendingRequest | undefined {
  for (const [key, held] of state.rounds.waiting) {
    if (held.roundId !== requestId) continue;
    state.rounds.waiting.delete(key);
    return held.request;
  }
  return undefined;
}

/** Closes held calls older than their limit (called by the pending sweep). */
export function sweepRounds(state: ProxyState, now: number, actions: Action[]): void {
  for (const [what, map] of [
    ["round", state.rounds.waiting],
    ["task", state.rounds.tasks],
  ] as const) {
    for (const [key, held] of map) {
      if (now - held.since < held.ttlMs) continue;
      map.delete(key);
      const why = what === "round" ? "the client did not send the next round" : "the task was not seen to finish";
      closeRequest(state, held.request, "evicted", `${why} within ${Math.round(held.ttlMs / 1000)} s`, now, actions);
    }
  }
}

/** Ends every held call (the server exited or the proxy is stopping). */
export function failRounds(state: ProxyState, errorType: string, reason: string, now: number, actions: Action[]): void {
  for (const map of [state.rounds.waiting, state.rounds.tasks]) {
    for (const held of map.values()) closeRequest(state, held.request, errorType, reason, now, actions);
    map.clear();
  }
}

function hold(
  state: ProxyState,
  map: Map<string, Held>,
  key: string,
  held: Held,
  max: number,
  now: number,
  actions: Action[],
): void {
  const previous = map.get(key);
  if (previous !== undefined) {
    map.delete(key);
    closeRequest(
      state,
      previous.request,
      "evicted",
      "another call took its place before the client continued it",
      now,
      actions,
    );
  }
  map.set(key, held);
  if (map.size > max) {
    const [oldKey, oldest] = map.entries().next().value as [string, Held];
    map.delete(oldKey);
    closeRequest(state, oldest.request, "evicted", `more than ${max} calls waiting to continue`, now, actions);
  }
}

/** A task handle: `{task: {taskId, ttl?}}` (2025-11-25 CreateTaskResult), or `{resultType: "task", taskId, ttlMs}` (the tasks extension). */
function taskOf(result: JsonObject): { taskId: string; ttl?: unknown } | undefined {
  if (isObject(result.task) && typeof result.task.taskId === "string")
    return { taskId: result.task.taskId, ttl: result.task.ttl };
  // The tasks extension names its lifetime `ttlMs` (null: none).
  if (result.resultType === "task" && typeof result.taskId === "string")
    return { taskId: result.taskId, ttl: result.ttl ?? result.ttlMs };
  return undefined;
}
