// Server-Sent Events framing: splits a byte stream into events (keeping each event's raw bytes) and renders new ones. Pure.

import { decodeUtf8 } from "../wire/jsonrpc.ts";
import { concatBytes } from "../wire/bytes.ts";

/** One SSE event as it arrived. `raw` includes its terminating blank line; forward it when nothing changes. */
export interface SseEvent {
  readonly raw: Uint8Array;
  readonly id: string | undefined;
  readonly event: string | undefined;
  /** The data lines joined with "\n"; undefined when the event had no data field (comments, id-only, retry). */
  readonly data: string | undefined;
  readonly retry: string | undefined;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits SSE bytes into events at blank lines (LF, CRLF or CR line ends, per the HTML spec).
 * Keeps the chunks of an unfinished event as a list, joined once when the event completes,
 * so a multi-megabyte event costs one copy, not one per chunk.
 */
export class SseSplitter {
  private parts: Uint8Array[] = [];
  private atLineStart = true;
  private lastWasCr = false;

  /** Appends each event completed by `chunk` to `out`. */
  push(chunk: Uint8Array, out: SseEvent[]): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === LF && this.lastWasCr) {
        this.lastWasCr = false; // the LF of a CRLF already counted as a line end
        continue;
      }
      if (byte === LF || byte === CR) {
        this.lastWasCr = byte === CR;
        if (!this.atLineStart) {
          this.atLineStart = true;
          continue;
        }
        let end = i + 1;
        if (byte === CR && chunk[end] === LF) {
          end += 1;
          this.lastWasCr = false;
          i += 1;
        }
        this.parts.push(chunk.subarray(start, end));
        out.push(parseSseEvent(concatBytes(this.parts)));
        this.parts = [];
        start = end;
        continue;
      }
      this.atLineStart = false;
      this.lastWasCr = false;
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
  }

  /** Bytes of an unfinished event at end of stream (a client discards it; a relay forwards it as is). */
  rest(): Uint8Array | undefined {
    if (this.parts.length === 0) return undefined;
    const tail = concatBytes(this.parts);
    this.parts = [];
    return tail;
  }
}

/** Parses one event's raw bytes (fields per the HTML spec: one leading space after the colon is dropped). */
export function parseSseEvent(raw: Uint8Array): SseEvent {
  let id: string | undefined;
  let event: string | undefined;
  let retry: string | undefined;
  let data: string[] | undefined;
  const text = decodeUtf8(raw);
  // Servers almost always end lines with LF alone: a plain split then, the regex only when a CR is there.
  for (const line of text.includes("\r") ? text.split(/\r\n|\r|\n/) : text.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") (data ??= []).push(value);
    else if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "retry") retry = value;
  }
  return { raw, id, event, data: data?.join("\n"), retry };
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
