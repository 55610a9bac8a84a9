// Newline framing of a byte stream: bytes in, complete lines out. Never decodes text; never re-joins more than one line.

/**
 * Lines up to this size are buffered whole and handed to the proxy for inspection. A longer
 * line is streamed through in pieces as it arrives ("overflow" frames) so memory stays bounded;
 * it is forwarded intact but not inspected. MCP SDK readers stop at 10 MiB, so 32 MiB leaves
 * ample room for legitimate results.
 */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * - `line`: one complete message line. `body` excludes the `\n`; `raw` is `body` plus the `\n`,
 *   ready to forward untouched (a view into the input chunk whenever the line did not straddle chunks).
 * - `overflow`: a piece of a line longer than the cap, to be forwarded as-is; `last` when this piece
 *   ends with (and includes) the line's `\n`.
 * - `tail`: bytes left without a final newline when the stream ended.
 */
export type Frame =
  | { readonly kind: "line"; readonly body: Uint8Array; readonly raw: Uint8Array }
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

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

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
      if (this.overflowing) {
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
    if (this.size > 0) out.push({ kind: "tail", raw: joinParts(this.parts, this.size, new Uint8Array(0)) });
    this.parts = [];
    this.size = 0;
    this.overflowing = false;
  }

  /** True while a too-long line is being streamed through. */
  get isOverflowing(): boolean {
    return this.overflowing;
  }

  private keep(rest: Uint8Array, out: Frame[]): void {
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
    out.push({ kind: "overflow", raw: joinParts(this.parts, this.size, new Uint8Array(0)), last: false });
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
