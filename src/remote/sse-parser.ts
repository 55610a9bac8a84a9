// Incremental Server-Sent Events parser (WHATWG "event stream" rules): bytes in, dispatched events out. No I/O.

const LF = 0x0a;

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
  /** The text of the line still arriving (no line end in it yet), in pieces joined once it ends. */
  private tail: string[] = [];
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
    this.tail = [];
    return events;
  }

  /**
   * Each text is searched once: the next LF and the next CR are looked up again only once passed,
   * and a line longer than a chunk waits as pieces. Why: searching the whole buffer again for each
   * line (and for each chunk of a long line) made a stream cost time quadratic in a chunk's lines
   * and an event's size (one 32 MB event: 1.3 s).
   */
  private feed(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    if (text === "") return events; // an empty chunk: a CR just before may still meet its LF
    let start = this.pendingCr && text.charCodeAt(0) === LF ? 1 : 0;
    this.pendingCr = false;
    let lf = text.indexOf("\n", start);
    let cr = text.indexOf("\r", start);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === text.length) {
          // CR at the very end: the LF of a CRLF may be in the next chunk.
          this.pendingCr = true;
          next = cr + 1;
        } else {
          next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      const piece = text.slice(start, end);
      if (this.tail.length === 0) this.line(piece, events);
      else {
        this.tail.push(piece);
        const line = this.tail.join("");
        this.tail = [];
        this.line(line, events);
      }
      start = next;
      if (lf !== -1 && lf < start) lf = text.indexOf("\n", start);
      if (cr !== -1 && cr < start) cr = text.indexOf("\r", start);
    }
    if (start < text.length) this.tail.push(text.slice(start));
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
