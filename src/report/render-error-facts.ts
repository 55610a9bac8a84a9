// The "What stands out" bullet on which tools failed most: ranked by the errors the server answered with, saying what else was counted. Pure; returns text.

import { describeErrorType, isServerAnswer } from "./error-names.ts";
import { OTHER_TOOLS } from "./fold-calls.ts";
import { formatCount, formatPlural, formatRate, formatTimes, joinList, renderCode } from "./markdown-text.ts";
import { MAX_NAMED } from "./render-note-facts.ts";
import type { ToolSummary } from "./summarize-json.ts";

/** Error types listed for the worst tool. */
export const MAX_TYPES_LISTED = 3;

/**
 * The bullet on the failing tools (`failing`: {@link rankFailingTools} of `tools`), or null when no
 * named tool has an error. "Most errors" ranks by what the server answered with: a client's cancels,
 * a server exit or a connection failure are not the tool's doing; when leaving them out changes
 * what the raw counts would say, the bullet says so and names them. `pooledFailed` and `missing`:
 * see renderErrorFact.
 */
export function renderToolErrorFact(
  tools: readonly ToolSummary[],
  failing: readonly ToolSummary[],
  pooledFailed: boolean,
  missing: string | null,
): string | null {
  if (failing.length === 0) return null;
  const ranked = rankByServerErrors(tools);
  const leftOut = leftOutErrors(tools);
  if (ranked.length > 0 && rankingDiffers(failing, ranked))
    return renderServerErrorFact(ranked, pooledFailed, missing, leftOut);
  if (ranked.length > 0) return renderErrorFact(failing, pooledFailed, missing);
  const errors = failing.reduce((n, t) => n + t.errors, 0);
  // The pooled tools' errors are not told apart by kind per tool: the statement is then about the named ones.
  const calls = pooledFailed ? "No call of a tool tracked by name" : "No tool call";
  const none = missing === null ? calls : `${calls} in these events (${missing})`;
  return `- ${none} got an MCP error from the server; the ${formatPlural(errors, "error")} counted for tools ${errors === 1 ? "is" : "are"} ${leftOut ?? "of other kinds"}.`;
}

/** Tools with errors (the pooled OTHER_TOOLS row is not one): most errors first, then highest error rate, then the summary's order (most calls, name). */
export function rankFailingTools(tools: readonly ToolSummary[]): ToolSummary[] {
  const rate = (t: ToolSummary): number => t.errors / Math.max(1, t.calls);
  return tools
    .filter((t) => t.errors > 0 && t.tool !== OTHER_TOOLS)
    .sort((a, b) => b.errors - a.errors || rate(b) - rate(a));
}

/**
 * `pooledFailed`: tools past the tracked ones failed too, so no named tool is the only one, nor surely the worst.
 * `missing`: events are missing (said as "N events are missing from them"), so "only" holds only for the events read.
 */
function renderErrorFact(failing: readonly ToolSummary[], pooledFailed: boolean, missing: string | null): string {
  const [top] = failing;
  if (top === undefined) return "";
  const leaders = failing.filter((t) => t.errors === top.errors);
  if (leaders.length === 1) {
    const figures = `${formatCount(top.errors)} of ${formatPlural(top.calls, "call")} (${formatRate(top.errors / top.calls)}): ${describeTypes(top)}`;
    if (pooledFailed) return `- ${renderCode(top.tool)} had the most errors of the tools tracked by name, ${figures}.`;
    if (failing.length === 1 && missing !== null)
      return `- Of the calls in these events (${missing}), only ${renderCode(top.tool)} failed, ${figures}.`;
    return failing.length === 1
      ? `- Only ${renderCode(top.tool)} failed, ${figures}.`
      : `- ${renderCode(top.tool)} had the most errors, ${figures}.`;
  }
  const times = formatTimes(top.errors);
  if (leaders.length > MAX_NAMED)
    return `- ${formatCount(leaders.length)} tools each failed ${times}: ${joinList(
      leaders.map((t) => renderCode(t.tool)),
      MAX_NAMED,
    )}.`;
  const calls = leaders.map((t) => t.calls);
  const of = calls.every((n) => n === calls[0])
    ? `of ${formatPlural(calls[0] ?? 0, "call")} each`
    : `of ${joinList(calls.map(formatCount))} calls`;
  return `- ${joinList(leaders.map((t) => renderCode(t.tool)))} each failed ${times} (${of}).`;
}

/** A tool's figures counting only the errors the server answered with (see isServerAnswer). */
function withServerErrors(tool: ToolSummary): ToolSummary {
  const types = Object.entries(tool.error_types).filter(([type]) => isServerAnswer(type));
  return { ...tool, errors: types.reduce((n, [, count]) => n + count, 0), error_types: Object.fromEntries(types) };
}

/** The named tools with errors the server answered with, most first (then by their rate). */
function rankByServerErrors(tools: readonly ToolSummary[]): ToolSummary[] {
  return rankFailingTools(tools.filter((t) => t.tool !== OTHER_TOOLS).map(withServerErrors));
}

/** Whether leaving the other errors out changes what the raw ranking says: its leaders or their figures. */
function rankingDiffers(raw: readonly ToolSummary[], ranked: readonly ToolSummary[]): boolean {
  const leaders = (list: readonly ToolSummary[]) =>
    list
      .filter((t) => t.errors === list[0]?.errors)
      .map((t) => `${t.tool}\u0000${t.errors}`)
      .join("\u0001");
  return leaders(raw) !== leaders(ranked);
}

/** The errors of named tools that no server answer gave, per type (`cancelled by the client ×3`); null for none. */
function leftOutErrors(tools: readonly ToolSummary[]): string | null {
  const counts = new Map<string, number>();
  for (const t of tools) {
    if (t.tool === OTHER_TOOLS) continue;
    for (const [type, n] of Object.entries(t.error_types))
      if (!isServerAnswer(type)) counts.set(type, (counts.get(type) ?? 0) + n);
  }
  if (counts.size === 0) return null;
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return joinList(
    sorted.map(([type, n]) => `${describeErrorType(type) ?? renderCode(type, 60)} ×${formatCount(n)}`),
    MAX_TYPES_LISTED,
  );
}

/**
 * The leading tools by errors the server answered with, when the raw counts would name others or
 * other figures: says so, and what it left out (`leftOut`), which the bullets below explain.
 */
function renderServerErrorFact(
  ranked: readonly ToolSummary[],
  pooledFailed: boolean,
  missing: string | null,
  leftOut: string | null,
): string {
  const [top] = ranked;
  if (top === undefined) return "";
  const notCounted = leftOut === null ? "" : `; not counted here, as no MCP error from the server: ${leftOut}`;
  const leaders = ranked.filter((t) => t.errors === top.errors);
  if (leaders.length === 1) {
    const figures = `${formatCount(top.errors)} of ${formatPlural(top.calls, "call")} (${formatRate(top.errors / top.calls)}): ${describeTypes(top)}`;
    const among = pooledFailed ? " of the tools tracked by name" : "";
    if (ranked.length === 1 && !pooledFailed)
      return missing === null
        ? `- Only ${renderCode(top.tool)} got errors from the server, ${figures}${notCounted}.`
        : `- Of the calls in these events (${missing}), only ${renderCode(top.tool)} got errors from the server, ${figures}${notCounted}.`;
    return `- ${renderCode(top.tool)} had the most errors from the server${among}, ${figures}${notCounted}.`;
  }
  const times = formatTimes(top.errors);
  const names = joinList(
    leaders.map((t) => renderCode(t.tool)),
    MAX_NAMED,
  );
  return `- ${leaders.length > MAX_NAMED ? `${formatCount(leaders.length)} tools` : names} each got an error from the server ${times}${leaders.length > MAX_NAMED ? `: ${names}` : ""}${notCounted}.`;
}

/** `tool error (isError)` for one error; `JSON-RPC error -32602 (Invalid params) ×2 and server exited ×1` for more. */
function describeTypes(tool: ToolSummary): string {
  const types = Object.entries(tool.error_types);
  const name = (type: string): string => describeErrorType(type) ?? renderCode(type, 60);
  if (tool.errors === 1 && types.length === 1) return name(types[0]?.[0] ?? "");
  return joinList(
    types.map(([type, n]) => `${name(type)} ×${formatCount(n)}`),
    MAX_TYPES_LISTED,
  );
}
