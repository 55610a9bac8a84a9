// Tolerant readers and bounded holders of event values for the report fold: text, JSON, instants, capped count maps. Pure.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Distinct keys kept in a count map (error types, signal types, …); the rest pool under OTHER_KEY. */
export const MAX_COUNT_KEYS = 50;
/** Pool label for count-map keys beyond the map's cap. */
export const OTHER_KEY = "(other)";

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

const Z_CODE = 90; // "Z"
const T_CODE = 84; // "T"

/** Orders two RFC 3339 instants by time (ties and unparsable values fall back to string order). */
export function compareInstants(a: string, b: string): number {
  // Same-shaped UTC stamps (the proxy always writes 2026-11-24T07:01:26.123456Z) order as strings:
  // no parsing on the fold's hot path; anything else is parsed.
  const last = a.length - 1;
  if (
    a.length === b.length &&
    a.charCodeAt(last) === Z_CODE &&
    b.charCodeAt(last) === Z_CODE &&
    a.charCodeAt(10) === T_CODE &&
    b.charCodeAt(10) === T_CODE
  )
    return a < b ? -1 : a > b ? 1 : 0;
  const diff = Date.parse(a) - Date.parse(b);
  return Number.isFinite(diff) && diff !== 0 ? Math.sign(diff) : a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Adds `by` to `key` in `counts`; once `maxKeys` (default MAX_COUNT_KEYS) distinct keys exist, new
 * keys pool under OTHER_KEY, so the map holds at most maxKeys + 1 entries.
 */
export function addCount(counts: Map<string, number>, key: string, by = 1, maxKeys = MAX_COUNT_KEYS): void {
  const slot = counts.has(key) || counts.size < maxKeys ? key : OTHER_KEY;
  counts.set(slot, (counts.get(slot) ?? 0) + by);
}

/** A whole, positive, safe count, or null for anything else (zero, negatives, fractions, strings, NaN). */
export function readCount(value: unknown): number | null {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** A string with something other than whitespace in it, or null. */
export function readText(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** A plain (non-array) object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(clipText, compareInstants);

/**
 * The server as the report names it: the events' label (`baton/server`), with the snapshot's name
 * and version in front when the label is `--url`'s origin; either alone when the other is missing.
 */
export function describeServer(label: string | null, name: string | null): string | null {
  if (label === null || name === null || label === name) return label ?? name;
  return /^https?:\/\//.test(label) ? `${name} at ${label}` : label;
}
