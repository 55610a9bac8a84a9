// Start/end/error events of resources/read, resources/list, prompts/get and prompts/list (names, counts, timings; never contents). Pure.

import type { CaptureGroup } from "../config-values.ts";
import type { EventType, PayloadByType } from "../telemetry/event-types.ts";
import { META_CALL_ID, META_ROUNDS, META_TRUNCATED } from "../telemetry/event-types.ts";
import { setOwn } from "../telemetry/scrub-walk.ts";
import type { JsonObject } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { bound, callError, errorFacts, withServer } from "./call-events.ts";
import type { Action, EventDraft, ProxyState } from "./proxy-state.ts";
import type { PendingRequest, PendingSubject } from "./pending-book.ts";
import { elapsedMs } from "./proxy-state.ts";

export type { CaptureGroup };

type SubjectMethod = PendingSubject["method"];

const EVENT_NAMES: Record<SubjectMethod, { start: EventType; end: EventType; error: EventType; group: CaptureGroup }> =
  {
    "resources/read": {
      start: "resource_read_start",
      end: "resource_read_end",
      error: "resource_read_error",
      group: "resources",
    },
    "resources/list": {
      start: "resource_list_start",
      end: "resource_list_end",
      error: "resource_list_error",
      group: "resources",
    },
    "prompts/get": { start: "prompt_get_start", end: "prompt_get_end", error: "prompt_get_error", group: "prompts" },
    "prompts/list": {
      start: "prompt_list_start",
      end: "prompt_list_end",
      error: "prompt_list_error",
      group: "prompts",
    },
  };

export function isSubjectMethod(method: string): method is SubjectMethod {
  return Object.hasOwn(EVENT_NAMES, method);
}

export function captureGroupOf(method: SubjectMethod): CaptureGroup {
  return EVENT_NAMES[method].group;
}

/**
 * The start event of a request; `subject` is the uri (read) or prompt name (get), "" for lists.
 * `lineBytes` is the size of the client's line (see `bound`).
 */
export function subjectStart(
  state: ProxyState,
  subject: PendingSubject,
  params: JsonObject | undefined,
  lineBytes: number,
): Action {
  switch (subject.method) {
    case "resources/read": {
      const rest = bound(state, withoutMeta(params), lineBytes);
      return emitSubject(
        state,
        subject,
        "resource_read_start",
        { uri: subject.subject, params: rest.value as Record<string, unknown> },
        rest.truncated,
      );
    }
    case "prompts/get": {
      const args = bound(state, isObject(params?.arguments) ? params.arguments : {}, lineBytes);
      return emitSubject(
        state,
        subject,
        "prompt_get_start",
        { name: subject.subject, params: args.value as Record<string, unknown> },
        args.truncated,
      );
    }
    case "resources/list":
      return emitSubject(state, subject, "resource_list_start", {});
    case "prompts/list":
      return emitSubject(state, subject, "prompt_list_start", {});
  }
}

/**
 * The end or error event for the server's answer (`request` has a subject; `lineBytes` is the size
 * of the answer's line, see `bound`). Same shape as `callOutcome`. Results are counted, never copied.
 */
export function subjectOutcome(
  state: ProxyState,
  request: PendingRequest,
  response: JsonObject,
  result: JsonObject | undefined,
  now: number,
  lineBytes: number,
): Action {
  const subject = request.subject as PendingSubject;
  const duration_ms = elapsedMs(request.startedAt, now);
  if (result === undefined) {
    const facts = errorFacts(state, response, lineBytes);
    return subjectError(state, subject, facts.errorType, facts.body, duration_ms, facts.truncated);
  }
  const names = EVENT_NAMES[subject.method];
  switch (subject.method) {
    case "resources/read":
      return emitSubject(state, subject, names.end, { uri: subject.subject, duration_ms });
    case "prompts/get":
      return emitSubject(state, subject, names.end, { name: subject.subject, duration_ms });
    case "resources/list":
      return emitSubject(state, subject, names.end, {
        count: Array.isArray(result.resources) ? result.resources.length : 0,
        duration_ms,
      });
    case "prompts/list":
      return emitSubject(state, subject, names.end, {
        count: Array.isArray(result.prompts) ? result.prompts.length : 0,
        duration_ms,
      });
  }
}

/** The end of a request whose answer was too long to inspect: timed, lists not counted (`count: null`). */
export function subjectUninspected(state: ProxyState, subject: PendingSubject, startedAt: number, now: number): Action {
  const duration_ms = elapsedMs(startedAt, now);
  const names = EVENT_NAMES[subject.method];
  if (subject.method === "resources/read")
    return emitSubject(state, subject, names.end, { uri: subject.subject, duration_ms });
  if (subject.method === "prompts/get")
    return emitSubject(state, subject, names.end, { name: subject.subject, duration_ms });
  return emitSubject(state, subject, names.end, { count: null, duration_ms });
}

/** An error event the proxy decides (cancelled, evicted, upstream_exit, proxy_shutdown). */
export function subjectError(
  state: ProxyState,
  subject: PendingSubject,
  errorType: string,
  body: string,
  duration_ms: number,
  truncated = 0,
): Action {
  const type = EVENT_NAMES[subject.method].error;
  const common = { error_type: errorType, error_body: body, duration_ms };
  if (subject.method === "resources/read")
    return emitSubject(state, subject, type, { uri: subject.subject, ...common }, truncated);
  if (subject.method === "prompts/get")
    return emitSubject(state, subject, type, { name: subject.subject, ...common }, truncated);
  return emitSubject(state, subject, type, common, truncated);
}

/** The uri or prompt name a request is about. */
export function subjectOf(method: SubjectMethod, params: JsonObject | undefined): string {
  const value = method === "resources/read" ? params?.uri : method === "prompts/get" ? params?.name : "";
  return typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
}

function withoutMeta(params: JsonObject | undefined): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  // setOwn: a plain assignment of a "__proto__" key would set the prototype and lose the parameter.
  if (params !== undefined) for (const key of Object.keys(params)) if (key !== "_meta") setOwn(rest, key, params[key]);
  return rest;
}

function emitSubject<T extends EventType>(
  state: ProxyState,
  subject: PendingSubject,
  type: T,
  payload: Partial<PayloadByType[T]> | Record<string, unknown>,
  truncated = 0,
): Action {
  const meta = withServer(state, { ...subject.meta, [META_CALL_ID]: subject.callId });
  if (truncated > 0) meta[META_TRUNCATED] = truncated;
  if (subject.rounds > 0 && !type.endsWith("_start")) meta[META_ROUNDS] = subject.rounds + 1;
  const draft = {
    event_type: type,
    payload,
    runtime_meta: meta,
    agent_runtime: state.agentRuntime,
    user_id: subject.userId,
  } as EventDraft;
  return { type: "emit", draft };
}

/** The error event of a tracked call or resource/prompt request the proxy gives up on (nothing for other requests). */
export function closeRequest(
  state: ProxyState,
  request: PendingRequest,
  errorType: string,
  reason: string,
  now: number,
  actions: Action[],
): void {
  if (request.call) actions.push(callError(state, request, errorType, reason, now));
  else if (request.subject)
    actions.push(subjectError(state, request.subject, errorType, reason, elapsedMs(request.startedAt, now)));
}
