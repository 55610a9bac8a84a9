// Python-compatible canonical JSON and the `sha256:` surface hash, built from JSON text with numbers kept as written (as are the events' values). Pure.

import { QUOTE, BACKSLASH } from "../wire/json-codes.ts";
import { scalarEnd } from "../wire/json-bytes.ts";
import { decodeUtf8 } from "../wire/utf8.ts";

/** JSON.parse source text access (TC39 stage 3; in Bun's JavaScriptCore), not yet in TypeScript's lib. */
const RawJson = JSON as unknown as {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): value is { rawJSON: string };
};

/**
 * Parses JSON text keeping every number as the server wrote it: a number JSON.parse would change
 * becomes a `JSON.rawJSON` value holding its source lexeme, so `1.0` stays `1.0` (JSON.parse
 * would make it `1`) both for hashing and when the value is serialised again (JSON.stringify
 * writes raw values verbatim). Use `isPlainObject`, not `isObject`, on such a tree.
 * Throws SyntaxError on invalid JSON, like JSON.parse.
 */
export function parseKeepingNumbers(text: string): unknown {
  // JavaScriptCore's reviver walk costs ten times the parse itself (a 2 MB list of 10 000 tools:
  // ~230 ms against ~20): text whose every number JSON.parse keeps as written needs none.
  if (numbersKeptByParse(text)) return JSON.parse(text);
  // Only numbers JavaScript would write differently (1.0, 1e5, -0, big integers) become raw values:
  // the rest stay plain numbers, which print the same and surprise no consumer. A float lexeme JS
  // writes back unchanged yet holding an integer (`1e+21`) is raw too: as a plain number it would
  // be hashed as an integer, where Python keeps a float.
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === "number" &&
    typeof context?.source === "string" &&
    (String(value) !== context.source || (Number.isInteger(value) && /[.eE]/.test(context.source)))
      ? RawJson.rawJSON(context.source)
      : value,
  );
}

/**
 * Whether the JSON `bytes` hold a number JSON.parse would write back differently (`1.0`, `1E2`,
 * `-0`, integers past 2^53): only then does a value taken from them for an event need
 * {@link parseKeepingNumbers}, three times slower than JSON.parse. Digits inside strings do not
 * count. Never throws; text that is not JSON gives an answer of no meaning.
 */
export function holdsChangedNumbers(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === QUOTE) {
      i = closingQuote(bytes, i + 1);
    } else if (byte === 0x2d || (byte >= 0x30 && byte <= 0x39)) {
      const end = scalarEnd(bytes, i);
      if (end < 0) return false;
      // Short plain integers (most numbers) are exact and print the same: no text made for them.
      // JavaScript prints no number in more than 25 characters: a longer lexeme always changes.
      if (end - i > MAX_NUMBER_CHARS) return true;
      if (end - i > 15 || !isPlainInteger(bytes, i, end)) {
        const lexeme = String.fromCharCode(...bytes.subarray(i, end));
        if (String(Number(lexeme)) !== lexeme) return true;
      }
      i = end - 1;
    }
  }
  return false;
}

/**
 * Levels of nesting past which the proxy leaves an answer as it came (no tools or paragraph added,
 * no surface hashed): parsing it keeping numbers and writing it canonically recurse once per level,
 * and the compiled binary's stack ends between 3 000 and 8 000 levels. Python's json, whose text the
 * surface hash matches, refuses about 1 000 anyway; no real schema comes near.
 */
export const MAX_REWRITE_DEPTH = 1_000;

/** Whether the JSON `bytes` nest arrays and objects more than `limit` levels deep (brackets inside strings do not count). Never throws. */
export function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte === QUOTE) i = closingQuote(bytes, i + 1);
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}

/** Where the string whose content starts at `from` ends (its closing quote; the length when none): found natively, most of a result is strings. */
function closingQuote(bytes: Uint8Array, from: number): number {
  for (let quote = bytes.indexOf(QUOTE, from); quote >= 0; quote = bytes.indexOf(QUOTE, quote + 1)) {
    let slashes = 0;
    while (quote - slashes > from && bytes[quote - slashes - 1] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote;
  }
  return bytes.length;
}

/** The longest text JavaScript writes for a number (`-1.2345678901234567e-100`). */
const MAX_NUMBER_CHARS = 25;

/** `bytes[start, end)` is an integer without a fraction or exponent, and not `-0`. */
function isPlainInteger(bytes: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const byte = bytes[k] as number;
    if (byte < 0x30 || byte > 0x39) {
      if (k !== start || byte !== 0x2d) return false;
    }
  }
  return !(bytes[start] === 0x2d && bytes[start + 1] === 0x30);
}

/** The JSON value of `bytes` for an event: JSON.parse's, but with numbers as written when it would change any. */
export function parseEventValue(bytes: Uint8Array): unknown {
  const text = decodeUtf8(bytes);
  return holdsChangedNumbers(bytes) ? parseKeepingNumbers(text) : JSON.parse(text);
}

/** A number of a tree from {@link parseKeepingNumbers}: a raw value's number, anything else as it is. */
export function numberOf(value: unknown): unknown {
  return RawJson.isRawJSON(value) ? Number(value.rawJSON) : value;
}

/**
 * Whether every number in `text` (outside strings) is an integer of at most 15 characters, sign
 * included, other than `-0`: those JSON.parse reads exactly and JavaScript writes back as they were
 * written, so the reviver of parseKeepingNumbers would keep them all. Anything else (a fraction, an
 * exponent, `-0`, 16 characters or more) says no. Invalid JSON is left to JSON.parse to refuse.
 */
function numbersKeptByParse(text: string): boolean {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let end = i + 1;
      while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
      for (let k = i; k < end; k++) if (!isIntegerChar(text.charCodeAt(k))) return false;
      if (end - i > 15 || (c === MINUS && text.charCodeAt(i + 1) === DIGIT_0)) return false;
      i = end - 1;
    }
  }
  return true;
}

const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** Characters of a JSON number lexeme: digits, sign, point, exponent. */
const isNumberChar = (c: number): boolean =>
  (c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
const isIntegerChar = (c: number): boolean => (c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS;

/** A JSON object of a parsed tree, not a raw number (those are frozen objects too). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !RawJson.isRawJSON(value);
}

/**
 * `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)` as Python 3
 * writes it after `json.loads` of the same text: keys sorted by code point, every character
 * outside printable ASCII escaped as lower-case `\uXXXX` (astral ones as a surrogate pair),
 * integers exact, floats in Python's `repr` form.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

/** `sha256:<hex>` of the canonical JSON's UTF-8 bytes (upstream's `surface_hash`). */
export function canonicalHash(value: unknown): string {
  // Bun's native hasher: importing node:crypto would add 13-19 ms to every proxy start.
  return `sha256:${new Bun.CryptoHasher("sha256").update(canonicalJson(value), "utf8").digest("hex")}`;
}

function write(value: unknown, parts: string[]): void {
  if (value === null || value === undefined) {
    parts.push("null");
  } else if (typeof value === "string") {
    parts.push(pythonString(value));
  } else if (typeof value === "boolean") {
    parts.push(value ? "true" : "false");
  } else if (typeof value === "number") {
    parts.push(Number.isInteger(value) && !Object.is(value, -0) ? String(BigInt(value)) : pythonFloat(value));
  } else if (typeof value === "bigint") {
    parts.push(value.toString());
  } else if (RawJson.isRawJSON(value)) {
    parts.push(pythonNumber(value.rawJSON));
  } else if (Array.isArray(value)) {
    parts.push("[");
    value.forEach((item, i) => {
      if (i > 0) parts.push(",");
      write(item, parts);
    });
    parts.push("]");
  } else if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort(byCodePoint);
    parts.push("{");
    keys.forEach((key, i) => {
      if (i > 0) parts.push(",");
      parts.push(pythonString(key), ":");
      write(record[key], parts);
    });
    parts.push("}");
  } else {
    parts.push(pythonString(String(value))); // Python's default=str
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Python compares str by code point; JS's default sort compares UTF-16 units (differs only when a surrogate is involved). */
export function byCodePoint(a: string, b: string): number {
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const diff = (left[i] as string).codePointAt(0)! - (right[i] as string).codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};
/** Everything Python's ensure_ascii escapes: quote, backslash, and all outside ' '..'~' (per UTF-16 unit). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ensure_ascii escapes control characters: matching them is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/g;

/** Python's `py_encode_basestring_ascii`: everything outside `' '..'~'` is escaped, per UTF-16 unit. */
export function pythonString(text: string): string {
  return `"${text.replace(NEEDS_ESCAPE, (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

/** A JSON number lexeme as Python re-prints it: integers exact (`-0` is `0`), floats via repr. */
export function pythonNumber(lexeme: string): string {
  if (!/[.eE]/.test(lexeme)) return lexeme === "-0" ? "0" : lexeme;
  return pythonFloat(Number(lexeme));
}

/**
 * Python's float `repr`: the shortest round-tripping digits (the same digits JS finds), written
 * in fixed notation when the decimal exponent is in [-4, 16) (always with a fraction: `1.0`),
 * else as `d.ddde+XX` with at least two exponent digits.
 */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  const [mantissa, exponentText] = Math.abs(value).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? "-" : "+";
    return `${sign}${body}e${expSign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === "" ? "0" : fraction}`;
}
