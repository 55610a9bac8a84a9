// The report's "Resources and prompts" block: requests and errors per kind, failing reads and gets, slow requests. Pure; returns text.

import { describeErrorType, stripCodePrefix } from "./error-names.ts";
import { formatCount, formatMs, renderCode, renderTimeOfDay } from "./markdown-text.ts";
import type { SubjectKind, SubjectRecord, SubjectState } from "./report-types.ts";

const KIND_LABELS: Record<SubjectKind, string> = {
  resource_read: "resources/read",
  resource_list: "resources/list",
  prompt_get: "prompts/get",
  prompt_list: "prompts/list",
};
const KIND_ORDER: readonly SubjectKind[] = ["resource_read", "resource_list", "prompt_get", "prompt_list"];
/** Characters of an error body quoted per request. */
const MAX_ERROR_CHARS = 300;

export function subjectTotal(state: SubjectState): number {
  let total = 0;
  for (const c of state.counts.values()) total += c.ok + c.errors;
  return total;
}

export function renderSubjects(state: SubjectState, slowCallMs: number, day: string | null): string | null {
  if (subjectTotal(state) === 0) return null;
  const lines = ["### Resources and prompts", "", "| Request | Count | Errors |", "| --- | ---: | ---: |"];
  for (const kind of KIND_ORDER) {
    const c = state.counts.get(kind);
    if (c !== undefined)
      lines.push(`| ${KIND_LABELS[kind]} | ${formatCount(c.ok + c.errors)} | ${formatCount(c.errors)} |`);
  }
  if (state.failuresTotal > 0) {
    const more =
      state.failuresTotal > state.failures.length
        ? ` (the ${formatCount(state.failures.length)} most recent of ${formatCount(state.failuresTotal)})`
        : "";
    lines.push("", `**Failing reads and gets${more}:**`, "");
    for (const r of state.failures) {
      const body = stripCodePrefix(r.errorType ?? "", r.errorBody ?? "");
      const name = describeErrorType(r.errorType ?? "");
      const message = body.trim() === "" ? "_no message_" : renderCode(body, MAX_ERROR_CHARS);
      lines.push(
        `- ${what(r)} — ${name ?? renderCode(r.errorType ?? "")} at ${renderTimeOfDay(r.capturedAt, day)}: ${message}`,
      );
    }
  }
  const slow = state.slowest.filter((r) => (r.durationMs ?? 0) >= slowCallMs);
  if (slow.length > 0) {
    lines.push("", `**Slow (≥ ${formatCount(slowCallMs)} ms):**`, "");
    for (const r of slow)
      lines.push(
        `- ${what(r)} took **${formatMs(r.durationMs ?? 0)}** at ${renderTimeOfDay(r.capturedAt, day)}${r.errorType === null ? "" : ` and failed (${renderCode(r.errorType)})`}`,
      );
  }
  return lines.join("\n");
}

function what(r: SubjectRecord): string {
  return describeSubject(r.kind, r.subject);
}

/** A request as the report names it: its method, then the uri or prompt name (none for lists). */
export function describeSubject(kind: SubjectKind, subject: string | null): string {
  return subject === null ? KIND_LABELS[kind] : `${KIND_LABELS[kind]} ${renderCode(subject)}`;
}
