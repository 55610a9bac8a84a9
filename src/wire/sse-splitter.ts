// Server-Sent Events framing: cuts a byte stream into events at blank lines (each keeps its raw bytes), an event past the cap handed out in pieces. Pure; `serve` relays with it, `--url` dispatches with it.

import { BOM_BYTES, startsWithBom } from "./utf8.ts";
import { concatBytes } from "./bytes.ts";
import { addToEdges, type LineEdges } from "./framing.ts";
import { parseSseEvent, type SseEvent } from "./sse.ts";

const LF = 0x0a;
const CR = 0x0d;

/**
 * A piece of an event over the splitter's cap, to forward as it is (the event is not parsed);
 * the event's last piece carries its `edges`: its size and first and last bytes.
 */
export interface SseOverflow {
  readonly overflow: true;
  readonly raw: Uint8Array;
  readonly edges?: LineEdges;
}

/**
 * Splits SSE bytes into events at blank lines (LF, CRLF or CR line ends, per the HTML spec).
 * Keeps the chunks of an unfinished event as a list, joined once when the event completes,
 * so a multi-megabyte event costs one copy, not one per chunk. An event growing past
 * `maxEventBytes` is no longer kept: its bytes are handed out as they come (SseOverflow), as a
 * stdio line over the inspection cap is (wire/framing.ts).
 */
export class SseSplitter {
  private parts: Uint8Array[] = [];
  /** Bytes in `parts`. */
  private size = 0;
  /** The current event is over the cap: only its edges are kept. */
  private long: { size: number; head: Uint8Array; tail: Uint8Array } | undefined;
  private atLineStart = true;
  /** No event completed yet: the first one may start with the stream's byte order mark. */
  private first = true;
  private lastWasCr = false;

  constructor(private readonly maxEventBytes: number = Number.POSITIVE_INFINITY) {}

  /** Appends each event completed by `chunk` to `out` (and, past the cap, the pieces of a long one). */
  push(chunk: Uint8Array, out: (SseEvent | SseOverflow)[]): void {
    // Servers end lines with LF alone: then the native search finds them (a byte loop otherwise).
    if (!this.lastWasCr && chunk.indexOf(CR) === -1) return this.pushLf(chunk, out);
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
        start = this.complete(chunk, start, end, out);
        continue;
      }
      this.atLineStart = false;
      this.lastWasCr = false;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start), out);
  }

  /** {@link SseSplitter.push} for a chunk without CR: a line end right after another (or at an event's start) ends the event. */
  private pushLf(chunk: Uint8Array, out: (SseEvent | SseOverflow)[]): void {
    let start = 0;
    let from = 0; // just after the previous line end (or the chunk's start)
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, from)) {
      if (lf === from && this.atLineStart) start = this.complete(chunk, start, lf + 1, out);
      this.atLineStart = true;
      from = lf + 1;
    }
    if (from < chunk.length) this.atLineStart = false;
    if (start < chunk.length) this.keep(chunk.subarray(start), out);
  }

  /** The event ending at `end` (after its blank line) is complete: hands it out; returns where the next one starts. */
  private complete(chunk: Uint8Array, start: number, end: number, out: (SseEvent | SseOverflow)[]): number {
    const long = this.long;
    if (long !== undefined) {
      const last = chunk.subarray(start, end);
      addToEdges(long, last);
      out.push({ overflow: true, raw: last, edges: long });
      this.long = undefined;
      this.first = false;
      return end;
    }
    this.parts.push(chunk.subarray(start, end));
    const raw = concatBytes(this.parts);
    // The spec decodes the stream as UTF-8, which drops a leading BOM: its fields are read past it; `raw` keeps it.
    out.push(parseSseEvent(raw, this.first && startsWithBom(raw) ? BOM_BYTES : 0));
    this.first = false;
    this.parts = [];
    this.size = 0;
    return end;
  }

  /** Keeps a piece of an event whose end has not arrived; past the cap, hands it (and what was kept) out instead. */
  private keep(piece: Uint8Array, out: (SseEvent | SseOverflow)[]): void {
    if (this.long !== undefined) {
      addToEdges(this.long, piece);
      out.push({ overflow: true, raw: piece });
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
    if (this.size <= this.maxEventBytes) return;
    const long = { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };
    for (const part of this.parts) {
      addToEdges(long, part);
      out.push({ overflow: true, raw: part });
    }
    this.long = long;
    this.parts = [];
    this.size = 0;
  }

  /** Bytes of an unfinished event at end of stream (a client discards it; a relay forwards it as is; a long one's went out). */
  rest(): Uint8Array | undefined {
    this.long = undefined;
    if (this.parts.length === 0) return undefined;
    const tail = concatBytes(this.parts);
    this.parts = [];
    this.size = 0;
    return tail;
  }
}
