// The JSON grammar over bytes, piece by piece (whitespace, strings, numbers, literals): what the line scan validates with, no decoding.

import { BACKSLASH, QUOTE } from "./json-codes.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Index of the first byte at or after `from` that is not JSON whitespace (the length at the end). */
export function skipSpace(body: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    const byte = body[i];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return i;
    i++;
  }
}

/** Bits of scanString's result. */
export const ESCAPED = 1;
export const NON_ASCII = 2;

/**
 * The string whose content starts at `from`: (index just past its closing quote) * 4, plus
 * ESCAPED / NON_ASCII; -1 when it is not a valid JSON string. Any byte of 0x80 and above is
 * accepted: invalid UTF-8 decodes to U+FFFD, still inside the string.
 */
export function scanString(body: Uint8Array, from: number): number {
  let bits = 0;
  const end = body.length;
  for (let i = from; i < end; i++) {
    const byte = body[i] as number;
    if (byte === QUOTE) return (i + 1) * 4 + bits;
    if (byte === BACKSLASH) {
      bits |= ESCAPED;
      const next = body[++i];
      if (next === 0x75) {
        if (!isHex(body[i + 1]) || !isHex(body[i + 2]) || !isHex(body[i + 3]) || !isHex(body[i + 4])) return -1;
        i += 4;
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
        return -1;
      }
    } else if (byte < 0x20) {
      return -1;
    } else if (byte >= 0x80) {
      bits |= NON_ASCII;
    }
  }
  return -1;
}

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39;
const isHex = (byte: number | undefined): boolean =>
  byte !== undefined && (isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46));

/** Index just past the number or literal at `from`, or -1. Numbers: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
export function scalarEnd(body: Uint8Array, from: number): number {
  const first = body[from];
  if (first === 0x74) return matches(body, from, TRUE) ? from + 4 : -1;
  if (first === 0x66) return matches(body, from, FALSE) ? from + 5 : -1;
  if (first === 0x6e) return matches(body, from, NULL) ? from + 4 : -1;
  let i = from;
  if (body[i] === 0x2d) i++;
  if (body[i] === 0x30) i++;
  else if (isDigit(body[i])) while (isDigit(body[i])) i++;
  else return -1;
  if (body[i] === 0x2e) {
    i++;
    if (!isDigit(body[i])) return -1;
    while (isDigit(body[i])) i++;
  }
  if (body[i] === 0x65 || body[i] === 0x45) {
    i++;
    if (body[i] === 0x2b || body[i] === 0x2d) i++;
    if (!isDigit(body[i])) return -1;
    while (isDigit(body[i])) i++;
  }
  return i;
}

/** An integer id of at most 15 digits (exact as a double), or undefined (fractions, exponents, longer: the parser decides). */
export function shortInteger(body: Uint8Array, start: number, stop: number): number | undefined {
  const negative = body[start] === 0x2d;
  const from = negative ? start + 1 : start;
  if (stop - from > 15 || stop === from) return undefined;
  let n = 0;
  for (let k = from; k < stop; k++) {
    const byte = body[k] as number;
    if (byte < 0x30 || byte > 0x39) return undefined;
    n = n * 10 + (byte - 0x30);
  }
  return negative ? -n : n;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

export function matches(body: Uint8Array, at: number, word: readonly number[]): boolean {
  for (let k = 0; k < word.length; k++) if (body[at + k] !== word[k]) return false;
  return true;
}
// Hot only as parts of the line scans (themselves kept in DFG, which inlines these): a compile of
// their own in FTL is JIT work for code that hardly runs (see runtime/jit-tiers.ts).
keepOutOfFtl(skipSpace, scanString, scalarEnd, shortInteger);
