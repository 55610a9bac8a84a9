// The call half of the report fold: pairs starts with outcomes (by call id, else by tool), per-tool stats, kept lists. Pure; mutates the state it is given.

import { addDuration, createDurationStats } from "./duration-stats.ts";
import { addCount } from "./fold-values.ts";
import type { CallRecord, PendingCall, ReportState, ToolStats } from "./report-types.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Distinct tool names tracked; calls to further tools are pooled under OTHER_TOOLS. */
export const MAX_TRACKED_TOOLS = 200;
/** Errored calls kept (the most recent ones); the total is always counted. */
export const MAX_ERRORED_CALLS = 20;
/** Slowest calls kept (of any outcome); the renderer shows those over its threshold. */
export const MAX_SLOW_CALLS = 10;
/** Starts awaiting an outcome; the oldest is forgotten (and counted) beyond this. */
export const MAX_PENDING_CALLS = 10_000;
/** Pool label for tools beyond MAX_TRACKED_TOOLS. */
export const OTHER_TOOLS = "(other tools)";
/** Prefix of the private pending keys of starts without a call id (a NUL never starts a real call id). */
const ANONYMOUS_KEY_PREFIX = "\u0000anonymous:";

/** Folds a tool_call_start. A start whose outcome came first only lends that outcome its params. */
export function foldStart(state: ReportState, callId: string | null, call: PendingCall): void {
  const early = callId === null ? undefined : state.orphans.get(callId);
  if (callId !== null && early !== undefined) {
    for (const record of early)
      Object.assign(record, { paramsJson: call.paramsJson, intent: call.intent, expected: call.expected });
    state.orphans.delete(callId);
    return;
  }
  // A start without a call id (older producers) gets a private key; its outcome matches by tool, oldest first.
  const key = callId ?? `${ANONYMOUS_KEY_PREFIX}${(state.anonymousSeq += 1)}`;
  if (callId === null) pushToQueue(state.anonymousByTool, call.tool, key);
  state.pending.delete(key);
  state.pending.set(key, call);
  if (state.pending.size <= MAX_PENDING_CALLS) return;
  const [oldestKey, oldest] = takeOldest(state.pending) ?? ["", undefined];
  state.pendingForgotten += 1;
  // The oldest pending call is also the oldest of its tool's anonymous queue.
  if (oldest !== undefined && oldestKey.startsWith(ANONYMOUS_KEY_PREFIX))
    shiftFromQueue(state.anonymousByTool, oldest.tool);
}

/** Folds a tool_call_end or tool_call_error (`call.outcome` "ok" or the error type). Counted once, even before its start. */
export function foldOutcome(state: ReportState, callId: string | null, call: CallRecord): void {
  const key = callId ?? shiftFromQueue(state.anonymousByTool, call.tool);
  const start = key === undefined ? undefined : state.pending.get(key);
  if (key !== undefined) state.pending.delete(key);
  // The call with its start's facts is built only when it is kept (errored or among the slowest):
  // an ok call of ordinary duration, nearly every call, only counts.
  let record: CallRecord | undefined;
  const stats = toolStats(state, start?.tool ?? call.tool);
  // An outcome seen before its start keeps its records for the start to complete (see foldStart).
  const kept: CallRecord[] | undefined = start === undefined && callId !== null ? [] : undefined;
  // The pool's calls are of different tools: one failing and another called next is no retry.
  if (stats.name !== OTHER_TOOLS) noteRetry(stats, call, start);
  if (call.outcome === "ok") stats.ok += 1;
  else {
    stats.errors += 1;
    stats.firstErrorSeq = stats.firstErrorSeq === null ? call.seq : Math.min(stats.firstErrorSeq, call.seq);
    addCount(stats.errorTypes, call.outcome);
    addCount(state.errorTypes, call.outcome);
    state.erroredTotal += 1;
    record = start === undefined ? call : withStart(call, start);
    keepErrored(state.errored, record);
    kept?.push(record);
  }
  if (call.durationMs !== null) {
    addDuration(stats.durations, call.durationMs);
    const at = slowRank(state.slowest, call.durationMs);
    if (at !== -1) {
      const slow = record ?? (start === undefined ? call : withStart(call, start));
      state.slowest.splice(at, 0, slow);
      if (state.slowest.length > MAX_SLOW_CALLS) state.slowest.pop();
      if (slow !== record) kept?.push(slow);
    }
  }
  if (kept !== undefined && callId !== null) {
    state.orphans.set(callId, kept);
    if (state.orphans.size > MAX_PENDING_CALLS) takeOldest(state.orphans);
  }
}

/**
 * Counts `call` as a retry when it started after its tool's latest outcome and that outcome was an
 * error (the agent saw the error, then called again); calls that overlapped another call of the
 * tool are not counted, since what they followed is unknown. Then makes `call` the latest outcome.
 */
function noteRetry(stats: ToolStats, call: CallRecord, start: PendingCall | undefined): void {
  const params = start?.paramsJson ?? null;
  if (stats.lastFailed && start !== undefined && start.seq > stats.lastSeq) {
    stats.retries += 1;
    if (params !== null && params === stats.lastErrorParams) stats.sameInputRetries += 1;
  }
  if (call.seq < stats.lastSeq) return;
  stats.lastSeq = call.seq;
  stats.lastFailed = call.outcome !== "ok";
  stats.lastErrorParams = stats.lastFailed ? params : null;
}

/** An outcome with its start's tool, params and intent (an outcome alone knows only its tool). */
function withStart(call: CallRecord, start: PendingCall): CallRecord {
  return {
    seq: call.seq,
    capturedAt: call.capturedAt,
    tool: start.tool,
    paramsJson: start.paramsJson,
    durationMs: call.durationMs,
    outcome: call.outcome,
    errorBody: call.errorBody,
    intent: start.intent,
    expected: start.expected,
    repeats: 1,
  };
}

/**
 * Keeps `record` as the latest errored call. An identical error already kept (same tool, input,
 * type and body) is taken out and counted into it, so a flood of one error fills one entry and the
 * other errors stay listed. At most MAX_ERRORED_CALLS entries; the oldest goes.
 */
function keepErrored(errored: CallRecord[], record: CallRecord): void {
  const same = errored.findIndex(
    (kept) =>
      kept.tool === record.tool &&
      kept.outcome === record.outcome &&
      kept.errorBody === record.errorBody &&
      kept.paramsJson !== null &&
      kept.paramsJson === record.paramsJson,
  );
  if (same !== -1) {
    record.repeats += errored[same]?.repeats ?? 0;
    errored.splice(same, 1);
  }
  errored.push(record);
  if (errored.length > MAX_ERRORED_CALLS) errored.shift();
}

/** The key `tool`'s calls are counted under: its own name, or OTHER_TOOLS once MAX_TRACKED_TOOLS names are taken. */
export function toolKey(state: ReportState, tool: string): string {
  return state.tools.has(tool) || state.tools.size < MAX_TRACKED_TOOLS ? tool : OTHER_TOOLS;
}

/** Stats of `name`, created on first use; tools beyond MAX_TRACKED_TOOLS share the OTHER_TOOLS entry. */
function toolStats(state: ReportState, name: string): ToolStats {
  const key = toolKey(state, name);
  let stats = state.tools.get(key);
  if (stats === undefined) {
    stats = {
      name: key,
      ok: 0,
      errors: 0,
      firstErrorSeq: null,
      errorTypes: new Map(),
      durations: createDurationStats(),
      retries: 0,
      sameInputRetries: 0,
      lastSeq: -1,
      lastFailed: false,
      lastErrorParams: null,
    };
    state.tools.set(key, stats);
  }
  return stats;
}

/**
 * A live iterator per map, resting on its oldest entry: everything it passed was taken (deleted)
 * and later insertions go after it. A fresh `entries().next()` walks every slot deleted so far
 * (measured on Bun 1.4: 31 µs per eviction at 10 000 pending calls, 1 µs this way), and a burst of
 * calls evicts on every start.
 */
const oldestCursors = new WeakMap<Map<string, unknown>, Iterator<[string, unknown]>>();

/** Removes and returns the oldest entry of `map` (insertion order), or undefined when it is empty. */
function takeOldest<V>(map: Map<string, V>): [string, V] | undefined {
  let cursor = oldestCursors.get(map);
  let next = cursor?.next();
  if (cursor === undefined || next === undefined || next.done === true) {
    cursor = map.entries();
    oldestCursors.set(map, cursor);
    next = cursor.next();
  }
  if (next.done === true) return undefined;
  const entry = next.value as [string, V];
  map.delete(entry[0]);
  return entry;
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

/**
 * Where a call of `ms` goes in `slowest` (sorted slowest first; ties: earlier call first), or -1
 * when it is not among the MAX_SLOW_CALLS slowest. The caller inserts there and pops the tail.
 */
function slowRank(slowest: readonly CallRecord[], ms: number): number {
  const last = slowest[slowest.length - 1];
  if (slowest.length >= MAX_SLOW_CALLS && last !== undefined && (last.durationMs ?? 0) >= ms) return -1;
  for (let i = 0; i < slowest.length; i++) if ((slowest[i]?.durationMs ?? 0) < ms) return i;
  return slowest.length;
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(foldStart, foldOutcome, toolKey, toolStats, slowRank, noteRetry, keepErrored);
