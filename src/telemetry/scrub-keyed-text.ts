// The key-name rule inside text: a secret-named key written in a string (JSON text, printed records, `name=value`, `Key: value` lines, command-line flags) has its value redacted. Pure text in, text out.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import type { KeyMatcher } from "./scrub-keys.ts";
import type { RedactionCounts } from "./scrub-patterns.ts";

/**
 * A key and its scalar value as text carries them. Tool results are mostly JSON text
 * (`content[0].text` = `JSON.stringify(record)`), so the walk's key rule never sees their keys.
 * Each alternative captures what stays before the value, then the key, then a string value:
 * - 1, 2, 3: `"key": "value"` or `"key": 12` (JSON);
 * - 4, 5, 6: `\"key\":\"value\"` (JSON text inside a JSON string: there the value's own escapes
 *   are doubled, `\\\"` for a quote in it, and `\"` ends it);
 * - 7, 8, 9 or 10: `'key': 'value'` or `"value"` (a Python dict printed with `str()`);
 * - 11, 12, 13 or 14: `key: 'value'` or `"value"` (a JS object printed by `console.log`), the
 *   value quoted so that prose (`reset your password: click…`) stays;
 * - 15, 16: `key=value` (query strings, env dumps, DSNs, `--password=x`);
 * - 17, 18: `Key: value` or `key = value` at the start of a line (YAML, HTTP headers, INI files
 *   such as `~/.aws/credentials`), to the line's end; a list item or Markdown emphasis may come
 *   first and the key may be two words (`- **API key:** …`, `Client secret: …`);
 * - 19 (20 the quote), 21: a header in quotes, `-H "X-Api-Key: …"` (a curl command), to the quote;
 * - 22: `-u user:` or `--user user:` (curl, the password after the colon), no key: `password`;
 * - 23, 24: `--password value`, `--api-key value` (a command line's flag and the next word).
 * From 15 on, only the key is matched (the value's end is found once it is to go, see
 * {@link textValueEnd}): a scan that took every value whole would go over the rest of `a=a=a=…`
 * from every `=`. Loops are unrolled (`[^"\\]*(?:\\.[^"\\]*)*`),
 * never a lazy alternation: a 64 KiB string value costs one pass. A value cut by truncation (no
 * closing quote) is taken to the end of the text. Containers as values are not matched: their own
 * keys are, one by one.
 */
const SINGLE = String.raw`'([^'\\]*(?:\\.[^'\\]*)*)(?:'|\\?$)`;
const DOUBLE = String.raw`"([^"\\]*(?:\\.[^"\\]*)*)(?:"|\\?$)`;
const KEYED_VALUE = new RegExp(
  [
    String.raw`("([^"\\\r\n]{1,128})"[ \t]*:[ \t]*)(?:${DOUBLE}|-?\d[\d.eE+-]*|true|false)`,
    String.raw`(\\"([^"\\\r\n]{1,128})\\"[ \t]*:[ \t]*)(?:\\"([^"\\]*(?:\\\\(?:\\"|\\\\|[^"\\])[^"\\]*)*)(?:\\"|\\*$)|-?\d[\d.eE+-]*|true|false)`,
    String.raw`('([^'\\\r\n]{1,128})'[ \t]*:[ \t]*)(?:${SINGLE}|${DOUBLE}|-?\d[\d.eE+-]*|True|False)`,
    String.raw`((?<![\w$.'"-])([A-Za-z_$][\w$]{0,127})[ \t]*:[ \t]*)(?:${SINGLE}|${DOUBLE})`,
    String.raw`((?<![\w.-])(-{0,2}[A-Za-z_][\w.-]{0,127})=)`,
    String.raw`((?<=^|[\r\n])[ \t]*(?:[-*•] |\d{1,3}\. |export )?(?:\*\*|__)?([A-Za-z_][\w.-]{0,63}(?: [A-Za-z_][\w.-]{0,63})?)(?:\*\*|__)?(?::(?:\*\*|__)?[ \t]+|[ \t]*=[ \t]*))(?=\S)`,
    String.raw`((["'])([A-Za-z_][\w-]{0,127}):[ \t]*)(?=[^\s"'])`,
    String.raw`((?<![\w-])(?:-u|--user)[ \t]+[^\s:'"]+:)(?=\S)`,
    String.raw`((?<![\w-])--([A-Za-z][\w-]{0,63})[ \t]+)(?=[^\s-])`,
  ].join("|"),
  "g",
);
/** Where an unquoted `key=value` value ends. */
const VALUE_END = /[\s&;,"'<>)\]}]/;
/** Between a pair's name and its value: a comma. */
const PAIR_GAP = /^\s*,\s*$/;
/** The marker scrub-string.ts puts after a cut value. */
const CUT_MARKER = /\.\.\.\[truncated \d+ bytes\]$/;
/** Three or more words of letters, as a sentence has (a passphrase too, hence {@link FUNCTION_WORD}). */
const SENTENCE = /^\p{L}+(?:[ \t]*[,;:'’-]?[ \t]+\p{L}+){2,}[ \t]*[.!?…]?[ \t]*$/u;
/** A word prose has and a passphrase (`correct horse battery staple`) rarely does. */
const FUNCTION_WORD =
  /(?:^|[ \t])(?:the|a|an|to|your|you|it|its|is|are|be|was|we|our|this|that|for|with|from|of|in|on|by|and|or|not|please|here|below|above)(?=[ \t,.!?…]|$)/i;

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
    !text.includes("-") &&
    !(text.includes(":") && (text.includes('"') || text.includes(": ") || text.includes(":\t")))
  )
    return text;
  // Log lines with `x=1`: one scan (curl's `-u user:password` names no key).
  if (matchKey.hint !== undefined && !matchKey.hint.test(text) && !text.includes("-u ") && !text.includes("--user "))
    return text;

  let out = "";
  let copied = 0;
  let pairKeyword: string | undefined;
  let pairEnd = 0;
  KEYED_VALUE.lastIndex = 0;
  for (let match = KEYED_VALUE.exec(text); match !== null; match = KEYED_VALUE.exec(text)) {
    const whole = match[0];
    const kept =
      match[1] ??
      match[4] ??
      match[7] ??
      match[11] ??
      match[15] ??
      match[17] ??
      match[19] ??
      match[22] ??
      match[23] ??
      "";
    const key = match[2] ?? match[5] ?? match[8] ?? match[12] ?? match[16] ?? match[18] ?? match[21] ?? match[24] ?? "";
    const single = match[9] ?? match[13];
    const string = match[3] ?? match[6] ?? single ?? match[10] ?? match[14];
    let keyword = match[22] !== undefined ? "password" : matchKey(key);
    // `{"name": "Authorization", "value": …}`: the pair's name says what its value is (as in the walk).
    if (
      keyword === undefined &&
      key === "value" &&
      match[15] === undefined &&
      PAIR_GAP.test(text.slice(pairEnd, match.index))
    )
      keyword = pairKeyword;
    if ((key === "name" || key === "key") && string !== undefined) {
      pairKeyword = matchKey(string);
      pairEnd = match.index + whole.length;
    }
    const valueStart = match.index + kept.length;
    if (keyword === undefined) {
      // Its value may hold keys of its own (`"text":"{\"password\":…}"`, `url=…?token=…`): scan on from there.
      // Two words at a line start that name no key (`lookup member_no=…`): the second may be a key by itself.
      KEYED_VALUE.lastIndex =
        match[17] !== undefined && key.includes(" ")
          ? match.index + match[17].indexOf(key) + key.indexOf(" ") + 1
          : valueStart;
      continue;
    }
    const redacted = `[redacted:${keyword}]`;
    let end = match.index + whole.length;
    let replacement: string;
    if (match[1] !== undefined) replacement = `${kept}"${redacted}"`;
    else if (match[4] !== undefined) replacement = `${kept}\\"${redacted}\\"`;
    else if (match[7] !== undefined || match[11] !== undefined) {
      const quote = single !== undefined || string === undefined ? "'" : '"'; // a number: quoted as Python would a str
      replacement = `${kept}${quote}${redacted}${quote}`;
    } else if (match[19] !== undefined) {
      const close = text.indexOf(match[20] as string, valueStart);
      const line = text.indexOf("\n", valueStart);
      replacement = `${kept}${redacted}`;
      end = close === -1 || (line !== -1 && line < close) ? textValueEnd(text, valueStart, true) : close;
    } else {
      end = textValueEnd(text, valueStart, match[17] !== undefined);
      // `Reset password: click the link below`: a label of two words before a sentence is prose,
      // not a key and its value (one word, `Password: …`, is a key whatever follows it).
      if (match[17] !== undefined && key.includes(" ") && isSentence(text.slice(valueStart, end))) {
        KEYED_VALUE.lastIndex = valueStart;
        continue;
      }
      replacement = `${kept}${redacted}`;
    }
    out += text.slice(copied, match.index) + replacement;
    copied = end;
    KEYED_VALUE.lastIndex = end;
    counts.key = (counts.key ?? 0) + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function isSentence(value: string): boolean {
  return SENTENCE.test(value) && FUNCTION_WORD.test(value);
}

/** The end of a `key=value` value (quoted, or up to a separator) or of a `Key: value` line's value. */
function textValueEnd(text: string, start: number, line: boolean): number {
  if (!line && text.startsWith('\\"', start)) {
    // Quoted inside JSON text (`"cmd": "export PASSWORD=\"x y\""`): to the escaped closing quote.
    const close = text.indexOf('\\"', start + 2);
    return close === -1 ? text.length : close + 2;
  }
  const quote = text[start];
  let end = start;
  if (line || quote === '"' || quote === "'") {
    if (!line) end++;
    while (end < text.length && text[end] !== "\n" && text[end] !== "\r" && (line || text[end] !== quote)) end++;
    return line || end === text.length ? end : end + 1;
  }
  while (end < text.length && !VALUE_END.test(text.charAt(end))) end++;
  return end;
}
// Called from the scrub walk for every string that holds `=` or a quoted key: no FTL compile of its own.
keepOutOfFtl(redactKeyedText, textValueEnd);
