// Renders a ReportState as the shareable Markdown friction report (SPEC §7). Pure: returns text, never writes it; no HTML.

import { MAX_DURATION_SAMPLES_PER_TOOL } from "./duration-stats.ts";
import { formatInstant, formatMs, renderCode, renderText, renderTimeOfDay } from "./markdown-text.ts";
import type { AnnotationRecord, CallRecord, ReportState } from "./report-state.ts";
import { NO_SIGNAL, summarizeReport, type ReportSummary } from "./summarize-json.ts";

/** Tool rows in the table; the rest are summed up in one line. */
export const MAX_TABLE_ROWS = 25;
/** Characters of an error body quoted per call. */
export const MAX_ERROR_BODY_CHARS = 300;
/** Characters of a call's compact JSON input quoted per call. */
export const MAX_PARAMS_SNIPPET_CHARS = 500;
/** Characters quoted per annotation text field. */
export const MAX_ANNOTATION_FIELD_CHARS = 500;
/** Calls without an outcome listed by name; the rest are counted. */
export const MAX_NO_OUTCOME_LISTED = 20;

export interface RenderOptions {
  /** Calls at least this slow (ms) are listed under "Slow calls". */
  slowCallMs: number;
  /** Where the raw events are (a file path, a sink label), named in the closing line. */
  eventsLocation?: string;
  /** The live dropped-events counter, when the caller has one (the larger of it and the events' own count is shown). */
  droppedEvents?: number;
  /** When given, calls without an outcome show how long ago they started. */
  now?: Date;
}

/** The whole report as GitHub-flavoured Markdown ending in a newline. Never throws on odd data. */
export function renderReport(state: ReportState, options: RenderOptions): string {
  const summary = summarizeReport(state, { slowCallMs: options.slowCallMs, droppedEvents: options.droppedEvents ?? 0 });
  const day = state.firstAt === null ? null : formatInstant(state.firstAt)?.date ?? null;
  const blocks = [renderHeader(summary)];
  if (summary.totals.calls === 0 && summary.totals.annotations === 0) {
    blocks.push(
      "Nothing captured yet: this session has no tool calls and no annotations. Use the server's tools through " +
        "your MCP client (every call is recorded) and ask the agent to call `baton_annotate` when something goes " +
        "wrong, then produce this report again.",
    );
  } else {
    const facts = renderFacts(summary, state.slowest[0]);
    if (facts.length > 0) blocks.push(["### What stands out", "", ...facts].join("\n"));
    blocks.push(renderToolTable(summary));
    if (state.erroredTotal > 0) blocks.push(renderErrored(state, day));
    const slow = state.slowest.filter((c) => (c.durationMs ?? 0) >= options.slowCallMs);
    if (slow.length > 0) blocks.push(renderSlow(summary, slow, day));
    if (state.annotationTotal > 0) blocks.push(renderAnnotations(state, day));
    if (summary.totals.no_outcome + summary.totals.no_outcome_untracked > 0) blocks.push(renderNoOutcome(state, summary, day, options.now));
  }
  const where = options.eventsLocation === undefined ? "the event sinks configured in `BATON_EVENT_SINK`" : renderCode(options.eventsLocation);
  blocks.push(`---\n_Raw events: ${where}._`);
  return `${blocks.join("\n\n")}\n`;
}

function renderHeader(summary: ReportSummary): string {
  const { totals, window } = summary;
  const lines = ["## Baton friction report", ""];
  lines.push(`- **Session:** ${summary.session_id === null ? "—" : renderCode(summary.session_id)}`);
  lines.push(`- **Client:** ${summary.client === null ? "unknown" : renderText(summary.client, 200)}`);
  lines.push(`- **Server:** ${summary.server === null ? "unknown" : renderText(summary.server, 200)}`);
  const first = window.first === null ? null : formatInstant(window.first);
  const last = window.last === null ? null : formatInstant(window.last);
  if (first !== null && last !== null) {
    const end = first.date === last.date && first.zone === last.zone ? last.clock : `${last.date} ${last.clock}`;
    const length = window.duration_ms === null ? "" : ` (${formatMs(window.duration_ms)})`;
    lines.push(`- **Window:** ${first.date} ${first.clock} → ${end} ${last.zone}${length}`);
  } else lines.push(`- **Window:** ${window.first === null ? "no events yet" : `${renderText(window.first, 40)} → ${renderText(window.last ?? "", 40)}`}`);
  const rate = totals.calls === 0 ? "" : ` (${formatRate(totals.errors / totals.calls)})`;
  const pending = totals.no_outcome > 0 ? ` · **No outcome:** ${count(totals.no_outcome)}` : "";
  lines.push(`- **Calls:** ${count(totals.calls)} · **Errors:** ${count(totals.errors)}${rate}${pending}`);
  lines.push(`- **Annotations:** ${count(totals.annotations)}`);
  if (totals.dropped_events > 0) {
    lines.push(`- **Dropped events:** ${count(totals.dropped_events)} (the proxy's event queue overflowed; the figures below may undercount)`);
  }
  return lines.join("\n");
}

/** Up to four true, data-backed bullets: worst tool by errors, slow calls, top signal, abrupt endings. */
function renderFacts(summary: ReportSummary, slowest: CallRecord | undefined): string[] {
  const { totals, tools } = summary;
  const facts: string[] = [];
  const most = Math.max(0, ...tools.map((t) => t.errors));
  const leaders = tools.filter((t) => t.errors === most && most > 0);
  // Among tools tied on error count, the highest error rate is the telling one, if it is unique.
  const rates = leaders.map((t) => t.error_rate ?? 0);
  const worst = leaders.length === 1 ? leaders[0] : leaders.find((t) => (t.error_rate ?? 0) === Math.max(...rates));
  const unique = worst !== undefined && rates.filter((r) => r === (worst.error_rate ?? 0)).length === 1;
  if (worst !== undefined) {
    const types = Object.keys(worst.error_types);
    const kind = types[0] === undefined ? "" : types.length === 1 ? `, all ${renderCode(types[0])}` : `, most often ${renderCode(types[0])}`;
    const figures = `${count(worst.errors)} of ${plural(worst.calls, "call")} (${formatRate(worst.errors / worst.calls)})${kind}`;
    const spread = `Errors are spread over ${count(leaders.length)} tools with ${count(most)} each`;
    if (leaders.length === 1) facts.push(`- ${renderCode(worst.tool)} had the most errors: ${figures}.`);
    else facts.push(unique ? `- ${spread}; ${renderCode(worst.tool)} has the highest error rate: ${figures}.` : `- ${spread}.`);
  } else if (totals.calls > 0) facts.push("- No call returned an error.");
  if (totals.slow_calls > 0 && slowest !== undefined) {
    const about = totals.slow_calls_exact ? "" : "about ";
    facts.push(`- ${about}${plural(totals.slow_calls, "call")} took ${count(summary.slow_call_ms)} ms or longer; the slowest was ${renderCode(slowest.tool)} at ${formatMs(slowest.durationMs ?? 0)}.`);
  }
  const signals = Object.entries(summary.annotations_by_signal).filter(([signal]) => signal !== NO_SIGNAL);
  const [top, second] = signals;
  if (top !== undefined) {
    const tied = second !== undefined && second[1] === top[1] ? " (tied)" : "";
    const lead = signals.length === 1 ? `The agent flagged ${renderCode(top[0])}` : `The agent's most frequent signal was ${renderCode(top[0])}${tied}`;
    facts.push(`- ${lead}: ${count(top[1])} of ${plural(totals.annotations, "annotation")}.`);
  }
  const exited = summary.error_types.upstream_exit ?? 0;
  const cancelled = summary.error_types.cancelled ?? 0;
  if (exited > 0) facts.push(`- The server exited with ${plural(exited, "call")} still in flight (${renderCode("upstream_exit")}).`);
  else if (totals.no_outcome > 0) facts.push(`- ${plural(totals.no_outcome, "call")} never recorded an outcome.`);
  else if (cancelled > 0) facts.push(`- The client cancelled ${plural(cancelled, "call")}.`);
  return facts;
}

function renderToolTable(summary: ReportSummary): string {
  if (summary.tools.length === 0) return "### Tools\n\nNo tool calls recorded.";
  const lines = ["### Tools", "", "| Tool | Calls | Errors | Error rate | p50 ms | p95 ms | Max ms |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"];
  const ms = (value: number | null): string => (value === null ? "—" : count(Math.round(value)));
  for (const t of summary.tools.slice(0, MAX_TABLE_ROWS)) {
    const rate = t.error_rate === null ? "—" : formatRate(t.error_rate);
    lines.push(`| ${renderText(t.tool, 80)} | ${count(t.calls)} | ${count(t.errors)} | ${rate} | ${ms(t.p50_ms)} | ${ms(t.p95_ms)} | ${ms(t.max_ms)} |`);
  }
  const rest = summary.tools.slice(MAX_TABLE_ROWS);
  if (rest.length > 0) {
    const calls = rest.reduce((n, t) => n + t.calls, 0);
    const errors = rest.reduce((n, t) => n + t.errors, 0);
    lines.push("", `…and ${plural(rest.length, "more tool")} (${plural(calls, "call")}, ${plural(errors, "error")}).`);
  }
  const sampled = summary.tools.some((t) => !t.percentiles_exact);
  const note = sampled ? ` For tools with more than ${count(MAX_DURATION_SAMPLES_PER_TOOL)} timed calls, p50/p95 come from a uniform sample.` : "";
  lines.push("", `_Durations cover every call with an outcome, errors included; percentiles are nearest-rank._${note}`);
  return lines.join("\n");
}

function renderErrored(state: ReportState, day: string | null): string {
  const shown = state.errored.length;
  const lines = [`### Errored calls (${count(state.erroredTotal)})`, ""];
  if (state.erroredTotal > shown) lines.push(`Showing the ${count(shown)} most recent of ${count(state.erroredTotal)}.`, "");
  state.errored.forEach((call, i) => {
    const error = call.errorBody === null || call.errorBody.trim() === "" ? "_no message_" : renderCode(call.errorBody, MAX_ERROR_BODY_CHARS);
    const head = `${renderCode(call.tool)} — ${renderCode(call.outcome)}${after(call)} at ${renderTimeOfDay(call.capturedAt, day)}`;
    lines.push(...numbered(i + 1, head, [`Error: ${error}`, `Input: ${renderInput(call)}`]));
  });
  return lines.join("\n");
}

function renderSlow(summary: ReportSummary, slow: readonly CallRecord[], day: string | null): string {
  const about = summary.totals.slow_calls_exact ? "" : "about ";
  const total = Math.max(summary.totals.slow_calls, slow.length);
  const lines = [`### Slow calls (≥ ${count(summary.slow_call_ms)} ms): ${about}${count(total)}`, ""];
  slow.forEach((call, i) => {
    const outcome = call.outcome === "ok" ? "succeeded" : `failed with ${renderCode(call.outcome)}`;
    const head = `${renderCode(call.tool)} took **${formatMs(call.durationMs ?? 0)}** and ${outcome}, at ${renderTimeOfDay(call.capturedAt, day)}`;
    lines.push(...numbered(i + 1, head, [`Input: ${renderInput(call)}`]));
  });
  if (total > slow.length) lines.push("", `…and ${about}${plural(total - slow.length, "more slow call")} (only the ${count(slow.length)} slowest are listed).`);
  return lines.join("\n");
}

function renderAnnotations(state: ReportState, day: string | null): string {
  const lines = [`### Annotations (${count(state.annotationTotal)})`, ""];
  state.annotations.forEach((note, i) => lines.push(...renderAnnotation(note, i + 1, day)));
  const rest = state.annotationTotal - state.annotations.length;
  if (rest > 0) lines.push("", `…and ${plural(rest, "more annotation")} (only the first ${count(state.annotations.length)} are kept).`);
  return lines.join("\n");
}

function renderAnnotation(note: AnnotationRecord, n: number, day: string | null): string[] {
  const signal = note.signalType === null ? "Note" : `**${renderText(note.signalType, 80)}**`;
  const about = note.tool === null ? "" : ` about ${renderCode(note.tool)}`;
  const details: string[] = [];
  const field = (label: string, value: string | null): void => {
    if (value !== null) details.push(`${label}: ${renderText(value, MAX_ANNOTATION_FIELD_CHARS)}`);
  };
  field("Intent", note.intent);
  field("Expected outcome", note.expectedOutcome);
  field("Workflow", note.workflow);
  field("Suggested improvement", note.suggestedImprovement);
  if (note.contextJson !== null) details.push(`Context: ${renderCode(note.contextJson, MAX_PARAMS_SNIPPET_CHARS)}`);
  return numbered(n, `${signal}${about} at ${renderTimeOfDay(note.capturedAt, day)}`, details.length > 0 ? details : ["_No details given._"]);
}

/** An ordered-list item with nested bullets, indented under the item's text (4 spaces from item 10 on, as CommonMark needs). */
function numbered(n: number, head: string, details: readonly string[]): string[] {
  const indent = " ".repeat(`${n}. `.length);
  return [`${n}. ${head}`, ...details.map((d) => `${indent}- ${d}`)];
}

function renderNoOutcome(state: ReportState, summary: ReportSummary, day: string | null, now: Date | undefined): string {
  const lines = [`### No outcome recorded (${count(summary.totals.no_outcome)})`, "", "Started, but no result or error was recorded (still running, or the event file ends before the outcome).", ""];
  let listed = 0;
  for (const call of state.pending.values()) {
    if (listed === MAX_NO_OUTCOME_LISTED) break;
    listed += 1;
    const age = now === undefined || !Number.isFinite(Date.parse(call.capturedAt)) ? "" : ` (${formatMs(Math.max(0, now.getTime() - Date.parse(call.capturedAt)))} before this report)`;
    lines.push(`- ${renderCode(call.tool)} started at ${renderTimeOfDay(call.capturedAt, day)}${age} — input: ${renderCode(call.paramsJson, MAX_PARAMS_SNIPPET_CHARS)}`);
  }
  if (summary.totals.no_outcome > listed) lines.push("", `…and ${count(summary.totals.no_outcome - listed)} more.`);
  const untracked = summary.totals.no_outcome_untracked;
  if (untracked > 0) lines.push("", `${plural(untracked, "more start")} went untracked (too many calls were awaiting an outcome at once).`);
  return lines.join("\n");
}

function renderInput(call: CallRecord): string {
  return call.paramsJson === null ? "_not recorded (the start event is missing)_" : renderCode(call.paramsJson, MAX_PARAMS_SNIPPET_CHARS);
}

function after(call: CallRecord): string {
  return call.durationMs === null ? "" : ` after ${formatMs(call.durationMs)}`;
}

function formatRate(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
