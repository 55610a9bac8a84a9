// Where a text may be cut without keeping part of a secret: the cut moved back until no redacted value crosses it. Pure.

import { redactText } from "./scrub-patterns.ts";

/** Characters either side of a cut searched for a value crossing it (more than any token or JWT; a cut private key block is redacted to the end anyway). */
const CUT_WINDOW_CHARS = 4096;
/** Whitespace the cut moves back over before it gives up and falls at the window's start. */
const MAX_CUT_BACKOFFS = 16;
const WHITESPACE = /\s/;

/**
 * The index, at or before `cut`, where `text` can be cut without keeping part of a secret. A value
 * crossing the cut loses its tail, and what is left (half a token, a JWT's payload, twelve digits
 * of a card) no longer matches its pattern, so it would be stored as plain text. A crossing shows
 * as the kept text's redaction not being a prefix of the redaction of the text around the cut; the
 * cut then moves back to the previous whitespace until nothing crosses it.
 */
export function secretSafeCut(text: string, cut: number): number {
  if (cut >= text.length) return cut;
  let from = Math.max(0, cut - CUT_WINDOW_CHARS);
  const code = text.charCodeAt(from);
  if (code >= 0xdc00 && code <= 0xdfff) from++; // never between the halves of a surrogate pair
  const window = text.slice(from, cut + CUT_WINDOW_CHARS);
  const around = redactText(window, {});
  if (around === window) return cut; // nothing to hide near the cut (the usual case): one scan
  let at = cut;
  for (let backoffs = 0; backoffs <= MAX_CUT_BACKOFFS && at > from; backoffs++) {
    if (around.startsWith(redactText(text.slice(from, at), {}))) return at;
    do at--;
    while (at > from && !WHITESPACE.test(text.charAt(at)));
  }
  return from;
}
