// The "What stands out" bullets about what the agent said: its annotations of failing tools and its signals. Pure; returns text.

import { describeErrorType, jsonRpcCode } from "./error-names.ts";
import { OTHER_TOOLS } from "./fold-calls.ts";
import { formatCount, formatPlural, formatTimes, joinList, renderCode, renderText } from "./markdown-text.ts";
import type { AnnotationRecord, ReportState } from "./report-types.ts";
import type { ToolSummary } from "./summarize-json.ts";

/** Tools (or signals) named in one bullet; the rest are counted. */
export const MAX_NAMED = 3;
/** Signals named in the "flagged … each" bullet (a fourth fits better than "and 1 more"). */
const MAX_SIGNALS_NAMED = 4;
/** Failing tools whose annotation is quoted in a bullet of its own; further ones are only named. */
const MAX_LINKED_TOOLS = 2;
/** Characters quoted from an annotation. */
const MAX_QUOTE_CHARS = 160;

/**
 * For failing tools the agent annotated: what it said (quoted), and whether it said it after the tool failed.
 * A note the proxy made from a call's `user_goal` is no annotation by the agent (the errored call shows that goal).
 */
export function renderLinkedAnnotations(state: ReportState, failing: readonly ToolSummary[]): string[] {
  const about = (tool: string): AnnotationRecord[] =>
    state.annotations.filter((a) => a.tool === tool && !a.fromIntentParam);
  const linked = failing.filter((t) => t.tool !== OTHER_TOOLS && about(t.tool).length > 0);
  const bullets = linked.slice(0, MAX_LINKED_TOOLS).map((tool) => {
    const notes = about(tool.tool);
    const firstError = state.tools.get(tool.tool)?.firstErrorSeq ?? null;
    const after = notes.filter((a) => firstError !== null && a.seq > firstError);
    const note = pickNote(after.length > 0 ? after : notes);
    const noun = errorNoun(tool);
    const when =
      after.length === 0
        ? "before it failed"
        : `after ${tool.errors === 1 ? "its" : noun === "error" ? "an" : "a"} ${noun}`;
    const total = Math.max(state.annotationsByTool.get(tool.tool) ?? 0, notes.length);
    const said = note === undefined ? "" : describeNote(note);
    const others =
      total <= 1
        ? ""
        : said === ""
          ? ` (${formatCount(total)} annotations about it)`
          : ` (one of ${formatCount(total)} annotations about it)`;
    return `- The agent annotated ${renderCode(tool.tool)} ${when}${said === "" ? "" : `: ${said}`}${others}.`;
  });
  const rest = linked.slice(MAX_LINKED_TOOLS);
  if (rest.length > 0) {
    const names = joinList(
      rest.map((t) => renderCode(t.tool)),
      MAX_NAMED,
    );
    bullets.push(
      `- The agent also annotated ${rest.length === 1 ? "another failing tool" : `${formatCount(rest.length)} more failing tools`}: ${names}.`,
    );
  }
  return bullets;
}

/** What the tool's errors were, as a noun: its one error type when that reads as one ("JSON-RPC error -32602 (Invalid params)"), else "error". */
function errorNoun(tool: ToolSummary): string {
  const types = Object.keys(tool.error_types);
  const [only] = types;
  const isNoun = only !== undefined && types.length === 1 && (jsonRpcCode(only) !== null || only === "tool_error");
  return isNoun ? (describeErrorType(only) ?? "error") : "error";
}

/** The most telling note: the first with a suggested improvement (best with a signal too), else the first with a signal, else the first. */
function pickNote(notes: readonly AnnotationRecord[]): AnnotationRecord | undefined {
  const score = (n: AnnotationRecord): number =>
    (n.suggestedImprovement === null ? 0 : 2) + (n.signalType === null ? 0 : 1);
  return notes.reduce<AnnotationRecord | undefined>(
    (best, n) => (best === undefined || score(n) > score(best) ? n : best),
    undefined,
  );
}

/** `` `parameter_confusion` — ‘Declare status as an enum …’ `` (signal and/or the most useful text, whichever exist). */
function describeNote(note: AnnotationRecord): string {
  const text = note.suggestedImprovement ?? note.intent ?? note.expectedOutcome;
  // The bullet ends in its own full stop, so the quote drops a final one.
  const quote = text === null ? null : `‘${renderText(text, MAX_QUOTE_CHARS).replace(/\.$/, "")}’`;
  const parts = [note.signalType === null ? null : renderCode(note.signalType, 80), quote];
  return parts.filter((p) => p !== null).join(" — ");
}

/** The signals bullet: one signal, a clear leader, a tie at the top, or all signals tied. Null without signals. */
export function renderSignalFact(state: ReportState, annotations: number): string | null {
  // Map order is first appearance; the stable sort keeps it among equal counts.
  const signals = [...state.signals].filter(([signal]) => signal !== "").sort((a, b) => b[1] - a[1]);
  const [top] = signals;
  if (top === undefined) return null;
  const of = `${formatCount(top[1])} of ${formatPlural(annotations, "annotation")}`;
  if (signals.length === 1) return `- The agent flagged ${renderCode(top[0])}: ${of}.`;
  const leaders = signals.filter(([, n]) => n === top[1]).map(([signal]) => renderCode(signal));
  if (leaders.length === signals.length) {
    if (leaders.length <= MAX_SIGNALS_NAMED)
      return `- The agent flagged ${joinList(leaders)} ${formatTimes(top[1])} each.`;
    return `- The agent flagged ${formatCount(leaders.length)} signals ${formatTimes(top[1])} each: ${joinList(leaders, MAX_SIGNALS_NAMED)}.`;
  }
  if (leaders.length === 1) return `- The agent's most frequent signal was ${renderCode(top[0])}: ${of}.`;
  return `- The agent's most frequent signals were ${joinList(leaders, MAX_NAMED)}, ${formatTimes(top[1])} each (of ${formatPlural(annotations, "annotation")}).`;
}
