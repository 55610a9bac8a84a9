// The privacy stage: walks event payloads, bounds their size, and redacts secrets/PII before any sink sees them. Pure: never mutates its input, never touches the MCP wire.

import type { ScrubMode } from "../config.ts";
import { META_SCRUBBED, META_TRUNCATED, type BatonEvent, type EventType } from "./event-types.ts";
import { createKeyMatcher, type KeyMatcher } from "./scrub-keys.ts";
import { redactText } from "./scrub-patterns.ts";
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
/** `_meta` keys that are correlation handles, not data: kept verbatim (as are the proxy's own `baton/` keys). */
const VERBATIM_META_KEYS = new Set(["progressToken", "traceparent", "tracestate"]);
/** Payload fields that are identifiers or enums chosen by the proxy or server, kept verbatim. */
const VERBATIM_PAYLOAD_KEYS: Record<EventType, readonly string[]> = {
  tool_call_start: ["tool_name", "intent_source"],
  tool_call_end: ["tool_name", "duration_ms"],
  tool_call_error: ["tool_name", "error_type", "duration_ms"],
  annotation: [],
  surface_snapshot: ["surface_hash"],
  resource_read_start: [],
  resource_read_end: ["duration_ms"],
  resource_read_error: ["error_type", "duration_ms"],
  resource_list_start: [],
  resource_list_end: ["count", "duration_ms"],
  resource_list_error: ["error_type", "duration_ms"],
  prompt_get_start: ["name"],
  prompt_get_end: ["name", "duration_ms"],
  prompt_get_error: ["name", "error_type", "duration_ms"],
  prompt_list_start: [],
  prompt_list_end: ["count", "duration_ms"],
  prompt_list_error: ["error_type", "duration_ms"],
};

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

interface Walk {
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
/** Shared by every `scrubValue` call without extra keys (the proxy bounds each call's params with one). */
const DEFAULT_KEY_MATCHER = createKeyMatcher([]);
/** Reused target for cutting strings at a UTF-8 boundary; grown on demand, single-threaded use. */
let scratch = new Uint8Array(MAX_FIELD_BYTES);

/**
 * Returns a scrubbed, size-bounded copy of a JSON-ish value; `stats` (when given) is added to.
 * Never mutates `value` and never throws: an unreadable value becomes `"[unscrubbable]"`.
 */
export function scrubValue(value: unknown, options: ScrubOptions, stats?: ScrubStats): unknown {
  const matchKey = options.extraKeys.length === 0 ? DEFAULT_KEY_MATCHER : createKeyMatcher(options.extraKeys);
  const walk = startWalk(options, matchKey, stats ?? { redactions: {}, truncated: 0 });
  return guarded(() => visit(value, 0, walk));
}

/**
 * Builds the event-level scrubber the dispatcher runs on every event before the sinks. Envelope
 * fields pass unchanged; payload texts, params/result/context and `runtime_meta` (except `baton/`
 * keys and trace handles) are scrubbed; `surface_snapshot` payloads are only size-bounded (vendor
 * text, not user data). Marks the event with `runtime_meta["baton/scrubbed"]` (counts by label, only
 * if something was redacted) and `runtime_meta["baton/truncated"]` (count, only if something was cut).
 */
export function createEventScrubber(options: ScrubOptions): (event: BatonEvent) => BatonEvent {
  // One walk at a time (the scrubber never re-enters), reset per event rather than allocated: its
  // ancestors are empty again after every walk, and its redaction counts are handed to the event
  // that has some (then replaced) or left empty.
  const walk = startWalk(options, createKeyMatcher(options.extraKeys), { redactions: {}, truncated: 0 });
  const maxEventBytes = walk.bytesLeft;
  const scrubEvent = (event: BatonEvent): BatonEvent => {
    walk.bytesLeft = maxEventBytes;
    walk.nodesLeft = MAX_EVENT_NODES;
    walk.stats.truncated = 0;
    if (hasOwnKeys(walk.stats.redactions)) walk.stats = { redactions: {}, truncated: 0 }; // an earlier event threw midway
    walk.redact = options.mode === "on" && event.event_type !== "surface_snapshot";
    const source = (typeof event.payload === "object" && event.payload !== null ? event.payload : {}) as Record<
      string,
      unknown
    >;
    const verbatim = VERBATIM_PAYLOAD_KEYS[event.event_type] ?? NO_KEYS;
    // Scalars first so one huge `result` cannot starve short texts of the byte budget. (Two passes
    // over the keys, no closures or key arrays: this runs for every event.)
    const keys = Object.keys(source);
    let payload = scrubFields(source, keys, verbatim, false, walk, undefined);
    payload = scrubFields(source, keys, verbatim, true, walk, payload);
    if (event.event_type === "surface_snapshot" && Array.isArray(source.tools) && !source.tools.every(isObject)) {
      payload ??= { ...source };
      payload.tools = (payload.tools as unknown[]).filter(isObject); // schema: objects only
    }
    walk.redact = options.mode === "on";
    let meta = scrubMeta(event.runtime_meta, walk);
    const { redactions, truncated } = walk.stats;
    const redacted = hasOwnKeys(redactions);
    if (redacted || truncated > 0) {
      meta = { ...meta };
      if (redacted) {
        meta[META_SCRUBBED] = redactions; // now the event's: the next walk counts into a new object
        walk.stats = { redactions: {}, truncated: 0 };
      }
      // Adds to a count the proxy's hot-path bound may already have set.
      if (truncated > 0)
        meta[META_TRUNCATED] = truncated + (typeof meta[META_TRUNCATED] === "number" ? meta[META_TRUNCATED] : 0);
    }
    if (payload === undefined && meta === event.runtime_meta) return event;
    return { ...event, runtime_meta: meta, payload: payload ?? source } as BatonEvent;
  };
  // Once per event, straight-line around copies and calls (visit does the walking): among the
  // largest FTL compiles for little gain (see runtime/jit-tiers.ts). Covers every scrubber's closure.
  keepOutOfFtl(scrubEvent);
  return scrubEvent;
}

const NO_KEYS: readonly string[] = [];

/** `Object.keys(value).length > 0` without building the array. */
function hasOwnKeys(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/**
 * One pass over the payload's scalar (`containers` false) or container fields; returns the copy
 * made on the first change (or `payload`, the earlier pass's copy). Verbatim keys are a list of at
 * most three: `includes` on it is cheaper than a Set lookup per key.
 */
function scrubFields(
  source: Record<string, unknown>,
  keys: readonly string[],
  verbatim: readonly string[],
  containers: boolean,
  walk: Walk,
  payload: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  for (const key of keys) {
    const value = source[key];
    if ((typeof value === "object" && value !== null) !== containers || verbatim.includes(key)) continue;
    const next = visitGuarded(value, walk);
    if (next === value) continue;
    payload ??= { ...source };
    payload[key] = next;
  }
  return payload;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function startWalk(options: ScrubOptions, matchKey: KeyMatcher, stats: ScrubStats, ancestors: object[] = []): Walk {
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

function guarded(run: () => unknown): unknown {
  try {
    return run();
  } catch {
    return "[unscrubbable]"; // a throwing getter or exotic proxy: drop the value rather than the event
  }
}

/** {@link guarded} visit of a top-level value, without a closure per call. */
function visitGuarded(value: unknown, walk: Walk): unknown {
  try {
    return visit(value, 0, walk);
  } catch {
    walk.ancestors.length = 0; // a throw skipped the `finally`s of nested visits? never leave entries behind
    return "[unscrubbable]";
  }
}

/** `runtime_meta` scrubbed (null when it is not an object); the same object when nothing changed. Never throws. */
function scrubMeta(meta: Record<string, unknown> | null, walk: Walk): Record<string, unknown> | null {
  try {
    return scrubMetaEntries(meta, walk);
  } catch {
    walk.ancestors.length = 0;
    return null;
  }
}

function scrubMetaEntries(meta: Record<string, unknown> | null, walk: Walk): Record<string, unknown> | null {
  if (meta === null || typeof meta !== "object") return null;
  // Usually only the proxy's own keys: nothing to copy or walk.
  let clientKeys = false;
  for (const key of Object.keys(meta)) if (!key.startsWith("baton/") && !VERBATIM_META_KEYS.has(key)) clientKeys = true;
  if (!clientKeys) return meta;
  const out: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(meta)) {
    setOwn(key.startsWith("baton/") || VERBATIM_META_KEYS.has(key) ? out : rest, key, meta[key]);
  }
  // The rest is the client's `_meta`: scrubbed like params (key rule, patterns, caps).
  const scrubbed = visitGuarded(rest, walk);
  if (scrubbed === rest) return meta; // nothing changed: keep the original object
  return isObject(scrubbed) ? Object.assign(out, scrubbed) : out;
}

function visit(value: unknown, depth: number, walk: Walk): unknown {
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
      const kept = Math.min(value.length, MAX_ITEMS);
      let out: unknown[] | undefined;
      for (let i = 0; i < kept; i++) {
        const item: unknown = value[i];
        const next = visit(item, depth + 1, walk);
        if (out === undefined && next !== item) out = value.slice(0, i);
        out?.push(next);
      }
      if (value.length <= MAX_ITEMS) return out ?? value;
      out ??= value.slice(0, MAX_ITEMS);
      out.push(truncated(walk, `[truncated: ${value.length - MAX_ITEMS} more items]`));
      return out;
    }
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    const kept = Math.min(keys.length, MAX_ITEMS);
    // A Map, a class instance, a typed array…: always become a plain object of own entries (as JSON sees them).
    const proto: unknown = Object.getPrototypeOf(source);
    let out: Record<string, unknown> | undefined = proto === Object.prototype || proto === null ? undefined : {};
    for (let i = 0; i < kept; i++) {
      const key = keys[i] as string;
      let name = key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}...` : key;
      if (walk.redact) name = redactText(name, walk.stats.redactions); // maps keyed by email address
      const item = source[key];
      const next = visitEntry(key, item, depth + 1, walk);
      if (out === undefined && (next !== item || name !== key)) out = copyKeys(source, keys, i);
      if (out === undefined) continue;
      for (let n = 2, base = name; Object.hasOwn(out, name); n++) name = `${base}#${n}`; // two emails both became [email]
      setOwn(out, name, next);
    }
    if (keys.length <= MAX_ITEMS) return out ?? source;
    out ??= copyKeys(source, keys, MAX_ITEMS);
    out[TRUNCATED] = truncated(walk, `${keys.length - MAX_ITEMS} more keys`);
    return out;
  } finally {
    walk.ancestors.pop(); // always `value`: every nested visit pushed and popped its own
  }
}
// Recursive and once per event value: its FTL compile (with what it inlines) is among the largest.
keepOutOfFtl(visit);

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
  const { written } = encoder.encodeInto(text, scratch.subarray(0, limit)); // stops at a whole code point
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
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
