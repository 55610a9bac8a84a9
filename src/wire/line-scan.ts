// A cheap look at one line's top level without parsing it (the `method` string, the presence of byte strings); never decides what a message is, only when its full parse may wait until its bytes are out.

import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COLON,
  COMMA,
  CR,
  LF,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  SPACE,
  TAB,
} from "./json-codes.ts";
import { decodeUtf8 } from "./utf8.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** `method` as bytes. */
const METHOD_KEY = [0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64];

/** Longer lines are not scanned (a caller then parses as usual); a request is rarely even 1 KiB. */
export const MAX_SCANNED_LINE_BYTES = 64 * 1024;

/** Method names are short; a longer value is left to the parser. */
const MAX_METHOD_BYTES = 256;

const isSpace = (byte: number | undefined): boolean => byte === SPACE || byte === TAB || byte === CR || byte === LF;

/**
 * The value of the top-level `"method"` member of a line holding one JSON object, read without
 * parsing; undefined whenever there is any doubt: not an object, no `method`, a `method` that is
 * not a plain string (escapes, control bytes), `method` twice, a key with an escape (it might
 * spell `method`), unbalanced brackets, bytes after the object, a line over
 * {@link MAX_SCANNED_LINE_BYTES}. It does not validate the rest: a line it reads a method from
 * may still be junk for `JSON.parse`, so callers must only use it to decide *when* to parse.
 */
export function scanMethod(body: Uint8Array): string | undefined {
  const end = body.length;
  if (end > MAX_SCANNED_LINE_BYTES) return undefined;
  let i = 0;
  while (i < end && isSpace(body[i])) i++;
  if (body[i] !== OPEN_BRACE) return undefined;
  i++;
  let method: string | undefined;
  let seenMethod = false;
  for (;;) {
    while (i < end && isSpace(body[i])) i++;
    if (body[i] !== QUOTE) return undefined; // `{}` and `{"a":1,}` have no method either
    const keyStart = i + 1;
    const keyEnd = stringEnd(body, keyStart);
    if (keyEnd < 0) return undefined;
    for (let k = keyStart; k < keyEnd; k++) if (body[k] === BACKSLASH) return undefined;
    i = keyEnd + 1;
    while (i < end && isSpace(body[i])) i++;
    if (body[i] !== COLON) return undefined;
    i++;
    while (i < end && isSpace(body[i])) i++;
    if (isMethodKey(body, keyStart, keyEnd)) {
      if (seenMethod) return undefined; // JSON.parse keeps the last one; we do not guess
      seenMethod = true;
      if (body[i] !== QUOTE) return undefined;
      const valueEnd = stringEnd(body, i + 1);
      if (valueEnd < 0 || valueEnd - i - 1 > MAX_METHOD_BYTES) return undefined;
      for (let k = i + 1; k < valueEnd; k++) {
        const byte = body[k] as number;
        if (byte === BACKSLASH || byte < SPACE || byte >= 0x80) return undefined;
      }
      method = asciiText(body, i + 1, valueEnd); // plain ASCII, checked above
      i = valueEnd + 1;
    } else {
      i = valueEnd(body, i);
      if (i < 0) return undefined;
    }
    while (i < end && isSpace(body[i])) i++;
    if (body[i] === COMMA) {
      i++;
      continue;
    }
    if (body[i] !== CLOSE_BRACE) return undefined;
    i++;
    break;
  }
  while (i < end && isSpace(body[i])) i++;
  return i === end ? method : undefined;
}
// Once per client line: FTL spent ~30-50 ms of JIT CPU on it to save ~100 ns a line (~400 000 lines to pay back).
keepOutOfFtl(scanMethod);

/**
 * True when `body` contains `needle` anywhere (bytes, no decoding). A plain loop: on the short
 * lines it is used for, each native `indexOf` call costs more than the bytes it skips.
 */
export function containsBytes(body: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  if (first === undefined) return true;
  const last = body.length - needle.length;
  for (let at = 0; at <= last; at++) {
    if (body[at] !== first) continue;
    let k = 1;
    while (k < needle.length && body[at + k] === needle[k]) k++;
    if (k === needle.length) return true;
  }
  return false;
}

/** Recently read short texts (methods, tool names, ids), by a hash of their bytes: most lines repeat them. */
const RECENT_TEXTS: (string | undefined)[] = new Array(256).fill(undefined);

/**
 * The bytes `start..end` (plain ASCII, checked by the caller) as text. A text seen recently is
 * returned as is (no new string, and one already hashed for the maps it is looked up in).
 */
export function asciiText(body: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return "";
  const slot =
    (length * 7 +
      (body[start] as number) * 31 +
      (body[end - 1] as number) * 17 +
      (body[start + (length >> 1)] as number)) &
    255;
  const recent = RECENT_TEXTS[slot];
  if (recent !== undefined && recent.length === length) {
    let k = 0;
    while (k < length && recent.charCodeAt(k) === body[start + k]) k++;
    if (k === length) return recent;
  }
  const text = decodeUtf8(body.subarray(start, end));
  if (length <= 64) RECENT_TEXTS[slot] = text;
  return text;
}

function isMethodKey(body: Uint8Array, start: number, end: number): boolean {
  if (end - start !== METHOD_KEY.length) return false;
  for (let k = 0; k < METHOD_KEY.length; k++) if (body[start + k] !== METHOD_KEY[k]) return false;
  return true;
}

/** Index of the quote closing the string whose content starts at `from`, or -1 (an escape skips the byte after the backslash). */
function stringEnd(body: Uint8Array, from: number): number {
  for (let at = from; at < body.length; at++) {
    const byte = body[at];
    if (byte === QUOTE) return at;
    if (byte === BACKSLASH) at++;
  }
  return -1;
}

/** Nesting the scan follows (one bit per level records `{` or `[`); deeper values are left to the parser. */
const MAX_SCAN_DEPTH = 30;

/** Index just past the value starting at `from` (any JSON value, brackets balanced and matched, strings skipped), or -1. */
function valueEnd(body: Uint8Array, from: number): number {
  let depth = 0;
  let braces = 0; // bit d set: the container at depth d+1 is an object
  for (let i = from; i < body.length; i++) {
    const byte = body[i];
    if (byte === QUOTE) {
      i = stringEnd(body, i + 1);
      if (i < 0) return -1;
      if (depth === 0) return i + 1;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (depth === MAX_SCAN_DEPTH) return -1;
      if (byte === OPEN_BRACE) braces |= 1 << depth;
      else braces &= ~(1 << depth);
      depth++;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      if (depth === 0) return i === from ? -1 : i; // the enclosing object ends a bare literal
      depth--;
      if (((braces >> depth) & 1) !== (byte === CLOSE_BRACE ? 1 : 0)) return -1; // `[1}`
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (byte === COMMA || isSpace(byte))) {
      return i === from ? -1 : i;
    }
  }
  return -1; // the line ended inside the value (the enclosing object never closed)
}
// Parts of the scans (kept in DFG, which inlines them): no FTL compile of their own (see runtime/jit-tiers.ts).
keepOutOfFtl(isSpace, isMethodKey, stringEnd, asciiText, valueEnd);
