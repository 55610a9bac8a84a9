// A validating byte scan of one JSON-RPC line: whether JSON.parse would accept it, and the few facts the hot path needs (id, method, a handful of keys under params/result), without decoding or parsing it.

import { asciiText } from "./line-scan.ts";

/** Set in {@link LineFacts.flags}: the line holds something the hot path must not guess about (it parses instead). */
export const FACT = {
  /** `params._meta` (client info, progress tokens, our own keys). */
  PARAMS_META: 1,
  /** `params.requestState` / `params.inputResponses` (one more round of a held call). */
  PARAMS_ROUND: 2,
  /** `result._meta`, `result.resultType` or `result.task` (server info, multi-round, tasks). */
  RESULT_SPECIAL: 4,
  /** `result.isError` is the literal `true`. */
  IS_ERROR_TRUE: 8,
  /** A key under params/result with an escape, or one of the keys above twice: could be anything. */
  UNSURE: 16,
  /** `params` is present but not an object. */
  PARAMS_NOT_OBJECT: 32,
} as const;

/** What the scan read from a line it fully validated. */
export interface LineFacts {
  /** Top-level `id`: undefined when absent (only plain strings and short integers are read; others make the scan give up). */
  readonly id: string | number | null | undefined;
  readonly method: string | undefined;
  readonly hasResult: boolean;
  readonly hasError: boolean;
  /** `result` is an object (the transforms read its members only then). */
  readonly resultIsObject: boolean;
  /** `params.name` when a plain string (ASCII, no escapes). */
  readonly name: string | undefined;
  /** Bits of {@link FACT}. */
  readonly flags: number;
}

/** Longer lines are left to the parser (the transports inspect large ones in idle turns anyway). */
export const MAX_FACT_LINE_BYTES = 32 * 1024;
/** Deeper nesting is left to the parser. */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

// Where an object sits, for the keys worth recording: the top level, `params`, `result`, elsewhere.
const TOP = 0;
const PARAMS = 1;
const RESULT = 2;
const OTHER = 3;

// The scan's cursor and findings: module state, reset per call (the scan is synchronous and not reentrant).
let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
let escaped = false;
let nonAscii = false;
let giveUp = false;
let id: string | number | null | undefined;
let method: string | undefined;
let hasResult = false;
let hasError = false;
let resultIsObject = false;
let name: string | undefined;
let flags = 0;
let seenTop = 0;
let seenParams = 0;
let seenResult = 0;

/**
 * The facts of `body` (one line, without its newline) when it is exactly one JSON object that
 * JSON.parse accepts and whose top level is plain enough to read without it; undefined otherwise
 * (not JSON, a batch, escapes in top-level keys, an id that is not a plain string or short integer,
 * a method with escapes, a line over {@link MAX_FACT_LINE_BYTES}): the caller then parses.
 */
export function scanLineFacts(body: Uint8Array): LineFacts | undefined {
  if (body.length > MAX_FACT_LINE_BYTES) return undefined;
  src = body;
  pos = 0;
  end = body.length;
  giveUp = false;
  id = undefined;
  method = undefined;
  hasResult = false;
  hasError = false;
  resultIsObject = false;
  name = undefined;
  flags = 0;
  seenTop = 0;
  seenParams = 0;
  seenResult = 0;
  skipSpace();
  const ok = src[pos] === 0x7b && object(1, TOP);
  src = EMPTY; // never keep a read chunk alive
  if (!ok || giveUp) return undefined;
  skipSpaceIn(body);
  if (pos !== end) return undefined;
  return { id, method, hasResult, hasError, resultIsObject, name, flags };
}

const EMPTY = new Uint8Array(0);

function skipSpace(): void {
  while (pos < end) {
    const byte = src[pos];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return;
    pos++;
  }
}

function skipSpaceIn(body: Uint8Array): void {
  while (pos < end) {
    const byte = body[pos];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return;
    pos++;
  }
}

/** `pos` at `{`. Validates the object; records keys by `where`. */
function object(depth: number, where: number): boolean {
  if (depth > MAX_DEPTH) return false;
  pos++;
  skipSpace();
  if (src[pos] === 0x7d) {
    pos++;
    return true;
  }
  for (;;) {
    if (src[pos] !== QUOTE) return false;
    const keyStart = ++pos;
    if (!string()) return false;
    const keyEnd = pos - 1;
    skipSpace();
    if (src[pos] !== 0x3a) return false;
    pos++;
    skipSpace();
    const ok = where === OTHER ? value(depth) : member(depth, where, keyStart, keyEnd);
    if (!ok) return false;
    skipSpace();
    const byte = src[pos++];
    if (byte === 0x7d) return true;
    if (byte !== 0x2c) return false;
    skipSpace();
  }
}

/** One member of the top-level object, `params` or `result`: its key recorded, its value validated. */
function member(depth: number, where: number, keyStart: number, keyEnd: number): boolean {
  if (escaped) {
    // A key with an escape could spell any of ours.
    if (where === TOP) giveUp = true;
    else flags |= FACT.UNSURE;
    return value(depth);
  }
  const key = keyOf(where, keyStart, keyEnd);
  if (key === 0) return value(depth);
  if (where === TOP) {
    if ((seenTop & key) !== 0) giveUp = true; // JSON.parse keeps the last: do not guess
    seenTop |= key;
    return topMember(depth, key);
  }
  const seen = where === PARAMS ? seenParams : seenResult;
  if ((seen & key) !== 0) flags |= FACT.UNSURE;
  if (where === PARAMS) {
    seenParams |= key;
    if (key === KEY.META) flags |= FACT.PARAMS_META;
    else if (key === KEY.ROUND) flags |= FACT.PARAMS_ROUND;
    else if (key === KEY.NAME && src[pos] === QUOTE) {
      const start = ++pos;
      if (!string()) return false;
      if (escaped || nonAscii) flags |= FACT.UNSURE;
      else name = ascii(start, pos - 1);
      return true;
    }
    return value(depth);
  }
  seenResult |= key;
  if (key === KEY.IS_ERROR && matches(TRUE)) {
    pos += TRUE.length;
    flags |= FACT.IS_ERROR_TRUE;
    return true;
  }
  if (key !== KEY.IS_ERROR) flags |= FACT.RESULT_SPECIAL;
  return value(depth);
}

function topMember(depth: number, key: number): boolean {
  const byte = src[pos];
  switch (key) {
    case KEY.ID:
      if (byte === QUOTE) {
        const start = ++pos;
        if (!string()) return false;
        if (escaped || nonAscii) giveUp = true;
        else id = ascii(start, pos - 1);
        return true;
      }
      if (byte === 0x6e && matches(NULL)) {
        pos += NULL.length;
        id = null;
        return true;
      }
      if (byte === 0x2d || (byte !== undefined && byte >= 0x30 && byte <= 0x39)) {
        const start = pos;
        if (!number()) return false;
        id = shortInteger(start, pos);
        if (id === undefined) giveUp = true;
        return true;
      }
      giveUp = true; // a boolean, object or array id: the parser tells what that is
      return value(depth);
    case KEY.METHOD: {
      if (byte !== QUOTE) {
        giveUp = true;
        return value(depth);
      }
      const start = ++pos;
      if (!string()) return false;
      if (escaped || nonAscii) giveUp = true;
      else method = ascii(start, pos - 1);
      return true;
    }
    case KEY.PARAMS:
      if (byte === 0x7b) return object(depth + 1, PARAMS);
      flags |= FACT.PARAMS_NOT_OBJECT;
      return value(depth);
    case KEY.RESULT:
      hasResult = true;
      if (byte === 0x7b) {
        resultIsObject = true;
        return object(depth + 1, RESULT);
      }
      return value(depth);
    default:
      hasError = true;
      return value(depth);
  }
}

/** Any JSON value at `pos`. */
function value(depth: number): boolean {
  const byte = src[pos];
  if (byte === QUOTE) {
    pos++;
    return string();
  }
  if (byte === 0x7b) return object(depth + 1, OTHER);
  if (byte === 0x5b) return array(depth + 1);
  if (byte === 0x74) return literal(TRUE);
  if (byte === 0x66) return literal(FALSE);
  if (byte === 0x6e) return literal(NULL);
  return number();
}

function array(depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  pos++;
  skipSpace();
  if (src[pos] === 0x5d) {
    pos++;
    return true;
  }
  for (;;) {
    if (!value(depth)) return false;
    skipSpace();
    const byte = src[pos++];
    if (byte === 0x5d) return true;
    if (byte !== 0x2c) return false;
    skipSpace();
  }
}

/** `pos` just past the opening quote; leaves it just past the closing one. Sets `escaped` / `nonAscii`. */
function string(): boolean {
  escaped = false;
  nonAscii = false;
  while (pos < end) {
    const byte = src[pos++] as number;
    if (byte === QUOTE) return true;
    if (byte === BACKSLASH) {
      escaped = true;
      const next = src[pos++];
      if (next === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHex(src[pos++])) return false;
      } else if (
        next !== QUOTE &&
        next !== BACKSLASH &&
        next !== 0x2f &&
        next !== 0x62 &&
        next !== 0x66 &&
        next !== 0x6e &&
        next !== 0x72 &&
        next !== 0x74
      ) {
        return false;
      }
    } else if (byte < 0x20) {
      return false;
    } else if (byte >= 0x80) {
      nonAscii = true; // any bytes: invalid UTF-8 decodes to U+FFFD, still inside the string
    }
  }
  return false;
}

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39;
const isHex = (byte: number | undefined): boolean =>
  byte !== undefined && (isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46));

/** The JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function number(): boolean {
  if (src[pos] === 0x2d) pos++;
  if (src[pos] === 0x30) pos++;
  else if (isDigit(src[pos])) while (isDigit(src[pos])) pos++;
  else return false;
  if (src[pos] === 0x2e) {
    pos++;
    if (!isDigit(src[pos])) return false;
    while (isDigit(src[pos])) pos++;
  }
  if (src[pos] === 0x65 || src[pos] === 0x45) {
    pos++;
    if (src[pos] === 0x2b || src[pos] === 0x2d) pos++;
    if (!isDigit(src[pos])) return false;
    while (isDigit(src[pos])) pos++;
  }
  return true;
}

/** An integer id of at most 15 digits (exact as a double), or undefined (fractions, exponents, longer: the parser decides). */
function shortInteger(start: number, stop: number): number | undefined {
  const negative = src[start] === 0x2d;
  const from = negative ? start + 1 : start;
  if (stop - from > 15 || stop === from) return undefined;
  let n = 0;
  for (let k = from; k < stop; k++) {
    const byte = src[k] as number;
    if (byte < 0x30 || byte > 0x39) return undefined;
    n = n * 10 + (byte - 0x30);
  }
  return negative ? -n : n;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function matches(word: readonly number[]): boolean {
  for (let k = 0; k < word.length; k++) if (src[pos + k] !== word[k]) return false;
  return true;
}

function literal(word: readonly number[]): boolean {
  if (!matches(word)) return false;
  pos += word.length;
  return true;
}

function ascii(start: number, stop: number): string {
  return asciiText(src, start, stop);
}

/** Keys recorded, one bit each (per object kind; `ROUND` covers both round keys). */
const KEY = {
  ID: 1,
  METHOD: 2,
  PARAMS: 4,
  RESULT: 8,
  ERROR: 16,
  NAME: 1,
  META: 2,
  ROUND: 4,
  IS_ERROR: 1,
  SPECIAL: 2,
} as const;

const keyBytes = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));
const TOP_KEYS: readonly [number[], number][] = [
  [keyBytes("id"), KEY.ID],
  [keyBytes("method"), KEY.METHOD],
  [keyBytes("params"), KEY.PARAMS],
  [keyBytes("result"), KEY.RESULT],
  [keyBytes("error"), KEY.ERROR],
];
const PARAMS_KEYS: readonly [number[], number][] = [
  [keyBytes("name"), KEY.NAME],
  [keyBytes("_meta"), KEY.META],
  [keyBytes("requestState"), KEY.ROUND],
  [keyBytes("inputResponses"), KEY.ROUND],
];
const RESULT_KEYS: readonly [number[], number][] = [
  [keyBytes("isError"), KEY.IS_ERROR],
  [keyBytes("_meta"), KEY.SPECIAL],
  [keyBytes("resultType"), KEY.SPECIAL],
  [keyBytes("task"), KEY.SPECIAL],
];

/** The bit of the key `start..stop` among those recorded for `where`, or 0. */
function keyOf(where: number, start: number, stop: number): number {
  const keys = where === TOP ? TOP_KEYS : where === PARAMS ? PARAMS_KEYS : RESULT_KEYS;
  const length = stop - start;
  for (const [bytes, bit] of keys) {
    if (bytes.length !== length) continue;
    let k = 0;
    while (k < length && src[start + k] === bytes[k]) k++;
    if (k === length) return bit;
  }
  return 0;
}
