// The top-level `id` of one JSON object's text as written, read without a second parse (JSON.parse makes 1.0, 1E2 and -0 plain numbers, and rounds integers beyond 2^53). Pure.

import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COMMA,
  CR,
  LF,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  SPACE,
  TAB,
} from "./json-codes.ts";

/**
 * The source text of the top-level `"id"` member of `text`, which must be one JSON object
 * JSON.parse accepted (nothing is checked); undefined when it has none, or when a key before it has
 * an escape (it might spell `id`). The walk stops at the first `"id"`: every SDK writes it before
 * `result`, so a long answer is not read past it. A second `"id"` (JSON.parse keeps the last) is not
 * looked for: the caller compares the text with the parsed id.
 */
export function topLevelIdSource(text: string): string | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipSpace(text, i + 1);
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = stringEnd(text, i + 1);
    if (keyEnd < 0) return undefined;
    const key = text.slice(i + 1, keyEnd);
    if (key.includes("\\")) return undefined;
    const valueAt = skipSpace(text, skipSpace(text, keyEnd + 1) + 1); // past the colon
    const valueEnd = valueEndOf(text, valueAt);
    if (valueEnd < 0) return undefined;
    if (key === "id") return text.slice(valueAt, valueEnd);
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
  }
  return undefined;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== LF && c !== CR) return i;
    i++;
  }
}

/** Index of the quote closing the string whose content starts at `from`, or -1. */
function stringEnd(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at >= 0; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}

/** Index just past the value at `at` (valid JSON: containers skipped by depth, strings whole), or -1. */
function valueEndOf(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) {
    const end = stringEnd(text, at + 1);
    return end < 0 ? -1 : end + 1;
  }
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let i = at;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c <= SPACE) return i;
      i++;
    }
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i + 1);
      if (i < 0) return -1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}
