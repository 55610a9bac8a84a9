// Incremental Server-Sent Events parser (WHATWG "event stream" rules): bytes in, dispatched events out, over the shared SSE framing (wire/sse.ts). No I/O.

import { SseSplitter, type SseEvent as ReceivedEvent } from "../wire/sse.ts";

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
export class SseParser {
  private readonly splitter = new SseSplitter();
  private readonly received: ReceivedEvent[] = [];
  /** The last event id seen on this stream (survives events, as resumption needs); an empty `id:` resets it (WHATWG: no Last-Event-ID then). */
  lastEventId: string | undefined;
  /** The server's `retry:` advice in milliseconds, when it gave one. */
  retryMs: number | undefined;

  push(chunk: Uint8Array): SseEvent[] {
    this.splitter.push(chunk, this.received);
    const events: SseEvent[] = [];
    for (const event of this.received) {
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

  /** The stream ended: a final event without its blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.splitter.rest();
    return [];
  }
}
