// The privacy stage: walks event payloads, bounds their size, and redacts secrets/PII before any sink sees them. Pure: never mutates its input, never touches the MCP wire.

import { META_SCRUBBED, META_TRUNCATED, type BatonEvent, type EventType } from "./event-types.ts";
import { createKeyMatcher } from "./scrub-keys.ts";
import { cutIdentifier } from "./scrub-string.ts";
import { guarded, setOwn, visit, visitGuarded } from "./scrub-walk.ts";
import { MAX_EVENT_NODES, startWalk, type ScrubOptions, type ScrubStats, type Walk } from "./scrub-walk-state.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export {
  MAX_DEPTH,
  MAX_EVENT_BYTES,
  MAX_EVENT_NODES,
  MAX_FIELD_BYTES,
  MAX_IDENTIFIER_BYTES,
  MAX_ITEMS,
  type ScrubOptions,
  type ScrubStats,
} from "./scrub-walk-state.ts";

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

/** Shared by every `scrubValue` call without extra keys (the proxy bounds each call's params with one). */
const DEFAULT_KEY_MATCHER = createKeyMatcher([]);

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
 * fields and identifiers (tool names, `_meta`'s correlation keys, `baton/` keys) are never redacted,
 * only cut past MAX_IDENTIFIER_BYTES (`agent_runtime` is the client's text); payload texts, params/result/context and `runtime_meta` (except `baton/`
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
      const tools = payload.tools as unknown[];
      payload.tools = tools.filter(isObject); // schema: objects only
      // Counted as cut: the stored surface no longer re-hashes to surface_hash, and the mark says why.
      walk.stats.truncated += tools.length - (payload.tools as unknown[]).length;
    }
    walk.redact = options.mode === "on";
    const agentRuntime = cutIdentifier(event.agent_runtime, walk) as string;
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
    if (payload === undefined && meta === event.runtime_meta && agentRuntime === event.agent_runtime) return event;
    return { ...event, agent_runtime: agentRuntime, runtime_meta: meta, payload: payload ?? source } as BatonEvent;
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
    if ((typeof value === "object" && value !== null) !== containers) continue;
    const next = verbatim.includes(key) ? cutIdentifier(value, walk) : visitGuarded(value, walk);
    if (next === value) continue;
    payload ??= { ...source };
    payload[key] = next;
  }
  return payload;
}

/** The proxy's own `baton/` keys and the correlation handles: never redacted, only cut when too long. */
const isVerbatimMetaKey = (key: string): boolean => key.startsWith("baton/") || VERBATIM_META_KEYS.has(key);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

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
  // Usually only the proxy's own keys, of identifier size: nothing to copy or walk.
  let clientKeys = false;
  let cuts: Record<string, unknown> | undefined;
  for (const key of Object.keys(meta)) {
    if (!isVerbatimMetaKey(key)) clientKeys = true;
    else {
      const value = cutIdentifier(meta[key], walk);
      if (value !== meta[key]) setOwn((cuts ??= {}), key, value);
    }
  }
  if (!clientKeys && cuts === undefined) return meta;
  const out: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(meta)) {
    if (!isVerbatimMetaKey(key)) setOwn(rest, key, meta[key]);
    else setOwn(out, key, cuts !== undefined && Object.hasOwn(cuts, key) ? cuts[key] : meta[key]);
  }
  if (!clientKeys) return out;
  // The rest is the client's `_meta`: scrubbed like params (key rule, patterns, caps).
  const scrubbed = visitGuarded(rest, walk);
  if (scrubbed === rest && cuts === undefined) return meta; // nothing changed: keep the original object
  if (isObject(scrubbed)) for (const key of Object.keys(scrubbed)) setOwn(out, key, scrubbed[key]); // not Object.assign: "__proto__"
  return out;
}
// Called from scrubEvent (kept in DFG, which inlines them): no FTL compile of their own.
keepOutOfFtl(hasOwnKeys, scrubFields, scrubMetaEntries);
