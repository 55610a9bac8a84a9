// Inline Markdown building blocks for the report: escaping, code spans, times, durations, counts and lists. Pure; no block layout.

import { clipText } from "./fold-values.ts";

/** Line breaks of every kind (CR, LF, NEL, LS, PS), collapsed to one space in inline text. */
const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
/**
 * C0/C1 control characters (other than the line breaks above) and the bidi embeddings, overrides
 * and isolates (a tool name or error with U+202E shows reversed text in a viewer or terminal),
 * shown as spaces.
 */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** ASCII punctuation that could start Markdown syntax mid-line or end a table cell; `&` only where it would start an entity. */
const MARKDOWN_SPECIALS = /[\\`*_[\]<>|~]|&(?=#?[0-9A-Za-z]+;)/g;

/**
 * Plain text safe anywhere inline, including a table cell: one line, at most `maxChars` characters
 * (cut marked with "…"), Markdown and HTML-ish characters backslash-escaped.
 */
export function renderText(value: string, maxChars: number): string {
  return clipText(oneLine(value), maxChars).replace(MARKDOWN_SPECIALS, (c) => `\\${c}`);
}

/**
 * An inline code span of `value` on one line, cut at `maxChars` (default: no cut). The fence is
 * longer than any backtick run inside, so backticks in names and JSON are shown as-is. Not for
 * table cells (a `|` inside would split the cell); use renderText there.
 */
export function renderCode(value: string, maxChars = Number.POSITIVE_INFINITY): string {
  const text = clipText(oneLine(value), maxChars);
  if (text.trim() === "") return "_(empty)_";
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || (text.startsWith(" ") && text.endsWith(" ")) ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * The parts of an RFC 3339 instant: `2026-08-10`, `22:09:47`, the milliseconds `509` (digits beyond
 * cut, missing ones as 0, like Date.parse), `UTC` (or the offset); null if it is not one.
 */
export function formatInstant(value: string): { date: string; clock: string; millis: string; zone: string } | null {
  const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/.exec(value);
  if (match === null) return null;
  const [, date = "", clock = "", fraction = "", zone = ""] = match;
  return { date, clock, millis: fraction.slice(0, 3).padEnd(3, "0"), zone: zone.toUpperCase() === "Z" ? "UTC" : zone };
}

/** Time of day for an event (`22:09:47`), with the date when it differs from `day`; escaped raw text if unparsable. */
export function renderTimeOfDay(value: string, day: string | null): string {
  const parts = formatInstant(value);
  if (parts === null) return value === "" ? "an unknown time" : renderText(value, 40);
  return parts.date === day ? parts.clock : `${parts.date} ${parts.clock}`;
}

/** A duration for humans: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 14 min`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  // Each unit is chosen from the rounded value, so 999.6 ms is never "1000 ms" nor 59 960 ms "60.0 s".
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.max(60, Math.floor(ms / 1000));
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

/** A whole number with thousands separators: `3,000`. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A count and its noun, with a plain English plural: `1 call`, `3 calls`. */
export function formatPlural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : pluralNoun}`;
}

/**
 * A fraction 0..1 as a percentage with one decimal: `33.3%`. Only none is `0.0%` and only all is
 * `100.0%`: 1 error in 3,000 calls is `<0.1%`, 2,999 in 3,000 `>99.9%` (rounded, each said the opposite).
 */
export function formatRate(fraction: number): string {
  const text = (fraction * 100).toFixed(1);
  if (text === "0.0" && fraction > 0) return "<0.1%";
  if (text === "100.0" && fraction < 1) return ">99.9%";
  return `${text}%`;
}

/** How often, in words: `once`, `twice`, `3 times`. */
export function formatTimes(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${formatCount(n)} times`;
}

/** Items as an English list (`a`, `a and b`, `a, b and c`); beyond `max` the rest are counted: `a, b and 3 more`. */
export function joinList(items: readonly string[], max = Number.POSITIVE_INFINITY): string {
  const shown = items.length > max ? [...items.slice(0, max), `${formatCount(items.length - max)} more`] : [...items];
  const last = shown.pop();
  if (last === undefined) return "";
  return shown.length === 0 ? last : `${shown.join(", ")} and ${last}`;
}

function oneLine(value: string): string {
  return value.replace(LINE_BREAKS, " ").replace(CONTROL_CHARS, " ");
}
