// The report's fold: folds one session's events into bounded aggregates. Pure data, no I/O, no rendering, no clock.

import {
  EXTENSION_EVENT_TYPES,
  META_CALL_ID,
  META_SCRUBBED,
  META_SERVER,
  META_TRUNCATED,
  type BatonEvent,
} from "../telemetry/event-types.ts";
import { foldOutcome, foldStart } from "./fold-calls.ts";
import { createSubjectState, foldSubject, isSubjectEvent } from "./fold-subjects.ts";
import { digestSurface } from "./surface-diff.ts";
import { addCount, clipText, compactJson, compareInstants, isObject, readCount, readText } from "./fold-values.ts";
import type { AnnotationRecord, CallRecord, ReportState } from "./report-types.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export { MAX_ERRORED_CALLS, MAX_PENDING_CALLS, MAX_SLOW_CALLS, MAX_TRACKED_TOOLS, OTHER_TOOLS } from "./fold-calls.ts";
export { MAX_COUNT_KEYS, OTHER_KEY, clipText, compactJson, compareInstants } from "./fold-values.ts";

/** The `intent_source` of the annotation the proxy makes from a call's `user_goal` (proxy/injection.ts's INTENT_SOURCE_PARAM). */
const INTENT_SOURCE_PARAM = "injected_param";
/** Annotations kept (the first ones); the total is always counted. */
export const MAX_ANNOTATIONS = 50;
/** Characters of compact JSON kept per call's params. */
export const MAX_PARAMS_CHARS = 4096;
/** Characters kept per free-text field (error body, annotation texts). */
const MAX_TEXT_CHARS = 2000;
/** Distinct redaction labels counted (the scrubber has about ten); further labels pool under OTHER_KEY. */
export const MAX_REDACTION_LABELS = 20;
/**
 * Characters kept of a tool name: names come from the client (the scrub lets 64 KiB through), and
 * each of MAX_PENDING_CALLS calls in flight holds its own.
 */
export const MAX_TOOL_NAME_CHARS = 200;
/** Characters kept of a redaction label or of an unknown event type. */
const MAX_LABEL_CHARS = 40;

/** A fresh, empty state. */
export function createReportState(): ReportState {
  return {
    sessionId: null,
    client: null,
    server: null,
    serverName: null,
    firstAt: null,
    lastAt: null,
    events: 0,
    minSeq: null,
    maxSeq: null,
    sequenced: 0,
    tools: new Map(),
    errorTypes: new Map(),
    errored: [],
    erroredTotal: 0,
    slowest: [],
    annotations: [],
    annotationTotal: 0,
    signals: new Map(),
    annotationsByTool: new Map(),
    redactions: new Map(),
    truncatedValues: 0,
    pending: new Map(),
    pendingForgotten: 0,
    orphans: new Map(),
    anonymousByTool: new Map(),
    anonymousSeq: 0,
    subjects: createSubjectState(),
    surface: null,
    surfaceCount: 0,
    otherTypes: new Map(),
  };
}

/**
 * Folds one event into `state`, mutating it (O(1) amortised per event, memory bounded by the
 * MAX_* constants). Events should come in sequence order; an outcome seen before its start is
 * still counted once. Fields of the wrong type are tolerated (read as absent), never thrown on.
 */
export function foldEvent(state: ReportState, event: BatonEvent): void {
  state.events += 1;
  state.sessionId ??= event.session_id;
  noteEnvelope(state, event);
  const payload: Record<string, unknown> = isObject(event.payload) ? event.payload : {};
  const meta = isObject(event.runtime_meta) ? event.runtime_meta : {};
  const callId = typeof meta[META_CALL_ID] === "string" ? meta[META_CALL_ID] : null;
  const seq = event.sequence_number;
  const capturedAt = typeof event.captured_at === "string" ? event.captured_at : "";
  // Records are built whole, field by field: spreading partial objects into them cost a third of the fold.
  switch (event.event_type) {
    case "tool_call_start":
      return foldStart(state, callId, {
        seq,
        capturedAt,
        tool: toolName(payload),
        paramsJson: clipText(compactJson(payload.params ?? {}), MAX_PARAMS_CHARS),
        intent: clippedText(payload.call_intent),
        expected: clippedText(payload.call_expected),
      });
    case "tool_call_end":
      return foldOutcome(state, callId, readOutcome(payload, false, seq, capturedAt));
    case "tool_call_error":
      return foldOutcome(state, callId, readOutcome(payload, true, seq, capturedAt));
    case "annotation":
      return foldAnnotation(state, { seq, capturedAt, ...readAnnotation(payload) });
    case "surface_snapshot": {
      const digest = digestSurface(payload);
      if (digest?.server != null) state.serverName = digest.server;
      if (digest !== null && digest.hash !== state.surface?.hash) state.surfaceCount += 1;
      if (digest !== null) state.surface = digest;
      return;
    }
    default:
      if (isSubjectEvent(event.event_type))
        foldSubject(state.subjects, event.event_type, payload, { seq, capturedAt }, callId);
      else if (!EXTENSION_EVENT_TYPES.has(event.event_type))
        addCount(state.otherTypes, clipText(event.event_type, MAX_LABEL_CHARS));
  }
}

function clippedText(value: unknown): string | null {
  const text = readText(value);
  return text === null ? null : clipText(text, MAX_TEXT_CHARS);
}

function readOutcome(payload: Record<string, unknown>, isError: boolean, seq: number, capturedAt: string): CallRecord {
  const raw = payload.duration_ms;
  return {
    seq,
    capturedAt,
    tool: toolName(payload),
    paramsJson: null,
    durationMs: typeof raw === "number" && Number.isFinite(raw) ? Math.max(0, raw) : null,
    outcome: isError ? (readText(payload.error_type) ?? "unknown_error") : "ok",
    errorBody: isError ? clipText(readText(payload.error_body) ?? "", MAX_TEXT_CHARS) : null,
    intent: null,
    expected: null,
    repeats: 1,
  };
}

function readAnnotation(payload: Record<string, unknown>): Omit<AnnotationRecord, "seq" | "capturedAt"> {
  const field = (value: unknown): string | null => {
    const found = readText(value);
    return found === null ? null : clipText(found, MAX_TEXT_CHARS);
  };
  const context = isObject(payload.context) && Object.keys(payload.context).length > 0 ? payload.context : null;
  return {
    tool: clippedName(payload.tool_name),
    intent: field(payload.intent),
    expectedOutcome: field(payload.expected_outcome),
    signalType: field(payload.signal_type),
    workflow: field(payload.workflow),
    suggestedImprovement: field(payload.suggested_improvement),
    contextJson: context === null ? null : clipText(compactJson(context), MAX_PARAMS_CHARS),
    fromIntentParam: payload.intent_source === INTENT_SOURCE_PARAM,
  };
}

function noteEnvelope(state: ReportState, event: BatonEvent): void {
  const at = event.captured_at;
  if (typeof at === "string" && at !== "") {
    if (state.firstAt === null || compareInstants(at, state.firstAt) < 0) state.firstAt = at;
    if (state.lastAt === null || compareInstants(at, state.lastAt) > 0) state.lastAt = at;
  }
  if (
    typeof event.agent_runtime === "string" &&
    event.agent_runtime !== "" &&
    (event.agent_runtime !== "unknown" || state.client === null)
  )
    state.client = event.agent_runtime;
  const meta = isObject(event.runtime_meta) ? event.runtime_meta : {};
  if (typeof meta[META_SERVER] === "string" && meta[META_SERVER] !== "") state.server = meta[META_SERVER];
  // Dropped events are read from the gaps in the sequence, not from `baton/dropped_events`: that
  // counts deliveries any sink lost (a console that is down), while these events may all be here.
  const seq = event.sequence_number;
  if (Number.isSafeInteger(seq)) {
    state.sequenced += 1;
    if (state.minSeq === null || seq < state.minSeq) state.minSeq = seq;
    if (state.maxSeq === null || seq > state.maxSeq) state.maxSeq = seq;
  }
  state.truncatedValues += readCount(meta[META_TRUNCATED]) ?? 0;
  const scrubbed = meta[META_SCRUBBED];
  if (isObject(scrubbed)) {
    for (const [label, n] of Object.entries(scrubbed)) {
      const times = readCount(n);
      if (times !== null && label !== "")
        addCount(state.redactions, clipText(label, MAX_LABEL_CHARS), times, MAX_REDACTION_LABELS);
    }
  }
}
// Once per event: straight-line code around allocations and runtime calls (DFG runs it about as fast),
// but it inlines much, so its FTL compile is among the largest (see runtime/jit-tiers.ts).
keepOutOfFtl(foldEvent, noteEnvelope, readOutcome, clippedText);

function foldAnnotation(state: ReportState, annotation: AnnotationRecord): void {
  state.annotationTotal += 1;
  addCount(state.signals, annotation.signalType ?? "");
  if (annotation.tool !== null && !annotation.fromIntentParam) addCount(state.annotationsByTool, annotation.tool);
  if (state.annotations.length < MAX_ANNOTATIONS) state.annotations.push(annotation);
}

/** An annotation's tool, clipped as calls' names are: the report links the two by name. */
function clippedName(value: unknown): string | null {
  const name = readText(value);
  return name === null ? null : clipText(name, MAX_TOOL_NAME_CHARS);
}

function toolName(payload: Record<string, unknown>): string {
  return typeof payload.tool_name === "string" && payload.tool_name !== ""
    ? clipText(payload.tool_name, MAX_TOOL_NAME_CHARS)
    : "(unnamed tool)";
}
