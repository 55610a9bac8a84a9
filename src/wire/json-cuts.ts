// Cuts members and elements out of a JSON text's bytes, leaving every other byte as written (numbers, escapes, spaces). Pure.

import { CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "./json-codes.ts";
import { scalarEnd, scanString, skipSpace } from "./json-bytes.ts";
import { decodeUtf8 } from "./jsonrpc.ts";

/** A byte range [from, to) to remove, and the text to put in its place, if any (`from === to`: a pure insertion). */
export type Cut = [number, number] | [number, number, string];

/** An element of an array or a member of an object: where it starts and where its value starts and ends. */
export interface Span {
  readonly at: number;
  readonly valueAt: number;
  readonly valueEnd: number;
}

/** One member of an object, its key decoded. */
export interface Member extends Span {
  readonly key: string;
}

export function isObjectAt(body: Uint8Array, at: number): boolean {
  return body[at] === OPEN_BRACE;
}

export function isArrayAt(body: Uint8Array, at: number): boolean {
  return body[at] === OPEN_BRACKET;
}

/**
 * The members of the object whose `{` is at `at`, keys decoded. The text must be valid JSON (one
 * JSON.parse accepted): the scan checks nothing.
 */
export function membersOf(body: Uint8Array, at: number): Member[] {
  const members: Member[] = [];
  let i = skipSpace(body, at + 1);
  if (body[i] === CLOSE_BRACE) return members;
  for (;;) {
    const keyAt = i;
    const keyEnd = (scanString(body, i + 1) >>> 2) as number;
    const key = JSON.parse(decodeUtf8(body.subarray(keyAt, keyEnd))) as string;
    const valueAt = skipSpace(body, skipSpace(body, keyEnd) + 1); // past the colon
    const valueEnd = valueEndOf(body, valueAt);
    members.push({ key, at: keyAt, valueAt, valueEnd });
    i = skipSpace(body, valueEnd);
    if (body[i] !== COMMA) return members;
    i = skipSpace(body, i + 1);
  }
}

/** The elements of the array whose `[` is at `at` (valid JSON, as for membersOf). */
export function elementsOf(body: Uint8Array, at: number): Span[] {
  const elements: Span[] = [];
  let i = skipSpace(body, at + 1);
  if (body[i] === CLOSE_BRACKET) return elements;
  for (;;) {
    const valueEnd = valueEndOf(body, i);
    elements.push({ at: i, valueAt: i, valueEnd });
    i = skipSpace(body, valueEnd);
    if (body[i] !== COMMA) return elements;
    i = skipSpace(body, i + 1);
  }
}

/**
 * Byte ranges that remove the spans `gone` (indexes into `spans`, all siblings) with their
 * commas. Spans before the first kept one go with the separator after them; later ones with
 * the separator before them; when none is kept, everything between the brackets goes.
 */
export function spanCuts(spans: readonly Span[], gone: ReadonlySet<number>): Cut[] {
  if (gone.size === 0) return [];
  const firstKept = spans.findIndex((_, k) => !gone.has(k));
  if (firstKept === -1) return [[(spans[0] as Span).at, (spans[spans.length - 1] as Span).valueEnd]];
  const cuts: Cut[] = [];
  for (const k of gone) {
    if (k < firstKept) cuts.push([(spans[k] as Span).at, (spans[k + 1] as Span).at]);
    else cuts.push([(spans[k - 1] as Span).valueEnd, (spans[k] as Span).valueEnd]);
  }
  return cuts;
}

/** `body` without the byte ranges `cuts` (which must not overlap), their replacements put in; `body` itself when there are none. */
export function withCuts(body: Uint8Array, cuts: Cut[]): Uint8Array {
  if (cuts.length === 0) return body;
  cuts.sort((a, b) => a[0] - b[0]);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [from, to, insert] of cuts) {
    parts.push(body.subarray(at, from));
    if (insert !== undefined) parts.push(Buffer.from(insert, "utf8"));
    at = to;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}

/** Index just past the value at `at` (the body is valid JSON: containers are skipped by depth, strings whole). */
function valueEndOf(body: Uint8Array, at: number): number {
  const first = body[at];
  if (first === QUOTE) return scanString(body, at + 1) >>> 2;
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return scalarEnd(body, at);
  let depth = 0;
  for (let i = at; i < body.length; i++) {
    const byte = body[i];
    if (byte === QUOTE) i = (scanString(body, i + 1) >>> 2) - 1;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return body.length;
}
