// Incremental Server-Sent Events parser (WHATWG "event stream" rules): bytes in, dispatched events out. No I/O.

/** One dispatched event. `id` is the stream's last event id at dispatch time (sticky, per the SSE rules). */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id: string | undefined;
}

/**
 * Feeds chunks of an `text/event-stream` body; returns the events each chunk completes. Text is
 * decoded as one stream (a multi-byte character may straddle chunks); lines end in CRLF, LF or
 * CR; `:` comments are ignored; `retry:` is kept for the reconnect delay. A field `id` holding
 * NUL is ignored, as the standard says.
 */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  /** The previous chunk ended in CR: a leading LF in the next one belongs to that line break. */
  private pendingCr = false;
  private eventType = "";
  private data: string[] = [];
  private hasData = false;
  /** The last event id seen on this stream (survives events, as resumption needs). */
  lastEventId: string | undefined;
  /** The server's `retry:` advice in milliseconds, when it gave one. */
  retryMs: number | undefined;

  push(chunk: Uint8Array): SseEvent[] {
    return this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a final event without its blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    const events = this.feed(this.decoder.decode());
    this.buffer = "";
    return events;
  }

  private feed(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    let input = text;
    if (this.pendingCr && input.startsWith("\n")) input = input.slice(1);
    this.pendingCr = false;
    this.buffer += input;
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf("\n", start);
      const cr = this.buffer.indexOf("\r", start);
      if (lf === -1 && cr === -1) break;
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === this.buffer.length) {
          // CR at the very end: the LF of a CRLF may be in the next chunk.
          this.pendingCr = true;
          next = cr + 1;
        } else {
          next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end), events);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === "") {
      if (this.hasData)
        events.push({
          event: this.eventType === "" ? "message" : this.eventType,
          data: this.data.join("\n"),
          id: this.lastEventId,
        });
      this.eventType = "";
      this.data = [];
      this.hasData = false;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
  }
}
