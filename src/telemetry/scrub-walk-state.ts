// One scrub walk's state and limits: the size caps, the byte and node budgets left, what it removed, the path it is on, and the counting of markers and redactions. Pure; walks nothing itself.

import type { ScrubMode } from "../config.ts";
import type { KeyMatcher } from "./scrub-keys.ts";

/** Longest string value kept, in UTF-8 bytes; the rest is cut before any regex runs. */
export const MAX_FIELD_BYTES = 64 * 1024;
/**
 * String content kept per event (values, not keys), in UTF-8 bytes; later strings become `"[truncated]"`.
 * Strings shorter than a third of the remaining budget are charged their UTF-16 length (exact for ASCII).
 */
export const MAX_EVENT_BYTES = 256 * 1024;
/**
 * Longest identifier a peer chose that an event keeps verbatim (never redacted): the client's and the
 * server's names, tool and prompt names, the JSON-RPC id, progress tokens, trace headers. Real ones are
 * tens of characters (MCP asks at most 128 for a tool name); a longer one is cut to this many UTF-8 bytes.
 */
export const MAX_IDENTIFIER_BYTES = 1024;
/** Nesting kept below a scrubbed field; deeper values become `"[truncated: depth]"`. */
export const MAX_DEPTH = 32;
/** Array items / object keys kept per container; a marker entry says how many were dropped. */
export const MAX_ITEMS = 1_000;
/** Values visited per event; guards against shared sub-objects that expand exponentially (never from JSON.parse). */
export const MAX_EVENT_NODES = 100_000;
/** Stands for a value cut whole (a string past the event budget, a value past the node cap); also the key counting an object's dropped keys. */
export const TRUNCATED = "[truncated]";

export interface ScrubOptions {
  /** `"on"` redacts by value pattern and key name; `"off"` only bounds sizes. */
  mode: ScrubMode;
  /** Extra secret key names (`Config.scrubKeys`), matched on the whole normalised key. */
  extraKeys: readonly string[];
  /** Defaults to {@link MAX_FIELD_BYTES}. */
  maxFieldBytes?: number;
  /** Defaults to {@link MAX_EVENT_BYTES}. */
  maxEventBytes?: number;
}

/** What a scrub removed: redactions by label (`email`, `token`, …, `key` for the key-name rule) and truncations. */
export interface ScrubStats {
  redactions: Record<string, number>;
  truncated: number;
}

/** One event's walk: its mode, key matcher, budgets left and counts; mutated as the walk goes. */
export interface Walk {
  redact: boolean;
  readonly matchKey: KeyMatcher;
  readonly maxFieldBytes: number;
  bytesLeft: number;
  nodesLeft: number;
  stats: ScrubStats;
  /** The objects on the path to the value being visited (depth ≤ MAX_DEPTH: a short array beats a Set's hashing). */
  readonly ancestors: object[];
}

/** A fresh walk for one event: budgets full, `stats` counted into, `ancestors` reused (empty) when given. */
export function startWalk(
  options: ScrubOptions,
  matchKey: KeyMatcher,
  stats: ScrubStats,
  ancestors: object[] = [],
): Walk {
  return {
    redact: options.mode === "on",
    matchKey,
    maxFieldBytes: options.maxFieldBytes ?? MAX_FIELD_BYTES,
    bytesLeft: options.maxEventBytes ?? MAX_EVENT_BYTES,
    nodesLeft: MAX_EVENT_NODES,
    stats,
    ancestors,
  };
}

/** Counts a truncation; returns `marker` to stand for what was cut. */
export function truncated(walk: Walk, marker: string): string {
  walk.stats.truncated++;
  return marker;
}

/** Counts a redaction under `label`; returns `replacement` (default `[label]`) to stand for the value. */
export function count(walk: Walk, label: string, replacement = `[${label}]`): string {
  walk.stats.redactions[label] = (walk.stats.redactions[label] ?? 0) + 1;
  return replacement;
}
