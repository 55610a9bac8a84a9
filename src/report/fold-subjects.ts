// The resources/prompts half of the report fold: counts per kind, the latest failing reads and gets, the slowest requests. Pure; mutates the state it is given.

import { clipText, readText } from "./fold-values.ts";
import type { SubjectKind, SubjectRecord, SubjectState } from "./report-types.ts";

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

export function createSubjectState(): SubjectState {
  return { counts: new Map(), failures: [], failuresTotal: 0, slowest: [] };
}

/** True for the end/error events of resources and prompts (starts are not needed: outcomes carry everything). */
export function isSubjectEvent(type: string): boolean {
  return Object.hasOwn(OUTCOME_TYPES, type);
}

export function foldSubject(
  state: SubjectState,
  type: string,
  payload: Record<string, unknown>,
  where: { seq: number; capturedAt: string },
): void {
  const facts = OUTCOME_TYPES[type];
  if (facts === undefined) return;
  const raw = payload.duration_ms;
  const subject = readText(
    facts.kind === "resource_read" ? payload.uri : facts.kind === "prompt_get" ? payload.name : undefined,
  );
  const record: SubjectRecord = {
    ...where,
    kind: facts.kind,
    subject: subject === null ? null : clipText(subject, MAX_SUBJECT_CHARS),
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

function keepSlowest(slowest: SubjectRecord[], record: SubjectRecord): void {
  const ms = record.durationMs ?? 0;
  const index = slowest.findIndex((r) => (r.durationMs ?? 0) < ms);
  if (index === -1 && slowest.length >= MAX_SLOW_SUBJECTS) return;
  slowest.splice(index === -1 ? slowest.length : index, 0, record);
  if (slowest.length > MAX_SLOW_SUBJECTS) slowest.pop();
}
