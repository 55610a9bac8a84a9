// Format-preserving text edits on JSONC source: splice ranges, match an array's item separator, add/remove one property. Pure; no parsing of its own.

import { LocalError } from "../errors.ts";
import type { JsonArrayNode, JsonObjectNode, JsonProperty } from "./jsonc.ts";

/** Replace `text.slice(start, end)` with `text` (an insertion when start === end). */
export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

const BLANK = /^[ \t\r\n]*$/;
const SEPARATOR = /^[ \t\r\n]*,[ \t\r\n]*$/;

/**
 * Applies non-overlapping edits (any order) to `text`. Throws when two edits overlap, because
 * that is a bug in the caller and guessing would corrupt a user's file.
 */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.start < cursor || edit.end < edit.start)
      throw new LocalError("E_WRAP", `overlapping text edits at offset ${edit.start}`);
    out += text.slice(cursor, edit.start) + edit.text;
    cursor = edit.end;
  }
  return out + text.slice(cursor);
}

/**
 * The text to put between two items inserted at the front of `array` so they look like the items
 * already there: the existing separator (`, ` / `,` / `,\n    `) when it is plain whitespace, else
 * a comma plus the whitespace before the first item when that starts a new line, else `fallback`.
 */
export function detectItemSeparator(text: string, array: JsonArrayNode, fallback = ", "): string {
  const [first, second] = array.items;
  if (first === undefined) return fallback;
  if (second !== undefined) {
    const between = text.slice(first.end, second.start);
    if (SEPARATOR.test(between)) return between;
  }
  const open = text.slice(array.start + 1, first.start);
  return BLANK.test(open) && open.includes("\n") ? `,${open}` : fallback;
}

/** Renders raw (already JSON-encoded) items on one line; an empty list is `[]`. */
export function renderArray(rawItems: readonly string[], separator = ", "): string {
  return `[${rawItems.join(separator)}]`;
}

/** The line ending the file uses (CRLF when any line has one). */
export function detectEol(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}

/** The text from `{` or the previous comma up to the property's key: its leading whitespace. */
function leadingGap(text: string, object: JsonObjectNode, index: number): string {
  const previous = object.properties[index - 1];
  const from = previous === undefined ? object.start + 1 : previous.comma + 1;
  const property = object.properties[index];
  return property === undefined || from <= 0 ? "" : text.slice(from, property.keyStart);
}

/**
 * Inserts `"key": valueText` right after the property `after`, copying its leading whitespace
 * (newline + indentation, or a space on one line) and its `: ` spelling.
 */
export function insertPropertyAfter(
  text: string,
  object: JsonObjectNode,
  after: JsonProperty,
  key: string,
  valueText: string,
): TextEdit {
  const index = object.properties.indexOf(after);
  if (index === -1) throw new LocalError("E_WRAP", "insertPropertyAfter: property is not in this object");
  const colonGap = text.slice(after.keyEnd, after.value.start);
  const colon = /^[ \t]*:[ \t]*$/.test(colonGap) ? colonGap : ": ";
  const gap = leadingGap(text, object, index);
  const lineStart = text.lastIndexOf("\n", after.keyStart) + 1;
  const onOwnLine = lineStart > object.start && /^[ \t]*$/.test(text.slice(lineStart, after.keyStart));
  let lead = colon === ":" ? "" : " "; // one line: match the file's compactness
  if (onOwnLine) lead = BLANK.test(gap) ? gap : `${detectEol(text)}${text.slice(lineStart, after.keyStart)}`;
  return { start: after.value.end, end: after.value.end, text: `,${lead}${JSON.stringify(key)}${colon}${valueText}` };
}

/**
 * Removes a property together with one adjoining comma, so that undoing `insertPropertyAfter`
 * gives back the original bytes. Comments between the removed property and its neighbour go too.
 */
export function removeProperty(object: JsonObjectNode, property: JsonProperty): TextEdit {
  const index = object.properties.indexOf(property);
  if (index === -1) throw new LocalError("E_WRAP", "removeProperty: property is not in this object");
  const previous = object.properties[index - 1];
  if (previous !== undefined) return { start: previous.value.end, end: property.value.end, text: "" };
  const next = object.properties[index + 1];
  if (next !== undefined) return { start: property.keyStart, end: next.keyStart, text: "" };
  return { start: property.keyStart, end: property.comma === -1 ? property.value.end : property.comma + 1, text: "" };
}
