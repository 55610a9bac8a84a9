// Newline framing of a byte stream: bytes in, complete lines out. Never decodes text; never re-joins more than one line.

/**
 * Lines up to this size are buffered whole and handed to the proxy for inspection. A longer
 * line is streamed through in pieces as it arrives ("overflow" frames) so memory stays bounded;
 * it is forwarded intact but not inspected. MCP SDK readers stop at 10 MiB, so 32 MiB leaves
 * ample room for legitimate results.
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

/**
 * - `line`: one complete message line. `body` excludes the `\n`; `raw` is `body` plus the `\n`,
 *   ready to forward untouched (a view into the input chunk whenever the line did not straddle chunks).
 * - `overflow`: a piece of a line longer than the cap, to be forwarded as-is; `last` when this piece
 *   ends with (and includes) the line's `\n`.
 * - `tail`: bytes left without a final newline when the stream ended.
 * - `partial`: with cut-through on, a piece of a line still arriving, to be forwarded at once;
 *   the line then comes whole as a `line` with `streamed: true`, for inspection only (its bytes,
 *   newline included, have all gone out as `partial` frames).
 */
export type Frame =
  | { readonly kind: "line"; readonly body: Uint8Array; readonly raw: Uint8Array; readonly streamed?: true }
  | { readonly kind: "partial"; readonly raw: Uint8Array }
  | { readonly kind: "overflow"; readonly raw: Uint8Array; readonly last: boolean }
  | { readonly kind: "tail"; readonly raw: Uint8Array };

/**
 * Splits a byte stream on `\n` (0x0A never occurs inside a multi-byte UTF-8 sequence, so
 * splitting bytes is safe). The partial tail is kept as a list of chunks, joined once when
 * its newline arrives: a 16 MiB line in 64 KiB reads costs one copy, not 256.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  private overflowing = false;
  private streaming = false;

  /**
   * @param cutThrough asked when a line starts without finishing in its first chunk: true lets
   *   its bytes go out as they arrive (`partial` frames) instead of after its newline, so a
   *   multi-megabyte result flows through the proxy instead of being stored and then forwarded.
   */
  constructor(
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
    private readonly cutThrough: () => boolean = () => false,
  ) {}

  /** Appends the frames completed by `chunk` to `out`. The chunk must not be mutated afterwards. */
  push(chunk: Uint8Array, out: Frame[]): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(chunk.subarray(start), out);
        return;
      }
      const withNewline = chunk.subarray(start, nl + 1);
      if (this.streaming) {
        out.push({ kind: "partial", raw: withNewline });
        if (this.overflowing) {
          out.push({ kind: "overflow", raw: EMPTY, last: true });
          this.overflowing = false;
        } else {
          const raw = joinParts(this.parts, this.size, withNewline);
          out.push({ kind: "line", body: raw.subarray(0, raw.length - 1), raw, streamed: true });
        }
        this.parts = [];
        this.size = 0;
        this.streaming = false;
      } else if (this.overflowing) {
        out.push({ kind: "overflow", raw: withNewline, last: true });
        this.overflowing = false;
      } else if (this.size === 0) {
        out.push({ kind: "line", body: withNewline.subarray(0, withNewline.length - 1), raw: withNewline });
      } else if (this.size + withNewline.length - 1 > this.maxLineBytes) {
        this.spill(out);
        out.push({ kind: "overflow", raw: withNewline, last: true });
      } else {
        const raw = joinParts(this.parts, this.size, withNewline);
        this.parts = [];
        this.size = 0;
        out.push({ kind: "line", body: raw.subarray(0, raw.length - 1), raw });
      }
      start = nl + 1;
    }
  }

  /** Call once at end of stream: flushes a final line that had no newline. */
  end(out: Frame[]): void {
    // A streamed tail has already gone out; an unstreamed one goes out now.
    if (this.size > 0 && !this.streaming) out.push({ kind: "tail", raw: joinParts(this.parts, this.size, EMPTY) });
    this.parts = [];
    this.size = 0;
    this.overflowing = false;
    this.streaming = false;
  }

  private keep(rest: Uint8Array, out: Frame[]): void {
    if (this.size === 0 && !this.overflowing && !this.streaming) this.streaming = this.cutThrough();
    if (this.streaming) {
      out.push({ kind: "partial", raw: rest });
      if (this.overflowing) return;
      this.parts.push(rest);
      this.size += rest.length;
      if (this.size > this.maxLineBytes) {
        // Too long to inspect: stop keeping a copy; the bytes keep flowing as partial frames.
        // An empty overflow frame tells the caller (it forwards nothing, it may log).
        this.parts = [];
        this.size = 0;
        this.overflowing = true;
        out.push({ kind: "overflow", raw: EMPTY, last: false });
      }
      return;
    }
    if (this.overflowing) {
      out.push({ kind: "overflow", raw: rest, last: false });
      return;
    }
    this.parts.push(rest);
    this.size += rest.length;
    if (this.size > this.maxLineBytes) this.spill(out);
  }

  /** Switches to streaming: what was buffered goes out as the first overflow piece. */
  private spill(out: Frame[]): void {
    out.push({ kind: "overflow", raw: joinParts(this.parts, this.size, EMPTY), last: false });
    this.parts = [];
    this.size = 0;
    this.overflowing = true;
  }
}

function joinParts(parts: readonly Uint8Array[], size: number, last: Uint8Array): Uint8Array {
  const joined = new Uint8Array(size + last.length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  joined.set(last, offset);
  return joined;
}
