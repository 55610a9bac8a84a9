// The privacy stage's walk over one value: size caps (field, event, depth, items, nodes), cycles, redaction by key name and pattern. Pure, copy on write.

import type { ScrubMode } from "../config.ts";
import type { KeyMatcher } from "./scrub-keys.ts";
import { redactText, secretSafeCut } from "./scrub-patterns.ts";
import { isCardNumber } from "./scrub-validators.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Longest string value kept, in UTF-8 bytes; the rest is cut before any regex runs. */
export const MAX_FIELD_BYTES = 64 * 1024;
/**
 * String content kept per event (values, not keys), in UTF-8 bytes; later strings become `"[truncated]"`.
 * Strings shorter than a third of the remaining budget are charged their UTF-16 length (exact for ASCII).
 */
export const MAX_EVENT_BYTES = 256 * 1024;
/** Nesting kept below a scrubbed field; deeper values become `"[truncated: depth]"`. */
export const MAX_DEPTH = 32;
/** Array items / object keys kept per container; a marker entry says how many were dropped. */
export const MAX_ITEMS = 1_000;
/** Values visited per event; guards against shared sub-objects that expand exponentially (never from JSON.parse). */
export const MAX_EVENT_NODES = 100_000;
/** Object keys are cut to this many characters (keys are not charged to the byte budget). */
const MAX_KEY_CHARS = 256;
/** A budget remainder smaller than this is not worth a prefix plus marker. */
const MIN_PREFIX_BYTES = 64;
const TRUNCATED = "[truncated]";
/** Room for `...[truncated N bytes]` after the kept bytes. */
const MARKER_MAX_BYTES = 64;
const TRUNCATION_MARKER = /\.\.\.\[truncated \d+ bytes\]$/;
/** The last entry of an array / the value of the TRUNCATED key of an object this stage already cut. */
const ITEMS_MARKER = /^\[truncated: \d+ more items\]$/;
const KEYS_MARKER = /^\d+ more keys$/;

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

const encoder = new TextEncoder();
/** Reused target for cutting strings at a UTF-8 boundary; grown on demand, single-threaded use. */
let scratch = new Uint8Array(MAX_FIELD_BYTES);

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

export function guarded(run: () => unknown): unknown {
  try {
    return run();
  } catch {
    return "[unscrubbable]"; // a throwing getter or exotic proxy: drop the value rather than the event
  }
}

/** {@link guarded} visit of a top-level value, without a closure per call. */
export function visitGuarded(value: unknown, walk: Walk): unknown {
  try {
    return visit(value, 0, walk);
  } catch {
    walk.ancestors.length = 0; // a throw skipped the `finally`s of nested visits? never leave entries behind
    return "[unscrubbable]";
  }
}

export function visit(value: unknown, depth: number, walk: Walk): unknown {
  if (--walk.nodesLeft < 0) return truncated(walk, TRUNCATED);
  switch (typeof value) {
    case "string":
      return scrubString(value, walk);
    case "number":
      return walk.redact && Number.isSafeInteger(value) && value >= 1e12 && isCardNumber(String(value))
        ? count(walk, "card")
        : value;
    case "bigint":
      return visit(value.toString(), depth, walk); // JSON cannot carry a bigint; its digits may still be a card
    case "function":
    case "symbol":
      return undefined;
    case "object":
      break;
    default:
      return value; // boolean, undefined
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return truncated(walk, "[truncated: depth]");
  if (walk.ancestors.includes(value)) return truncated(walk, "[truncated: cycle]");
  walk.ancestors.push(value);
  try {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return visit(toJSON.call(value), depth, walk); // Date and friends
    // Copy on write: an array or object none of whose entries changed is returned as it is, so
    // the common event (nothing to redact, nothing to cut) costs a walk and no allocations.
    if (Array.isArray(value)) {
      // Cut once already (the hot path bounds long lines, the background scrubs them again): its
      // marker stays, with the true count, instead of being cut as "1 more items".
      const cutBefore = value.length === MAX_ITEMS + 1 && isMarker(value[MAX_ITEMS], ITEMS_MARKER);
      const kept = cutBefore ? value.length : Math.min(value.length, MAX_ITEMS);
      let out: unknown[] | undefined;
      for (let i = 0; i < kept; i++) {
        const item: unknown = value[i];
        const next = visit(item, depth + 1, walk);
        if (out === undefined && next !== item) out = value.slice(0, i);
        out?.push(next);
      }
      if (value.length <= MAX_ITEMS || cutBefore) return out ?? value;
      out ??= value.slice(0, MAX_ITEMS);
      out.push(truncated(walk, `[truncated: ${value.length - MAX_ITEMS} more items]`));
      return out;
    }
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    const cutBefore =
      keys.length === MAX_ITEMS + 1 && keys[MAX_ITEMS] === TRUNCATED && isMarker(source[TRUNCATED], KEYS_MARKER);
    const kept = cutBefore ? keys.length : Math.min(keys.length, MAX_ITEMS);
    // A Map, a class instance, a typed array…: always become a plain object of own entries (as JSON sees them).
    const proto: unknown = Object.getPrototypeOf(source);
    let out: Record<string, unknown> | undefined = proto === Object.prototype || proto === null ? undefined : {};
    for (let i = 0; i < kept; i++) {
      const key = keys[i] as string;
      let name = key.length > MAX_KEY_CHARS ? `${key.slice(0, codePointCut(key, MAX_KEY_CHARS))}...` : key;
      if (walk.redact) name = redactText(name, walk.stats.redactions); // maps keyed by email address
      const item = source[key];
      const next = visitEntry(key, item, depth + 1, walk);
      if (out === undefined && (next !== item || name !== key)) out = copyKeys(source, keys, i);
      if (out === undefined) continue;
      for (let n = 2, base = name; Object.hasOwn(out, name); n++) name = `${base}#${n}`; // two emails both became [email]
      setOwn(out, name, next);
    }
    if (keys.length <= MAX_ITEMS || cutBefore) return out ?? source;
    out ??= copyKeys(source, keys, MAX_ITEMS);
    out[TRUNCATED] = truncated(walk, `${keys.length - MAX_ITEMS} more keys`);
    return out;
  } finally {
    walk.ancestors.pop(); // always `value`: every nested visit pushed and popped its own
  }
}
// Recursive and once per event value: its FTL compile (with what it inlines) is among the largest.
keepOutOfFtl(visit, visitEntry, scrubString);

/** One object entry: the key-name rule first (an `undefined` value is absent from JSON: nothing to hide), then the value. */
function visitEntry(key: string, value: unknown, depth: number, walk: Walk): unknown {
  const keyword = walk.redact && value !== undefined ? walk.matchKey(key) : undefined;
  return keyword === undefined ? visit(value, depth, walk) : count(walk, "key", `[redacted:${keyword}]`);
}

/** Cuts to the field and event budgets first (so a 1 MiB string costs 64 KiB of regex work), then redacts. */
function scrubString(text: string, walk: Walk): string {
  if (walk.bytesLeft <= 0) return text === "" ? text : truncated(walk, TRUNCATED);
  const limit = Math.min(walk.maxFieldBytes, walk.bytesLeft);
  // UTF-8 never takes more than 3 bytes per UTF-16 unit, so short strings skip the exact count.
  const bytes = text.length * 3 <= limit ? text.length : Buffer.byteLength(text, "utf8");
  // A string this stage already cut (the proxy bounds long values on the hot path, then scrubs in
  // the background) fits with its marker: cutting it again would replace the true count.
  const alreadyCut = bytes > limit && bytes <= limit + MARKER_MAX_BYTES && TRUNCATION_MARKER.test(text);
  if (bytes <= limit || alreadyCut) {
    walk.bytesLeft -= Math.min(bytes, walk.bytesLeft);
    return walk.redact ? redactText(text, walk.stats.redactions) : text;
  }
  if (limit < MIN_PREFIX_BYTES) {
    walk.bytesLeft = 0;
    return truncated(walk, TRUNCATED);
  }
  if (scratch.length < limit + MARKER_MAX_BYTES) scratch = new Uint8Array(limit + MARKER_MAX_BYTES);
  let { read, written } = encoder.encodeInto(text, scratch.subarray(0, limit)); // stops at a whole code point
  // Never inside a secret (whatever this walk's mode: the hot path cuts, the background redacts what is left).
  const safe = secretSafeCut(text, read);
  if (safe < read) ({ read, written } = encoder.encodeInto(text.slice(0, safe), scratch));
  walk.bytesLeft -= written;
  const exactMarker = `...[truncated ${bytes - written} bytes]`;
  // The kept text is decoded from copied bytes, never text.slice(): a JSC substring keeps its whole
  // parent alive, so every queued event would pin the multi-megabyte result it was cut from. The
  // marker is decoded with it in one flat, one-byte-per-char string: a "…" would make 64 KiB of
  // ASCII two bytes per char, and a rope (kept + marker) is flattened again by every
  // JSON.stringify; either makes each write of the event 10-30x slower (measured 200 µs vs 6 µs).
  const prefix = decodeScratch(written);
  const kept = walk.redact ? redactText(prefix, walk.stats.redactions) : prefix;
  if (kept !== prefix) return truncated(walk, Buffer.from(`${kept}${exactMarker}`).toString("utf8"));
  encoder.encodeInto(exactMarker, scratch.subarray(written));
  return truncated(walk, decodeScratch(written + exactMarker.length));
}

function decodeScratch(length: number): string {
  return Buffer.from(scratch.buffer, scratch.byteOffset, length).toString("utf8");
}

/** Where `text` is cut to keep at most `cut` UTF-16 units: `cut`, or one before when that would split a surrogate pair (a lone half is not valid Unicode). */
export function codePointCut(text: string, cut: number): number {
  const code = text.charCodeAt(cut - 1);
  return code >= 0xd800 && code <= 0xdbff ? cut - 1 : cut;
}

function isMarker(value: unknown, marker: RegExp): boolean {
  return typeof value === "string" && marker.test(value);
}

function truncated(walk: Walk, marker: string): string {
  walk.stats.truncated++;
  return marker;
}

function count(walk: Walk, label: string, replacement = `[${label}]`): string {
  walk.stats.redactions[label] = (walk.stats.redactions[label] ?? 0) + 1;
  return replacement;
}

/** A new object with the first `count` entries of `source`, unchanged. */
function copyKeys(source: Record<string, unknown>, keys: readonly string[], count: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) setOwn(out, keys[i] as string, source[keys[i] as string]);
  return out;
}

/** Plain assignment of `__proto__` would replace the prototype instead of adding a key. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
