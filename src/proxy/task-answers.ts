// Followed tasks: the client's requests about them, the server's answers and status notifications, and how each ends the call. Pure.

import type { JsonObject } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { callError, callOutcome } from "./call-events.ts";
import type { Action, ProxyState } from "./proxy-state.ts";

const TERMINAL_FAILURES = new Set(["failed", "cancelled"]);
/** The error body of a followed task the client cancelled (`tasks/cancel`). */
const CLIENT_CANCELLED_TASK = "cancelled by the client (tasks/cancel)";

/**
 * The task id a client request (`tasks/get`, `tasks/result`, `tasks/cancel`) is about, if we follow it.
 * A `tasks/cancel` is remembered: a task that then ends cancelled was cancelled by the client.
 */
export function followedTask(state: ProxyState, method: string, params: JsonObject | undefined): string | undefined {
  if (!method.startsWith("tasks/") || typeof params?.taskId !== "string") return undefined;
  const held = state.rounds.tasks.get(params.taskId);
  if (held === undefined) return undefined;
  if (method === "tasks/cancel") held.cancelAsked = true;
  return params.taskId;
}

/**
 * The server's answer to a request about a followed task. `tasks/result` (and a terminal
 * `tasks/get` carrying the result or error) finish the call; a failed or cancelled status too.
 * `lineBytes` is the size of the answer's line: the call's result is bounded as that line's.
 */
export function taskAnswer(
  state: ProxyState,
  method: string,
  taskId: string,
  response: JsonObject,
  now: number,
  lineBytes: number,
): Action | undefined {
  const held = state.rounds.tasks.get(taskId);
  if (held === undefined) return undefined;
  const result = isObject(response.result) ? response.result : undefined;
  if (method === "tasks/result") {
    state.rounds.tasks.delete(taskId);
    return callOutcome(state, held.request, response, result, now, lineBytes);
  }
  if (result === undefined) return undefined; // e.g. a failed poll: the task itself may still finish
  // The tasks extension (2026-07-28) answers a cancel with an empty complete result, no status: the task is cancelled.
  if (method === "tasks/cancel" && result.status === undefined && !isObject(result.task)) {
    state.rounds.tasks.delete(taskId);
    return callError(state, held.request, "cancelled", CLIENT_CANCELLED_TASK, now);
  }
  return taskStatus(state, taskId, isObject(result.task) ? { ...result, ...result.task } : result, now, lineBytes);
}

/**
 * A task status (from a `tasks/get` answer, `notifications/tasks/status` or `notifications/tasks`); closes the call when
 * terminal. `lineBytes` is the size of the server line that carried the status.
 */
export function taskStatus(
  state: ProxyState,
  taskId: string,
  status: JsonObject,
  now: number,
  lineBytes: number,
): Action | undefined {
  const held = state.rounds.tasks.get(taskId);
  if (held === undefined) return undefined;
  if (status.status === "completed" && (isObject(status.result) || isObject(status.error))) {
    state.rounds.tasks.delete(taskId);
    const response = isObject(status.error) ? { error: status.error } : { result: status.result };
    return callOutcome(
      state,
      held.request,
      response,
      isObject(status.result) ? status.result : undefined,
      now,
      lineBytes,
    );
  }
  if (typeof status.status !== "string" || !TERMINAL_FAILURES.has(status.status)) {
    // Not final: the server still reports on it, so its clock restarts (within its own ttl and a day).
    const { heldAt = held.since, maxAgeMs = held.ttlMs } = held;
    if (now - heldAt + held.ttlMs <= maxAgeMs) held.since = now;
    return undefined;
  }
  state.rounds.tasks.delete(taskId);
  // A failed task of the tasks extension carries its JSON-RPC-style error: its message says most.
  const message =
    isObject(status.error) && typeof status.error.message === "string"
      ? status.error.message
      : typeof status.statusMessage === "string"
        ? status.statusMessage
        : `the task ended ${status.status}`;
  if (status.status !== "cancelled") return callError(state, held.request, "task_failed", message, now);
  // `cancelled` is the client's giving up (its tasks/cancel); a task the server cancelled on its own failed.
  if (held.cancelAsked === true) return callError(state, held.request, "cancelled", CLIENT_CANCELLED_TASK, now);
  const why =
    typeof status.statusMessage === "string" && status.statusMessage !== "" ? `: ${status.statusMessage}` : "";
  return callError(state, held.request, "task_failed", `the server cancelled the task${why}`, now);
}
