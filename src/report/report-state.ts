// The report's fold: folds one session's events into bounded aggregates. Pure data, no I/O, no rendering, no clock.

import { META_CALL_ID, META_SERVER, type BatonEvent } from "../telemetry/event-types.ts";
import { addDuration, createDurationStats, type DurationStats } from "./duration-stats.ts";

/** Distinct tool names tracked; calls to further tools are pooled under OTHER_TOOLS. */
export const MAX_TRACKED_TOOLS = 200;
/** Errored calls kept (the most recent ones); the total is always counted. */
export const MAX_ERRORED_CALLS = 20;
/** Slowest calls kept (of any outcome); the renderer shows those over its threshold. */
export const MAX_SLOW_CALLS = 10;
/** Annotations kept (the first ones); the total is always counted. */
export const MAX_ANNOTATIONS = 50;
/** Starts awaiting an outcome; the oldest is forgotten (and counted) beyond this. */
export const MAX_PENDING_CALLS = 10_000;
/** Characters of compact JSON kept per call's params. */
export const MAX_PARAMS_CHARS = 4096;
/** Characters kept per free-text field (error body, annotation texts). */
export const MAX_TEXT_CHARS = 2000;
/** Distinct keys kept in a count map (error types, signal types); the rest pool under OTHER_KEY. */
export const MAX_COUNT_KEYS = 50;
/** Pool label for tools beyond MAX_TRACKED_TOOLS. */
export const OTHER_TOOLS = "(other tools)";
/** Pool label for count-map keys beyond MAX_COUNT_KEYS. */
export const OTHER_KEY = "(other)";
/** runtime_meta key carrying the proxy's count of dropped events (not in event-types.ts yet). */
export const META_DROPPED_EVENTS = "baton/dropped_events";
/** Prefix of the private pending keys of starts without a call id (a NUL never starts a real call id). */
const ANONYMOUS_KEY_PREFIX = "\u0000anonymous:";

/** Per-tool aggregates. Durations cover every outcome that carried one (successes and errors). */
export interface ToolStats {
  readonly name: string;
  ok: number;
  errors: number;
  readonly errorTypes: Map<string, number>;
  readonly durations: DurationStats;
}

/** One finished call as kept for the lists. `outcome` is "ok" or the error type. */
export interface CallRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string;
  paramsJson: string | null;
  readonly durationMs: number | null;
  readonly outcome: string;
  readonly errorBody: string | null;
}

export interface PendingCall {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string;
  readonly paramsJson: string;
}

export interface AnnotationRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string | null;
  readonly intent: string | null;
  readonly expectedOutcome: string | null;
  readonly signalType: string | null;
  readonly workflow: string | null;
  readonly suggestedImprovement: string | null;
  readonly contextJson: string | null;
}

/** Everything the report needs, in bounded memory. Mutated in place by foldEvent. */
export interface ReportState {
  sessionId: string | null;
  client: string | null;
  server: string | null;
  firstAt: string | null;
  lastAt: string | null;
  events: number;
  droppedEvents: number;
  readonly tools: Map<string, ToolStats>;
  readonly errorTypes: Map<string, number>;
  readonly errored: CallRecord[];
  erroredTotal: number;
  readonly slowest: CallRecord[];
  readonly annotations: AnnotationRecord[];
  annotationTotal: number;
  readonly signals: Map<string, number>;
  readonly pending: Map<string, PendingCall>;
  pendingForgotten: number;
  /** Outcomes whose start was not seen yet (out of order), so a late start attaches its params. */
  readonly orphans: Map<string, CallRecord[]>;
  /** Pending keys of starts that carried no call id, oldest first, per tool. */
  readonly anonymousByTool: Map<string, string[]>;
  anonymousSeq: number;
}

/** A fresh, empty state. */
export function createReportState(): ReportState {
  return {
    sessionId: null, client: null, server: null, firstAt: null, lastAt: null, events: 0, droppedEvents: 0,
    tools: new Map(), errorTypes: new Map(), errored: [], erroredTotal: 0, slowest: [],
    annotations: [], annotationTotal: 0, signals: new Map(), pending: new Map(), pendingForgotten: 0,
    orphans: new Map(), anonymousByTool: new Map(), anonymousSeq: 0,
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
  const where = { seq: event.sequence_number, capturedAt: typeof event.captured_at === "string" ? event.captured_at : "" };
  switch (event.event_type) {
    case "tool_call_start":
      return foldStart(state, callId, { ...where, tool: toolName(payload), paramsJson: clipText(compactJson(payload.params ?? {}), MAX_PARAMS_CHARS) });
    case "tool_call_end":
      return foldOutcome(state, callId, { ...where, ...readOutcome(payload, false) });
    case "tool_call_error":
      return foldOutcome(state, callId, { ...where, ...readOutcome(payload, true) });
    case "annotation":
      return foldAnnotation(state, { ...where, ...readAnnotation(payload) });
    case "surface_snapshot": {
      const info = isObject(payload.server_info) ? payload.server_info : {};
      const label = [info.name, info.version].filter((v) => typeof v === "string" && v !== "").join(" ");
      if (state.server === null && typeof info.name === "string" && label !== "") state.server = label;
      return;
    }
  }
}

function readOutcome(payload: Record<string, unknown>, isError: boolean): Omit<CallRecord, "seq" | "capturedAt"> {
  const raw = payload.duration_ms;
  return {
    tool: toolName(payload),
    paramsJson: null,
    durationMs: typeof raw === "number" && Number.isFinite(raw) ? Math.max(0, raw) : null,
    outcome: isError ? (text(payload.error_type) ?? "unknown_error") : "ok",
    errorBody: isError ? clipText(text(payload.error_body) ?? "", MAX_TEXT_CHARS) : null,
  };
}

function readAnnotation(payload: Record<string, unknown>): Omit<AnnotationRecord, "seq" | "capturedAt"> {
  const field = (value: unknown): string | null => {
    const found = text(value);
    return found === null ? null : clipText(found, MAX_TEXT_CHARS);
  };
  const context = isObject(payload.context) && Object.keys(payload.context).length > 0 ? payload.context : null;
  return {
    tool: field(payload.tool_name),
    intent: field(payload.intent),
    expectedOutcome: field(payload.expected_outcome),
    signalType: field(payload.signal_type),
    workflow: field(payload.workflow),
    suggestedImprovement: field(payload.suggested_improvement),
    contextJson: context === null ? null : clipText(compactJson(context), MAX_PARAMS_CHARS),
  };
}

function noteEnvelope(state: ReportState, event: BatonEvent): void {
  const at = event.captured_at;
  if (typeof at === "string" && at !== "") {
    if (state.firstAt === null || compareInstants(at, state.firstAt) < 0) state.firstAt = at;
    if (state.lastAt === null || compareInstants(at, state.lastAt) > 0) state.lastAt = at;
  }
  if (typeof event.agent_runtime === "string" && event.agent_runtime !== "" && (event.agent_runtime !== "unknown" || state.client === null)) state.client = event.agent_runtime;
  const meta = isObject(event.runtime_meta) ? event.runtime_meta : {};
  if (typeof meta[META_SERVER] === "string" && meta[META_SERVER] !== "") state.server = meta[META_SERVER];
  const dropped = meta[META_DROPPED_EVENTS];
  if (typeof dropped === "number" && Number.isFinite(dropped) && dropped > state.droppedEvents) state.droppedEvents = dropped;
}

function foldStart(state: ReportState, callId: string | null, call: PendingCall): void {
  const early = callId === null ? undefined : state.orphans.get(callId);
  if (callId !== null && early !== undefined) {
    for (const record of early) record.paramsJson = call.paramsJson;
    state.orphans.delete(callId);
    return;
  }
  // A start without a call id (older producers) gets a private key; its outcome matches by tool, oldest first.
  const key = callId ?? `${ANONYMOUS_KEY_PREFIX}${(state.anonymousSeq += 1)}`;
  if (callId === null) pushToQueue(state.anonymousByTool, call.tool, key);
  state.pending.delete(key);
  state.pending.set(key, call);
  if (state.pending.size <= MAX_PENDING_CALLS) return;
  const [oldestKey, oldest] = state.pending.entries().next().value ?? ["", undefined];
  state.pending.delete(oldestKey);
  state.pendingForgotten += 1;
  // The oldest pending call is also the oldest of its tool's anonymous queue.
  if (oldest !== undefined && oldestKey.startsWith(ANONYMOUS_KEY_PREFIX)) shiftFromQueue(state.anonymousByTool, oldest.tool);
}

function foldOutcome(state: ReportState, callId: string | null, call: CallRecord): void {
  const key = callId ?? shiftFromQueue(state.anonymousByTool, call.tool);
  const start = key === undefined ? undefined : state.pending.get(key);
  if (key !== undefined) state.pending.delete(key);
  const record: CallRecord = start === undefined ? call : { ...call, tool: start.tool, paramsJson: start.paramsJson };
  const stats = toolStats(state, record.tool);
  const kept: CallRecord[] = [];
  if (record.outcome === "ok") stats.ok += 1;
  else {
    stats.errors += 1;
    bump(stats.errorTypes, record.outcome);
    bump(state.errorTypes, record.outcome);
    state.erroredTotal += 1;
    state.errored.push(record);
    if (state.errored.length > MAX_ERRORED_CALLS) state.errored.shift();
    kept.push(record);
  }
  if (record.durationMs !== null) {
    addDuration(stats.durations, record.durationMs);
    if (keepIfSlowest(state.slowest, record) && !kept.includes(record)) kept.push(record);
  }
  if (start === undefined && callId !== null) {
    state.orphans.set(callId, kept);
    if (state.orphans.size > MAX_PENDING_CALLS) state.orphans.delete(state.orphans.keys().next().value ?? "");
  }
}

function pushToQueue(queues: Map<string, string[]>, tool: string, key: string): void {
  const queue = queues.get(tool);
  if (queue === undefined) queues.set(tool, [key]);
  else queue.push(key);
}

function shiftFromQueue(queues: Map<string, string[]>, tool: string): string | undefined {
  const queue = queues.get(tool);
  const key = queue?.shift();
  if (queue !== undefined && queue.length === 0) queues.delete(tool);
  return key;
}

function foldAnnotation(state: ReportState, annotation: AnnotationRecord): void {
  state.annotationTotal += 1;
  bump(state.signals, annotation.signalType ?? "");
  if (state.annotations.length < MAX_ANNOTATIONS) state.annotations.push(annotation);
}

/** Stats of `name`, created on first use; tools beyond MAX_TRACKED_TOOLS share the OTHER_TOOLS entry. */
function toolStats(state: ReportState, name: string): ToolStats {
  const key = state.tools.has(name) || state.tools.size < MAX_TRACKED_TOOLS ? name : OTHER_TOOLS;
  let stats = state.tools.get(key);
  if (stats === undefined) {
    stats = { name: key, ok: 0, errors: 0, errorTypes: new Map(), durations: createDurationStats() };
    state.tools.set(key, stats);
  }
  return stats;
}

/** Keeps `slowest` sorted slowest first (ties: earlier call first); true when `record` was kept. */
function keepIfSlowest(slowest: CallRecord[], record: CallRecord): boolean {
  const ms = record.durationMs ?? 0;
  const last = slowest[slowest.length - 1];
  if (slowest.length >= MAX_SLOW_CALLS && last !== undefined && (last.durationMs ?? 0) >= ms) return false;
  const index = slowest.findIndex((r) => (r.durationMs ?? 0) < ms);
  slowest.splice(index === -1 ? slowest.length : index, 0, record);
  if (slowest.length > MAX_SLOW_CALLS) slowest.pop();
  return true;
}

/** Orders two RFC 3339 instants by time (ties and unparsable values fall back to string order). */
export function compareInstants(a: string, b: string): number {
  const diff = Date.parse(a) - Date.parse(b);
  return Number.isFinite(diff) && diff !== 0 ? Math.sign(diff) : a < b ? -1 : a > b ? 1 : 0;
}

/** Cuts `value` to at most `max` characters (never splitting a surrogate pair), marking the cut with "…". */
export function clipText(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = Math.max(0, max - 1);
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${value.slice(0, end)}…`;
}

/** Compact JSON of any value; "null" for undefined, a marker for unserialisable values. */
export function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return '"[unserialisable]"';
  }
}

function bump(counts: Map<string, number>, key: string): void {
  const slot = counts.has(key) || counts.size < MAX_COUNT_KEYS ? key : OTHER_KEY;
  counts.set(slot, (counts.get(slot) ?? 0) + 1);
}

function toolName(payload: Record<string, unknown>): string {
  return typeof payload.tool_name === "string" && payload.tool_name !== "" ? payload.tool_name : "(unnamed tool)";
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
