// The data of one SSE event too long to hold, as it arrives: its pieces in, its data bytes out (`--url` writes them as its stdout line, `serve` reads a batch's members from them). No I/O.

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
/** What joins two data lines in the line: the spec joins them with LF, which a line cannot hold (bodyToLine makes it a space too). */
const JOIN = new Uint8Array([SPACE]);
/** Field names and the values kept (`event`) are short: longer ones are no field the proxy reads. */
const MAX_FIELD_CHARS = 64;

/**
 * Reads an event's fields as they come (LF, CR or CRLF line ends, one space after the colon
 * dropped, per the HTML spec): the values of its `data` lines are handed out as views of the
 * pieces, joined by a space; other fields are skipped. `dropped` once an `event` field names a
 * type other than `message` (only those carry JSON-RPC): the caller writes nothing more.
 */
export class LongEventData {
  private state: "name" | "afterColon" | "value" | "data" = "name";
  private name = "";
  private value = "";
  private lastWasCr = false;
  private dataLines = 0;
  dropped = false;

  /** The data bytes in `piece` (views into it, in order). */
  take(piece: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < piece.length) {
      if (this.state === "data") {
        // Within a data value: find its end natively (the value is most of the event).
        const lf = piece.indexOf(LF, i);
        const cr = piece.indexOf(CR, i);
        const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
        if (end === -1) {
          out.push(piece.subarray(i));
          return out;
        }
        if (end > i) out.push(piece.subarray(i, end));
        this.endField();
        this.lastWasCr = piece[end] === CR;
        i = end + 1;
        continue;
      }
      const byte = piece[i] as number;
      if (byte === LF && this.lastWasCr) {
        this.lastWasCr = false;
        i++;
        continue;
      }
      this.lastWasCr = byte === CR;
      const lineEnd = byte === LF || byte === CR;
      if (this.state === "afterColon") {
        this.state = this.name === "data" ? "data" : "value";
        if (this.state === "data" && this.dataLines++ > 0) out.push(JOIN);
        if (byte === SPACE) i++;
        continue; // the byte (unless the one space) is read again in the new state
      }
      i++;
      if (lineEnd) {
        this.endField();
      } else if (this.state === "name") {
        if (byte === COLON) this.state = "afterColon";
        else if (this.name.length < MAX_FIELD_CHARS) this.name += String.fromCharCode(byte);
      } else if (this.value.length < MAX_FIELD_CHARS) {
        this.value += String.fromCharCode(byte);
      }
    }
    return out;
  }

  private endField(): void {
    if (this.name === "event" && this.value !== "" && this.value !== "message") this.dropped = true;
    this.name = "";
    this.value = "";
    this.state = "name";
  }
}
