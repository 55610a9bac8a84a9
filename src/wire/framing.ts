// Newline framing of a byte stream: bytes in, complete lines out. Never decodes text; never re-joins more than one line.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * Lines up to this size are kept whole and handed to the proxy for inspection. A longer line
 * is passed through in pieces as it arrives ("overflow" frames), so memory stays bounded; it
 * is forwarded intact, and only its first and last bytes are kept (enough to find its id).
 * Parsing a 16 MiB line costs ~300 ms of hot-path time for telemetry that keeps 64 KiB of it.
 */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Bytes kept from each end of a line over the cap. */
export const LINE_EDGE_BYTES = 4096;

const NEWLINE = 0x0a;
const EMPTY = new Uint8Array(0);

/** What is known of a line too long to inspect: its size and its first and last bytes (newline excluded). */
export interface LineEdges {
  readonly size: number;
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  /**
   * A batch (`[…]`): the edges of each of its objects, so every request a huge batch answers (or
   * makes) can still be found, not only its first and last (at most MAX_BATCH_MEMBERS).
   */
  readonly members?: readonly LineEdges[];
}

/** Members of a long batch whose edges are kept; a batch of more answers leaves the rest to the pending bounds. */
export const MAX_BATCH_MEMBERS = 1024;

/** Edges being gathered (a batch's get `members` once its first byte shows it is one). */
interface GrowingEdges {
  size: number;
  head: Uint8Array;
  tail: Uint8Array;
}

/** The member scan of each long line being gathered: null when the line is no batch. */
const batchScans = new WeakMap<GrowingEdges, BatchScan | null>();

/** Where a pass over a long batch's bytes is: JSON nesting outside strings, and the member being read. */
interface BatchScan {
  depth: number;
  inString: boolean;
  escaped: boolean;
  member: GrowingEdges | undefined;
  readonly members: LineEdges[];
}

/**
 * - `line`: one complete line. `body` excludes the `\n`; `raw` is `body` plus the `\n`, ready to
 *   forward untouched (a view into the input chunk when the line did not straddle chunks).
 *   `streamed`: its bytes already went out as `partial` frames; it is here for inspection only,
 *   and its pieces are joined only when `raw` or `body` is first read (`size` needs no join); the
 *   last line of a stream that ended without a newline comes so too, `raw` then equal to `body`.
 * - `partial`: with cut-through on, a piece of a line still arriving, to be forwarded at once.
 * - `overflow`: a piece of a line over the cap, to be forwarded as-is (it may be empty when the
 *   bytes already went out as `partial` frames). The last piece carries the line's `edges`.
 * - `tail`: bytes left without a final newline when the stream ended.
 */
export type Frame =
  | { readonly kind: "line"; readonly body: Uint8Array; readonly raw: Uint8Array; readonly streamed?: undefined }
  | {
      readonly kind: "line";
      readonly body: Uint8Array;
      readonly raw: Uint8Array;
      readonly streamed: true;
      readonly size: number;
    }
  | { readonly kind: "partial"; readonly raw: Uint8Array }
  | { readonly kind: "overflow"; readonly raw: Uint8Array; readonly edges?: LineEdges }
  | { readonly kind: "tail"; readonly raw: Uint8Array };

/**
 * Splits a byte stream on `\n` (0x0A never occurs inside a multi-byte UTF-8 sequence, so
 * splitting bytes is safe). The partial line is kept as a list of chunks, joined once when
 * its newline arrives: a 4 MiB line in 64 KiB reads costs one copy, not 64.
 */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** The current line's bytes are going out as they arrive (cut-through). */
  private streaming = false;
  /** The current line is over the cap: only its edges are kept. */
  private long: GrowingEdges | undefined;

  /**
   * @param cutThrough asked when a line does not finish in the chunk where it starts: true lets
   *   its bytes go out as they arrive (`partial` frames) instead of after its newline, so a
   *   multi-megabyte result flows through instead of being stored, then forwarded.
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
      this.finish(chunk.subarray(start, nl + 1), out);
      start = nl + 1;
    }
  }

  /**
   * Call once at end of stream: flushes a final line that had no newline. A long tail has already
   * gone out; a streamed one too, and comes once more for inspection (a streamed line without its
   * newline); a buffered one goes out now.
   */
  end(out: Frame[]): void {
    if (this.size > 0 && this.long === undefined)
      out.push(
        this.streaming
          ? new StreamedLine(this.parts, this.size, false)
          : { kind: "tail", raw: joinParts(this.parts, this.size, EMPTY) },
      );
    this.reset();
  }

  /** The line ends with `last` (which includes its newline). */
  private finish(last: Uint8Array, out: Frame[]): void {
    const long = this.long;
    if (long !== undefined) {
      addToEdges(long, last.subarray(0, last.length - 1));
      if (this.streaming) out.push({ kind: "partial", raw: last });
      out.push({ kind: "overflow", raw: this.streaming ? EMPTY : last, edges: long });
    } else if (this.size === 0) {
      out.push({ kind: "line", body: last.subarray(0, last.length - 1), raw: last });
    } else if (this.size + last.length - 1 > this.maxLineBytes) {
      this.goLong(out);
      this.finish(last, out);
      return;
    } else if (this.streaming) {
      // The last piece goes out first; joining a multi-megabyte line (a copy, fresh pages) waits
      // for its inspection, after the pumps have handed that piece to the client.
      out.push({ kind: "partial", raw: last });
      this.parts.push(last);
      out.push(new StreamedLine(this.parts, this.size + last.length));
    } else {
      const raw = joinParts(this.parts, this.size, last);
      out.push({ kind: "line", body: raw.subarray(0, raw.length - 1), raw });
    }
    this.reset();
  }

  /** Keeps a piece of a line whose newline has not arrived yet. */
  private keep(piece: Uint8Array, out: Frame[]): void {
    if (this.size === 0 && this.long === undefined && !this.streaming) this.streaming = this.cutThrough();
    if (this.streaming) out.push({ kind: "partial", raw: piece });
    if (this.long !== undefined) {
      addToEdges(this.long, piece);
      if (!this.streaming) out.push({ kind: "overflow", raw: piece });
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
    if (this.size > this.maxLineBytes) this.goLong(out);
  }

  /** The line is over the cap: what was kept goes out (unless already streamed); only edges stay. */
  private goLong(out: Frame[]): void {
    const buffered = joinParts(this.parts, this.size, EMPTY);
    this.long = { size: 0, head: EMPTY, tail: EMPTY };
    addToEdges(this.long, buffered);
    out.push({ kind: "overflow", raw: this.streaming ? EMPTY : buffered });
    this.parts = [];
    this.size = 0;
  }

  // Once per chunk and line: an FTL compile of them costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
  static {
    keepOutOfFtl(LineSplitter.prototype.push, LineSplitter.prototype.finish, LineSplitter.prototype.keep);
  }

  private reset(): void {
    if (this.parts.length > 0) this.parts = []; // most lines never used it (a streamed line took it with it)
    this.size = 0;
    this.streaming = false;
    this.long = undefined;
  }
}

/** A line whose bytes went out as `partial` frames: its pieces are joined once, when inspection first reads it. */
class StreamedLine {
  readonly kind = "line";
  readonly streamed = true;
  #parts: readonly Uint8Array[] | undefined;
  #raw: Uint8Array | undefined;

  constructor(
    parts: readonly Uint8Array[],
    /** Bytes in the line, newline included (known without the join). */
    readonly size: number,
    /** False for the last bytes of a stream that ended without a newline. */
    private readonly ended = true,
  ) {
    this.#parts = parts;
  }

  get raw(): Uint8Array {
    if (this.#raw === undefined) {
      this.#raw = joinParts(this.#parts ?? [], this.size, EMPTY);
      this.#parts = undefined; // the chunks' views are no longer needed
    }
    return this.#raw;
  }

  get body(): Uint8Array {
    return this.ended ? this.raw.subarray(0, this.size - 1) : this.raw;
  }
}

/** Counts `piece` into a long line's size and edges (the head fills up first, the tail rolls), and a batch's into its members'. */
export function addToEdges(long: GrowingEdges, piece: Uint8Array): void {
  let scan = batchScans.get(long);
  if (scan === undefined) scan = startBatchScan(long, piece);
  if (scan) scanBatch(scan, piece);
  addToOwnEdges(long, piece);
}

function addToOwnEdges(long: GrowingEdges, piece: Uint8Array): void {
  long.size += piece.length;
  if (long.head.length < LINE_EDGE_BYTES) {
    const grown = new Uint8Array(Math.min(LINE_EDGE_BYTES, long.head.length + piece.length));
    grown.set(long.head, 0);
    grown.set(piece.subarray(0, grown.length - long.head.length), long.head.length);
    long.head = grown;
  }
  long.tail = keepTail(long.tail, piece);
}

/** Decides from the line's first byte that is not whitespace whether it is a batch (undecided while there is none). */
function startBatchScan(long: GrowingEdges, piece: Uint8Array): BatchScan | null | undefined {
  for (const byte of piece) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0d) continue;
    const scan = byte === 0x5b ? { depth: 0, inString: false, escaped: false, member: undefined, members: [] } : null;
    batchScans.set(long, scan);
    if (scan !== null) (long as { members?: readonly LineEdges[] }).members = scan.members;
    return scan;
  }
  return undefined;
}

/** One pass over a piece of a long batch: each object at its top level becomes a member with its own edges. */
function scanBatch(scan: BatchScan, piece: Uint8Array): void {
  let from = scan.member === undefined ? -1 : 0;
  for (let i = 0; i < piece.length; i++) {
    const byte = piece[i] as number;
    if (scan.inString) {
      if (scan.escaped) scan.escaped = false;
      else if (byte === 0x5c) scan.escaped = true;
      else if (byte === 0x22) scan.inString = false;
    } else if (byte === 0x22) scan.inString = true;
    else if (byte === 0x7b || byte === 0x5b) {
      scan.depth++;
      if (scan.depth === 2 && byte === 0x7b) {
        scan.member = { size: 0, head: EMPTY, tail: EMPTY };
        from = i;
      }
    } else if (byte === 0x7d || byte === 0x5d) {
      if (scan.depth === 2 && scan.member !== undefined) {
        addToOwnEdges(scan.member, piece.subarray(from, i + 1));
        if (scan.members.length < MAX_BATCH_MEMBERS) scan.members.push(scan.member);
        scan.member = undefined;
        from = -1;
      }
      scan.depth--;
    }
  }
  if (scan.member !== undefined && from !== -1) addToOwnEdges(scan.member, piece.subarray(from));
}

/** The last LINE_EDGE_BYTES of `tail` followed by `piece`. */
function keepTail(tail: Uint8Array, piece: Uint8Array): Uint8Array {
  if (piece.length >= LINE_EDGE_BYTES) return piece.slice(piece.length - LINE_EDGE_BYTES);
  const keepFromTail = Math.min(tail.length, LINE_EDGE_BYTES - piece.length);
  const joined = new Uint8Array(keepFromTail + piece.length);
  joined.set(tail.subarray(tail.length - keepFromTail), 0);
  joined.set(piece, keepFromTail);
  return joined;
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
