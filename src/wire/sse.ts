// Server-Sent Events read and written: one event's fields from its raw bytes as the spec reads them, a long event's data edges, new events rendered. Pure; the stream is cut into events by sse-splitter.ts.

import { BOM_BYTES, decodeUtf8, encodeUtf8, startsWithBom } from "./utf8.ts";
import { concatBytes } from "./bytes.ts";
import type { LineEdges } from "./framing.ts";

/** One SSE event as it arrived. `raw` includes its terminating blank line; forward it when nothing changes. */
export interface SseEvent {
  readonly raw: Uint8Array;
  /** Its last `id` field without a NUL (the spec ignores those); undefined when none. */
  readonly id: string | undefined;
  readonly event: string | undefined;
  /** The data lines joined with "\n"; undefined when the event had no data field (comments, id-only, retry). */
  readonly data: string | undefined;
  /** {@link SseEvent.data} as UTF-8 (for a single data line, a view into `raw`: no copy, no decode). */
  readonly dataBytes: Uint8Array | undefined;
  /** Its last `retry` field of ASCII digits only (the spec ignores others); undefined when none. */
  readonly retry: string | undefined;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

/** An event's fields; its data is decoded only when read as text (a relay mostly reads the bytes). */
class ParsedSseEvent implements SseEvent {
  #data: string | undefined;
  constructor(
    readonly raw: Uint8Array,
    readonly id: string | undefined,
    readonly event: string | undefined,
    readonly retry: string | undefined,
    readonly dataBytes: Uint8Array | undefined,
  ) {}
  get data(): string | undefined {
    if (this.dataBytes === undefined) return undefined;
    this.#data ??= decodeUtf8(this.dataBytes);
    return this.#data;
  }
}

/** UTF-8's byte order mark: a stream may start with it. */

/** The `event` value nearly every MCP server sends, recognised without decoding it. */
const MESSAGE = "message";

/**
 * Parses one event's raw bytes (fields per the HTML spec: one leading space after the colon is
 * dropped). Works on the bytes, splitting at LF (the rare CR line ends take {@link parseSseText}):
 * field names and separators are ASCII, so each field decodes as the whole text would. Fields are
 * read from `fieldsFrom` on (past a stream's BOM); `raw` is kept whole.
 */
export function parseSseEvent(raw: Uint8Array, fieldsFrom = 0): SseEvent {
  if (raw.indexOf(CR, fieldsFrom) !== -1) return parseSseText(raw, fieldsFrom);
  let id: string | undefined;
  let event: string | undefined;
  let retry: string | undefined;
  let data: Uint8Array | undefined;
  let dataLines: Uint8Array[] | undefined;
  for (let start = fieldsFrom; start < raw.length; ) {
    let end = raw.indexOf(LF, start);
    if (end === -1) end = raw.length;
    if (end > start && raw[start] !== COLON) {
      // Within the line: a search past its end would read on through every colon-less line after it.
      let colon = start;
      while (colon < end && raw[colon] !== COLON) colon++;
      let from = colon === end ? end : colon + 1;
      if (from < end && raw[from] === SPACE) from++;
      switch (fieldAt(raw, start, colon)) {
        case "data":
          if (data === undefined) data = raw.subarray(from, end);
          else (dataLines ??= [data]).push(raw.subarray(from, end));
          break;
        case "id":
          id = idValue(decodeUtf8(raw.subarray(from, end))) ?? id;
          break;
        case "event":
          event = isAsciiAt(raw, from, end, MESSAGE) ? MESSAGE : decodeUtf8(raw.subarray(from, end));
          break;
        case "retry":
          retry = retryValue(decodeUtf8(raw.subarray(from, end))) ?? retry;
          break;
      }
    }
    start = end + 1;
  }
  return new ParsedSseEvent(raw, id, event, retry, dataLines === undefined ? data : joinLines(dataLines));
}

/** An `id` value the spec takes: any without NUL. */
const idValue = (value: string): string | undefined => (value.includes("\0") ? undefined : value);
/** A `retry` value the spec takes: ASCII digits only. */
const retryValue = (value: string): string | undefined => (/^\d+$/.test(value) ? value : undefined);

/** The field named by `raw[start..end)`, when it is one of the four the spec knows (no view made: views cost). */
function fieldAt(raw: Uint8Array, start: number, end: number): "data" | "id" | "event" | "retry" | undefined {
  if (isAsciiAt(raw, start, end, "data")) return "data";
  if (isAsciiAt(raw, start, end, "id")) return "id";
  if (isAsciiAt(raw, start, end, "event")) return "event";
  if (isAsciiAt(raw, start, end, "retry")) return "retry";
  return undefined;
}

/** `raw[start..end)` is exactly the ASCII `text`. */
function isAsciiAt(raw: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (raw[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Data lines joined with LF, as the spec joins them. */
function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const line of lines) parts.push(line, LF_BYTES);
  parts.pop();
  return concatBytes(parts);
}
const LF_BYTES = new Uint8Array([LF]);

/** {@link parseSseEvent} through the decoded text: any mix of CRLF, CR and LF line ends. */
function parseSseText(raw: Uint8Array, fieldsFrom: number): SseEvent {
  let id: string | undefined;
  let event: string | undefined;
  let retry: string | undefined;
  let data: string[] | undefined;
  const text = decodeUtf8(fieldsFrom === 0 ? raw : raw.subarray(fieldsFrom));
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") (data ??= []).push(value);
    else if (field === "id") id = idValue(value) ?? id;
    else if (field === "event") event = value;
    else if (field === "retry") retry = retryValue(value) ?? retry;
  }
  return new ParsedSseEvent(raw, id, event, retry, data === undefined ? undefined : encodeUtf8(data.join("\n")));
}

/** Renders an event with the same id/event/retry and new data (one `data:` line per data line). */
export function renderSseEvent(fields: {
  id?: string | undefined;
  event?: string | undefined;
  retry?: string | undefined;
  data: string;
}): string {
  let text = "";
  if (fields.event !== undefined) text += `event: ${fields.event}\n`;
  if (fields.id !== undefined) text += `id: ${fields.id}\n`;
  if (fields.retry !== undefined) text += `retry: ${fields.retry}\n`;
  for (const line of fields.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/**
 * The edges of a long event's data, from the event's edges: its head from the first `data` field
 * on, its tail without the blank line that ends it. Undefined when the head shows another type
 * than `message` or no data field (only `message` events carry JSON-RPC).
 */
export function sseDataEdges(edges: LineEdges): LineEdges | undefined {
  const head = edges.head;
  let start = startsWithBom(head) ? BOM_BYTES : 0;
  for (;;) {
    let end = start;
    while (end < head.length && head[end] !== LF && head[end] !== CR) end++;
    let colon = start;
    while (colon < end && head[colon] !== COLON) colon++;
    const field = fieldAt(head, start, colon);
    let from = colon === end ? end : colon + 1;
    if (from < end && head[from] === SPACE) from++;
    if (field === "data") {
      let tailEnd = edges.tail.length;
      while (tailEnd > 0 && (edges.tail[tailEnd - 1] === LF || edges.tail[tailEnd - 1] === CR)) tailEnd--;
      return { size: edges.size, head: head.subarray(from), tail: edges.tail.subarray(0, tailEnd) };
    }
    // A field other than data running past the head (or another event type): no data to read.
    if (end === head.length || (field === "event" && !isAsciiAt(head, from, end, MESSAGE))) return undefined;
    start = head[end] === CR && head[end + 1] === LF ? end + 2 : end + 1;
  }
}
