// The report's lists of single calls and notes (errored calls, slow calls, annotations), each one numbered item with its details. Pure; returns text.

import { describeErrorType, stripCodePrefix } from "./error-names.ts";
import { formatCount, formatMs, formatPlural, renderCode, renderText, renderTimeOfDay } from "./markdown-text.ts";
import type { AnnotationRecord, CallRecord, ReportState } from "./report-types.ts";
import type { ReportSummary } from "./summarize-json.ts";

/** Characters of an error body quoted per call. */
const MAX_ERROR_BODY_CHARS = 300;
/** Characters of a call's compact JSON input quoted per call (also in the report's list of calls without an outcome). */
export const MAX_PARAMS_SNIPPET_CHARS = 500;
/** Characters quoted per annotation text field. */
const MAX_ANNOTATION_FIELD_CHARS = 500;

export function renderErrored(state: ReportState, day: string | null): string {
  const shown = state.errored.reduce((n, call) => n + call.repeats, 0);
  const lines = [`### Errored calls (${formatCount(state.erroredTotal)})`, ""];
  const merged = shown > state.errored.length;
  const identical = "Identical errors (same tool, input and error) are listed once, with their count.";
  // Merged entries keep counting while they stay listed, so the calls shown are the latest kept, not strictly the most recent.
  if (state.erroredTotal > shown)
    lines.push(
      merged
        ? `Showing ${formatCount(shown)} of ${formatCount(state.erroredTotal)}, the latest kept. ${identical}`
        : `Showing the ${formatCount(shown)} most recent of ${formatCount(state.erroredTotal)}.`,
      "",
    );
  else if (merged) lines.push(identical, "");
  state.errored.forEach((call, i) => {
    const body = stripCodePrefix(call.outcome, call.errorBody ?? "");
    const message = body.trim() === "" ? "_no message_" : renderCode(body, MAX_ERROR_BODY_CHARS);
    const name = describeErrorType(call.outcome);
    const error = name === null ? message : `${name} — ${message}`;
    // The raw type stays in the heading: it is what the event file and the JSON summary say.
    const times = call.repeats > 1 ? ` ×${formatCount(call.repeats)}, the last` : "";
    const head = `${renderCode(call.tool)} — ${renderCode(call.outcome)}${times}${after(call)} at ${renderTimeOfDay(call.capturedAt, day)}`;
    const said = [
      ...(call.intent === null ? [] : [`The agent wanted: ${renderText(call.intent, MAX_ANNOTATION_FIELD_CHARS)}`]),
      ...(call.expected === null ? [] : [`It expected: ${renderText(call.expected, MAX_ANNOTATION_FIELD_CHARS)}`]),
    ];
    lines.push(...numbered(i + 1, head, [...said, `Error: ${error}`, `Input: ${renderInput(call)}`]));
  });
  return lines.join("\n");
}

export function renderSlow(summary: ReportSummary, slow: readonly CallRecord[], day: string | null): string {
  const about = summary.totals.slow_calls_exact ? "" : "about ";
  const total = Math.max(summary.totals.slow_calls, slow.length);
  const lines = [`### Slow calls (≥ ${formatCount(summary.slow_call_ms)} ms): ${about}${formatCount(total)}`, ""];
  slow.forEach((call, i) => {
    const outcome =
      call.outcome === "ok" ? "succeeded" : `failed: ${describeErrorType(call.outcome) ?? renderCode(call.outcome)}`;
    const head = `${renderCode(call.tool)} took **${formatMs(call.durationMs ?? 0)}** at ${renderTimeOfDay(call.capturedAt, day)} and ${outcome}`;
    lines.push(...numbered(i + 1, head, [`Input: ${renderInput(call)}`]));
  });
  if (total > slow.length)
    lines.push(
      "",
      `…and ${about}${formatPlural(total - slow.length, "more slow call")} (only the ${formatCount(slow.length)} slowest are listed).`,
    );
  return lines.join("\n");
}

export function renderAnnotations(state: ReportState, day: string | null): string {
  const lines = [`### Annotations (${formatCount(state.annotationTotal)})`, ""];
  state.annotations.forEach((note, i) => lines.push(...renderAnnotation(note, i + 1, day)));
  const rest = state.annotationTotal - state.annotations.length;
  if (rest > 0)
    lines.push(
      "",
      `…and ${formatPlural(rest, "more annotation")} (only the first ${formatCount(state.annotations.length)} are kept).`,
    );
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
  // The proxy's note from a call's user_goal: the agent wrote its text, but did not call baton_annotate.
  const made = note.fromIntentParam ? ", from the call's `user_goal` (not a `baton_annotate` call)" : "";
  return numbered(
    n,
    `${signal}${about} at ${renderTimeOfDay(note.capturedAt, day)}${made}`,
    details.length > 0 ? details : ["_No details given._"],
  );
}

/** An ordered-list item with nested bullets, indented under the item's text (4 spaces from item 10 on, as CommonMark needs). */
function numbered(n: number, head: string, details: readonly string[]): string[] {
  const indent = " ".repeat(`${n}. `.length);
  return [`${n}. ${head}`, ...details.map((d) => `${indent}- ${d}`)];
}

function renderInput(call: CallRecord): string {
  return call.paramsJson === null
    ? "_not recorded (the start event is missing)_"
    : renderCode(call.paramsJson, MAX_PARAMS_SNIPPET_CHARS);
}

function after(call: CallRecord): string {
  return call.durationMs === null ? "" : ` after ${formatMs(call.durationMs)}`;
}
