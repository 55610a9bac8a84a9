// The privacy stage's walk over one value: depth, item and node caps, cycles, key-name redaction, numbers that are card numbers; strings are scrub-string.ts's, budgets scrub-walk-state.ts's. Pure, copy on write.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import { secretSafeCut } from "./scrub-cut.ts";
import { redactText } from "./scrub-patterns.ts";
import { scrubString } from "./scrub-string.ts";
import { isCardNumber } from "./scrub-validators.ts";
import { count, MAX_DEPTH, MAX_ITEMS, TRUNCATED, truncated, type Walk } from "./scrub-walk-state.ts";

/** Object keys are cut to this many characters (keys are not charged to the byte budget). */
const MAX_KEY_CHARS = 256;
/** The last entry of an array / the value of the TRUNCATED key of an object this stage already cut. */
const ITEMS_MARKER = /^\[truncated: \d+ more items\]$/;
const KEYS_MARKER = /^\d+ more keys$/;

/** Runs `run`; a throw (a throwing getter, an exotic proxy) gives `"[unscrubbable]"` instead. */
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
  if (RawJson.isRawJSON(value)) return rawNumber(value, walk);
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
      let name = key.length > MAX_KEY_CHARS ? cutKey(key) : key;
      if (walk.redact) name = redactText(name, walk.stats.redactions); // maps keyed by email address
      const item = source[key];
      const next = visitEntry(key, item, depth + 1, walk, source);
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
// (scrubString, marked with them before, is marked in scrub-string.ts.)
keepOutOfFtl(visit, visitEntry);

/** JSON.parse source text access (see proxy/canonical-json.ts), not yet in TypeScript's lib. */
const RawJson = JSON as unknown as { isRawJSON(value: unknown): value is { readonly rawJSON: string } };
/** An integer of a card number's length (13 to 19 digits): as written, past 2^53 too. */
const CARD_LENGTH_INTEGER = /^\d{13,19}$/;

/**
 * A number kept as written (a `JSON.rawJSON` value: `1.0`, an integer past 2^53) is a number to
 * the walk: kept as it is, unless its digits are a card number (one past 2^53, such as a 19-digit
 * card, would otherwise be written out whole). Never walked as an object: that would make it one.
 */
function rawNumber(value: { readonly rawJSON: string }, walk: Walk): unknown {
  const lexeme = value.rawJSON;
  return walk.redact && CARD_LENGTH_INTEGER.test(lexeme) && isCardNumber(lexeme) ? count(walk, "card") : value;
}

/** One object entry of `source`: the key-name rule first (an `undefined` value is absent from JSON: nothing to hide), then the value. */
function visitEntry(key: string, value: unknown, depth: number, walk: Walk, source: Record<string, unknown>): unknown {
  let keyword = walk.redact && value !== undefined ? walk.matchKey(key) : undefined;
  if (keyword === undefined && key === "value" && walk.redact) keyword = pairKeyword(source, walk);
  return keyword === undefined ? visit(value, depth, walk) : count(walk, "key", `[redacted:${keyword}]`);
}

/**
 * The keyword of a name/value pair's secret name: headers, env vars and form fields are often
 * lists of `{"name": "Authorization", "value": …}` (HAR, fetch tools, Kubernetes env) or
 * `{"key": "password", "value": …}` (Postman), where the secret's name is data, not a key.
 */
function pairKeyword(source: Record<string, unknown>, walk: Walk): string | undefined {
  const name = typeof source.name === "string" ? source.name : source.key;
  return typeof name === "string" ? walk.matchKey(name) : undefined;
}
/** A key cut to MAX_KEY_CHARS, never inside a secret (a map keyed by URLs or messages: half a token would no longer match its pattern). */
function cutKey(key: string): string {
  return `${key.slice(0, secretSafeCut(key, codePointCut(key, MAX_KEY_CHARS)))}...`;
}

/** Where `text` is cut to keep at most `cut` UTF-16 units: `cut`, or one before when that would split a surrogate pair (a lone half is not valid Unicode). */
export function codePointCut(text: string, cut: number): number {
  const code = text.charCodeAt(cut - 1);
  return code >= 0xd800 && code <= 0xdbff ? cut - 1 : cut;
}

function isMarker(value: unknown, marker: RegExp): boolean {
  return typeof value === "string" && marker.test(value);
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
