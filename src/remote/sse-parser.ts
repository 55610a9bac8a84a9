// Incremental Server-Sent Events parser (WHATWG "event stream" rules): bytes in, dispatched events out, over the shared SSE framing (wire/sse-splitter.ts). No I/O.

import type { LineEdges } from "../wire/framing.ts";
import { parseSseEvent, type SseEvent as ReceivedEvent } from "../wire/sse.ts";
import { SseSplitter, type SseOverflow } from "../wire/sse-splitter.ts";

/** One dispatched event. `id` is the stream's last event id at dispatch time (sticky, per the SSE rules). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  /** `data` as the server's UTF-8 bytes (a view: no decode, no copy). */
  readonly dataBytes: Uint8Array;
  readonly id: string | undefined;
}

/** A dispatched event over the received one: its data text is decoded only when asked for. */
class DispatchedEvent implements SseEvent {
  constructor(
    readonly event: string,
    private readonly received: ReceivedEvent,
    readonly dataBytes: Uint8Array,
    readonly id: string | undefined,
  ) {}
  get data(): string {
    return this.received.data ?? "";
  }
}

/**
 * Feeds chunks of an `text/event-stream` body; returns the events each chunk completes. Events
 * are split on the bytes (a multi-byte character may straddle chunks: an event is decoded once
 * whole); lines end in CRLF, LF or CR; `:` comments are ignored; `retry:` is kept for the
 * reconnect delay; an `id` holding NUL is ignored and an event without data is not dispatched, as
 * the standard says.
 */
/**
 * A piece of an event over the parser's cap, in arrival order (its fields unread); the event's
 * last piece carries its `edges`. The event counts as dispatched then (its id, when its first
 * bytes show one, is the stream's last event id from there).
 */
export interface SseLongPiece {
  readonly long: true;
  readonly raw: Uint8Array;
  readonly edges?: LineEdges;
}

export class SseParser {
  private readonly splitter: SseSplitter;
  private readonly received: (ReceivedEvent | SseOverflow)[] = [];
  /** The last event id seen on this stream (survives events, as resumption needs); an empty `id:` resets it (WHATWG: no Last-Event-ID then). */
  lastEventId: string | undefined;
  /** The server's `retry:` advice in milliseconds, when it gave one. */
  retryMs: number | undefined;

  /** `maxEventBytes`: an event longer than this is handed out in pieces (SseLongPiece) as it arrives, not held. */
  constructor(maxEventBytes = Number.POSITIVE_INFINITY) {
    this.splitter = new SseSplitter(maxEventBytes);
  }

  /** The events `chunk` completes (a parser without a cap never hands out long pieces). */
  push(chunk: Uint8Array): SseEvent[] {
    return this.read(chunk) as SseEvent[];
  }

  /** The events `chunk` completes, and the pieces of an event over the cap, in order. */
  read(chunk: Uint8Array): (SseEvent | SseLongPiece)[] {
    this.splitter.push(chunk, this.received);
    const events: (SseEvent | SseLongPiece)[] = [];
    for (const event of this.received) {
      if ("overflow" in event) {
        events.push({ long: true, raw: event.raw, edges: event.edges });
        if (event.edges !== undefined) this.fieldsOfLong(event.edges.head);
        continue;
      }
      if (event.id !== undefined) this.lastEventId = event.id === "" ? undefined : event.id;
      if (event.retry !== undefined) this.retryMs = Number(event.retry);
      const data = event.dataBytes;
      if (data === undefined) continue;
      const type = event.event === undefined || event.event === "" ? "message" : event.event;
      events.push(new DispatchedEvent(type, event, data, this.lastEventId));
    }
    this.received.length = 0;
    return events;
  }

  /** A long event's `id` and `retry`, from the lines its first bytes hold whole (servers write them before the data). */
  private fieldsOfLong(head: Uint8Array): void {
    let end = head.length;
    while (end > 0 && head[end - 1] !== 0x0a && head[end - 1] !== 0x0d) end--;
    const fields = parseSseEvent(head.subarray(0, end));
    if (fields.id !== undefined) this.lastEventId = fields.id === "" ? undefined : fields.id;
    if (fields.retry !== undefined) this.retryMs = Number(fields.retry);
  }

  /** The stream ended: a final event without its blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.splitter.rest();
    return [];
  }
}
