// The resources/prompts half of the report fold: counts per kind, the latest failing reads and gets, the slowest requests, those without an outcome. Pure; mutates the state it is given.

import { MAX_PENDING_CALLS } from "./fold-calls.ts";
import { clipText, readText } from "./fold-values.ts";
import type { PendingSubjectRecord, SubjectKind, SubjectRecord, SubjectState } from "./report-types.ts";

/** Failing reads/gets kept (the most recent); the total is always counted. */
export const MAX_SUBJECT_FAILURES = 20;
/** Slowest resources/prompts requests kept (any outcome). */
export const MAX_SLOW_SUBJECTS = 10;
/** Characters kept of a uri, prompt name or error body. */
const MAX_SUBJECT_CHARS = 500;

const OUTCOME_TYPES: Record<string, { kind: SubjectKind; error: boolean }> = {
  resource_read_end: { kind: "resource_read", error: false },
  resource_read_error: { kind: "resource_read", error: true },
  resource_list_end: { kind: "resource_list", error: false },
  resource_list_error: { kind: "resource_list", error: true },
  prompt_get_end: { kind: "prompt_get", error: false },
  prompt_get_error: { kind: "prompt_get", error: true },
  prompt_list_end: { kind: "prompt_list", error: false },
  prompt_list_error: { kind: "prompt_list", error: true },
};

const START_TYPES: Record<string, SubjectKind> = {
  resource_read_start: "resource_read",
  resource_list_start: "resource_list",
  prompt_get_start: "prompt_get",
  prompt_list_start: "prompt_list",
};
/** Prefix of the private pending keys of starts without a call id (a NUL never starts a real call id). */
const ANONYMOUS_KEY_PREFIX = "\u0000anonymous:";

export function createSubjectState(): SubjectState {
  return {
    counts: new Map(),
    failures: [],
    failuresTotal: 0,
    slowest: [],
    pending: new Map(),
    pendingForgotten: 0,
    anonymousByKind: new Map(),
    anonymousSeq: 0,
    earlyEnds: new Set(),
  };
}

/** True for the start, end and error events of resources and prompts. */
export function isSubjectEvent(type: string): boolean {
  return Object.hasOwn(OUTCOME_TYPES, type) || Object.hasOwn(START_TYPES, type);
}

/** The uri (read) or prompt name (get) an event names, clipped; null for lists. */
function subjectOf(kind: SubjectKind, payload: Record<string, unknown>): string | null {
  const subject = readText(kind === "resource_read" ? payload.uri : kind === "prompt_get" ? payload.name : undefined);
  return subject === null ? null : clipText(subject, MAX_SUBJECT_CHARS);
}

/**
 * Folds a resources/prompts event. A start waits in `pending` for its outcome (by call id, else the
 * oldest of its kind): live, a request in flight; offline, one whose outcome the proxy never wrote.
 */
export function foldSubject(
  state: SubjectState,
  type: string,
  payload: Record<string, unknown>,
  where: { seq: number; capturedAt: string },
  callId: string | null = null,
): void {
  const started = START_TYPES[type];
  if (started !== undefined)
    return foldSubjectStart(state, callId, { ...where, kind: started, subject: subjectOf(started, payload) });
  const facts = OUTCOME_TYPES[type];
  if (facts === undefined) return;
  const key = callId ?? shiftKey(state.anonymousByKind, facts.kind);
  if (key !== undefined && !state.pending.delete(key) && callId !== null) {
    state.earlyEnds.add(callId);
    if (state.earlyEnds.size > MAX_PENDING_CALLS)
      state.earlyEnds.delete(state.earlyEnds.values().next().value as string);
  }
  const raw = payload.duration_ms;
  const subject = subjectOf(facts.kind, payload);
  const record: SubjectRecord = {
    ...where,
    kind: facts.kind,
    subject,
    durationMs: typeof raw === "number" && Number.isFinite(raw) ? Math.max(0, raw) : null,
    errorType: facts.error ? (readText(payload.error_type) ?? "unknown_error") : null,
    errorBody: facts.error ? clipText(readText(payload.error_body) ?? "", MAX_SUBJECT_CHARS) : null,
  };
  const counts = state.counts.get(facts.kind) ?? { ok: 0, errors: 0 };
  state.counts.set(facts.kind, counts);
  if (facts.error) counts.errors += 1;
  else counts.ok += 1;
  // List failures are counted; reads and gets name what failed, so they are listed.
  if (facts.error && (facts.kind === "resource_read" || facts.kind === "prompt_get")) {
    state.failuresTotal += 1;
    state.failures.push(record);
    if (state.failures.length > MAX_SUBJECT_FAILURES) state.failures.shift();
  }
  if (record.durationMs !== null) keepSlowest(state.slowest, record);
}

function foldSubjectStart(state: SubjectState, callId: string | null, request: PendingSubjectRecord): void {
  // Its outcome came first (events out of order): nothing is pending.
  if (callId !== null && state.earlyEnds.delete(callId)) return;
  const key = callId ?? `${ANONYMOUS_KEY_PREFIX}${(state.anonymousSeq += 1)}`;
  if (callId === null) {
    const queue = state.anonymousByKind.get(request.kind);
    if (queue === undefined) state.anonymousByKind.set(request.kind, [key]);
    else queue.push(key);
  }
  state.pending.delete(key);
  state.pending.set(key, request);
  if (state.pending.size <= MAX_PENDING_CALLS) return;
  const [oldestKey, oldest] = state.pending.entries().next().value as [string, PendingSubjectRecord];
  state.pending.delete(oldestKey);
  state.pendingForgotten += 1;
  // The oldest pending request is also the oldest of its kind's anonymous queue.
  if (oldestKey.startsWith(ANONYMOUS_KEY_PREFIX)) shiftKey(state.anonymousByKind, oldest.kind);
}

function shiftKey(queues: Map<SubjectKind, string[]>, kind: SubjectKind): string | undefined {
  const queue = queues.get(kind);
  const key = queue?.shift();
  if (queue !== undefined && queue.length === 0) queues.delete(kind);
  return key;
}

function keepSlowest(slowest: SubjectRecord[], record: SubjectRecord): void {
  const ms = record.durationMs ?? 0;
  const index = slowest.findIndex((r) => (r.durationMs ?? 0) < ms);
  if (index === -1 && slowest.length >= MAX_SLOW_SUBJECTS) return;
  slowest.splice(index === -1 ? slowest.length : index, 0, record);
  if (slowest.length > MAX_SLOW_SUBJECTS) slowest.pop();
}
