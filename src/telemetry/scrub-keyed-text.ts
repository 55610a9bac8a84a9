// The key-name rule inside text: a secret-named key written in a string (JSON text, its escaped form, `name=value`) has its value redacted. Pure text in, text out.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import type { KeyMatcher } from "./scrub-keys.ts";
import type { RedactionCounts } from "./scrub-patterns.ts";

/**
 * A key and its scalar value as text carries them. Tool results are mostly JSON text
 * (`content[0].text` = `JSON.stringify(record)`), so the walk's key rule never sees their keys:
 * - `"key": "value"` or `"key": 12` (JSON, JS), and `\"key\":\"value\"` (JSON text inside a JSON
 *   string: group 2 is the escaping backslash, used again for the value's quotes);
 * - `key=value` (query strings, env dumps, DSNs, `--password=x`), a value quoted or up to the next
 *   separator;
 * - `Key: value` at the start of a line (YAML, HTTP headers, `.netrc`-like dumps), to the line's end.
 * A value cut by truncation (no closing quote) is taken to the end of the text. Groups: 1, 5 and
 * 7 are what stays before the value, 3, 6 and 8 the key, 4 a JSON string value.
 * Containers as values are not matched: their own keys are, one by one.
 */
const KEYED_VALUE =
  /((\\?)"([^"\\\r\n]{1,128})\2"[ \t]*:[ \t]*)(?:\2"((?:[^"\\]|\\.)*?)(?:\2"|$)|-?\d[\d.eE+-]*|true|false)|((?<![\w.-])(-{0,2}[A-Za-z_][\w.-]{0,127})=)(?:'[^'\r\n]*(?:'|$)|"[^"\r\n]*(?:"|$)|[^\s&;,"'<>)\]}]+)|((?<=^|[\r\n])[ \t]*(?:- )?([A-Za-z_][\w.-]{0,127}):[ \t]+)[^\s][^\r\n]*/g;

/** Between a pair's name and its value: a comma. */
const PAIR_GAP = /^\s*,\s*$/;
/** The marker scrub-string.ts puts after a cut value. */
const CUT_MARKER = /\.\.\.\[truncated \d+ bytes\]$/;

/**
 * Replaces the value of every secret-named key (per `matchKey`, the walk's key rule) written in
 * `text` with `[redacted:<keyword>]` (quoted as the value's JSON was), counted under `key`.
 * Returns `text` itself when nothing matched. Never throws.
 */
export function redactKeyedText(text: string, matchKey: KeyMatcher, counts: RedactionCounts): string {
  // A value cut on the hot path ends in its marker: the value taken "to the end" must stop before it.
  const cut = text.endsWith(" bytes]") ? CUT_MARKER.exec(text) : null;
  if (cut !== null) {
    const kept = text.slice(0, cut.index);
    const redacted = redactKeyedText(kept, matchKey, counts);
    return redacted === kept ? text : redacted + cut[0];
  }
  // No shape can occur without these (`includes` is a memchr: most strings stop here).
  if (
    !text.includes("=") &&
    !(text.includes(":") && (text.includes('"') || text.includes(": ") || text.includes(":\t")))
  )
    return text;
  let out = "";
  let copied = 0;
  let pairKeyword: string | undefined;
  let pairEnd = 0;
  KEYED_VALUE.lastIndex = 0;
  for (let match = KEYED_VALUE.exec(text); match !== null; match = KEYED_VALUE.exec(text)) {
    const [whole, jsonKept, backslash = "", jsonKey, jsonString, textKept, textKey, lineKept, lineKey] = match;
    const kept = jsonKept ?? textKept ?? lineKept ?? "";
    let keyword = matchKey(jsonKey ?? textKey ?? lineKey ?? "");
    // `{"name": "Authorization", "value": …}`: the pair's name says what its value is (as in the walk).
    if (keyword === undefined && jsonKey === "value" && PAIR_GAP.test(text.slice(pairEnd, match.index)))
      keyword = pairKeyword;
    if ((jsonKey === "name" || jsonKey === "key") && jsonString !== undefined) {
      pairKeyword = matchKey(jsonString);
      pairEnd = match.index + whole.length;
    }
    if (keyword === undefined) {
      // Its value may hold keys of its own (`"text":"{\\"password\\":…}"`): scan on from the value's start.
      KEYED_VALUE.lastIndex = match.index + kept.length;
      continue;
    }
    const redacted = `[redacted:${keyword}]`;
    const replacement = jsonKept === undefined ? `${kept}${redacted}` : `${kept}${backslash}"${redacted}${backslash}"`;
    out += text.slice(copied, match.index) + replacement;
    copied = match.index + whole.length;
    counts.key = (counts.key ?? 0) + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
// Called from the scrub walk for every string that holds `=` or a quoted key: no FTL compile of its own.
keepOutOfFtl(redactKeyedText);
