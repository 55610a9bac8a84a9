// The report's title and header bullets: session, client, server, time window, totals, dropped events, privacy counts. Pure; returns text.

import { OTHER_KEY } from "./fold-values.ts";
import {
  formatCount,
  formatInstant,
  formatMs,
  formatPlural,
  formatRate,
  renderCode,
  renderText,
} from "./markdown-text.ts";
import type { ReportSummary } from "./summarize-json.ts";

/** Windows shorter than this show milliseconds, so the clock times visibly add up to the duration. */
const MILLIS_WINDOW_MS = 60_000;
/** Nouns (singular, plural) for the privacy stage's redaction labels (src/telemetry/scrub-patterns.ts, `key` from scrub.ts). */
const REDACTION_NOUNS = new Map<string, readonly [string, string]>([
  ["email", ["email", "emails"]],
  ["token", ["token", "tokens"]],
  ["jwt", ["JWT", "JWTs"]],
  ["private_key", ["private key", "private keys"]],
  ["credentials", ["credential", "credentials"]],
  ["key", ["secret-named field", "secret-named fields"]],
  ["iban", ["IBAN", "IBANs"]],
  ["card", ["card number", "card numbers"]],
  ["phone", ["phone number", "phone numbers"]],
  ["ip", ["IP address", "IP addresses"]],
  [OTHER_KEY, ["other value", "other values"]],
]);

/** `## Baton friction report` and its bullet list; `toolCallsUnrecorded`: why no tool call is recorded at all (no counts are shown then). */
export function renderHeader(summary: ReportSummary, live = false, toolCallsUnrecorded?: string): string {
  const { totals } = summary;
  const lines = ["## Baton friction report", ""];
  lines.push(`- **Session:** ${summary.session_id === null ? "—" : renderCode(summary.session_id)}`);
  lines.push(`- **Client:** ${summary.client === null ? "unknown" : renderText(summary.client, 200)}`);
  lines.push(`- **Server:** ${summary.server === null ? "unknown" : renderText(summary.server, 200)}`);
  lines.push(`- **Window:** ${renderWindow(summary.window)}`);
  const rate = totals.calls === 0 ? "" : ` (${formatRate(totals.errors / totals.calls)})`;
  // Live, a call without an outcome is in flight (see renderFacts).
  const pendingLabel = live ? "In flight" : "No outcome";
  const pending = totals.no_outcome > 0 ? ` · **${pendingLabel}:** ${formatCount(totals.no_outcome)}` : "";
  lines.push(
    toolCallsUnrecorded === undefined
      ? `- **Calls:** ${formatCount(totals.calls)} · **Errors:** ${formatCount(totals.errors)}${rate}${pending}`
      : `- **Calls:** not recorded (${toolCallsUnrecorded})`,
  );
  lines.push(`- **Annotations:** ${formatCount(totals.annotations)}`);
  if (totals.dropped_events > 0) {
    lines.push(
      `- **Dropped events:** ${formatCount(totals.dropped_events)} (missing from the events read: gaps in their sequence numbers; the figures below may undercount)`,
    );
  }
  const privacy = renderPrivacy(summary);
  if (privacy !== null) lines.push(`- ${privacy}`);
  return lines.join("\n");
}

/** `2026-11-24 07:54:17.215 → 07:54:18.448 UTC (1.2 s)`; whole seconds from a minute on; the date again when it changes. */
function renderWindow(window: ReportSummary["window"]): string {
  const first = window.first === null ? null : formatInstant(window.first);
  const last = window.last === null ? null : formatInstant(window.last);
  if (first === null || last === null) {
    return window.first === null
      ? "no events yet"
      : `${renderText(window.first, 40)} → ${renderText(window.last ?? "", 40)}`;
  }
  const millis = window.duration_ms !== null && window.duration_ms < MILLIS_WINDOW_MS;
  const clock = (parts: { clock: string; millis: string }): string =>
    millis ? `${parts.clock}.${parts.millis}` : parts.clock;
  const end = first.date === last.date && first.zone === last.zone ? clock(last) : `${last.date} ${clock(last)}`;
  const length = window.duration_ms === null ? "" : ` (${formatMs(window.duration_ms)})`;
  return `${first.date} ${clock(first)} → ${end} ${last.zone}${length}`;
}

/** `**Redacted before storage:** 1 email, 2 tokens · **Truncated values:** 3`, or null when nothing was redacted or cut. */
function renderPrivacy(summary: ReportSummary): string | null {
  const parts: string[] = [];
  const redacted = Object.entries(summary.redactions).map(([label, n]) => {
    const nouns = REDACTION_NOUNS.get(label);
    return nouns === undefined ? `${formatCount(n)} × ${renderCode(label)}` : formatPlural(n, nouns[0], nouns[1]);
  });
  if (redacted.length > 0) parts.push(`**Redacted before storage:** ${redacted.join(", ")}`);
  if (summary.totals.truncated_values > 0)
    parts.push(`**Truncated values:** ${formatCount(summary.totals.truncated_values)}`);
  return parts.length === 0 ? null : parts.join(" · ");
}
