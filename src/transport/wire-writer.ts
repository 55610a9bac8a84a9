// Writes bytes to one peer (the client's stdout, the server's input) in order with backpressure, surviving a closed peer.

import type { Logger } from "../log.ts";
import { describeError } from "../errors.ts";
import type { ByteSink } from "./upstream.ts";
import { concatBytes } from "../wire/bytes.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

const encoder = new TextEncoder();
const NEWLINE = 0x0a;
const LINE_END = new Uint8Array([NEWLINE]);

/**
 * Bun's FileSink once ended (upstream.close() ends the server's input while the client may still
 * write) returns a boolean, neither a count nor a promise: the bytes go nowhere, and saying so
 * plainly beats the TypeError of calling `.then` on it.
 */
const INPUT_CLOSED = new Error("its input is closed");

function isThenable(value: unknown): value is Promise<number> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Queued bytes handed to the pipe at once even before the end of the chunk (bounds the queue). */
export const MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * One writer per destination, shared by everything that writes there, so messages keep their
 * order. `write` queues bytes; `drain` (called by the pumps after each input chunk) hands them to
 * Bun's FileSink as one buffer, which writes at once when the pipe has room: one syscall per chunk
 * instead of one per message (the lines of a chunk are usually adjacent views into it, joined
 * without copying). `drain` resolves when the pipe has taken them, and the pumps await it before
 * reading more, so a slow reader slows its sender instead of growing our memory.
 */
export class WireWriter {
  private broken = false;
  private dirty = false;
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  /** The last bytes written ended inside a line (a long line going out in pieces as it arrives). */
  private midLine = false;
  /** Messages of the proxy's own that came while a line was going out: they follow its end. */
  private held: Uint8Array[] | undefined;
  private heldBytes = 0;
  /** Settles once the held messages are written (or the peer is gone): see heldRoom. */
  private room: { readonly promise: Promise<void>; readonly open: () => void } | undefined;

  constructor(
    private readonly sink: ByteSink,
    private readonly peer: string,
    private readonly logger: Logger,
    /** Called once when the peer is found gone (EPIPE, closed pipe). */
    private readonly onBroken: () => void = () => undefined,
  ) {}

  /** Queues raw bytes (already newline-terminated, or a deliberate fragment of a long line). */
  write(bytes: Uint8Array): void {
    if (this.broken || bytes.length === 0) return; // a peer that is gone takes nothing more
    this.enqueue(bytes);
    this.midLine = bytes[bytes.length - 1] !== NEWLINE;
    if (!this.midLine && this.held !== undefined) this.release();
  }

  /**
   * Serialises a message the proxy built or changed, as one line. While a line is going out in
   * pieces (a long server answer passed on as it arrives) it waits for that line's end: written
   * in between, it would break both messages.
   */
  send(message: unknown): void {
    const bytes = encoder.encode(`${JSON.stringify(message)}\n`);
    if (!this.midLine) return this.write(bytes);
    (this.held ??= []).push(bytes);
    this.heldBytes += bytes.length;
  }

  /**
   * While more than MAX_QUEUED_BYTES of the proxy's own messages wait for a line's end, a promise
   * that settles once they are written (or the peer is gone); else undefined. The reader whose
   * messages they answer (the client's: baton_annotate calls) waits for it, as for a slow peer: a
   * server that leaves a line unfinished must not make us hold every answer made meanwhile.
   */
  heldRoom(): Promise<void> | undefined {
    if (this.held === undefined || this.heldBytes < MAX_QUEUED_BYTES || this.broken) return undefined;
    if (this.room === undefined) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.room = { promise, open };
    }
    return this.room.promise;
  }

  /**
   * Nothing more of a line in progress will come (its sender is gone): when messages wait for
   * it (the proxy's errors among them), ends it here so they are read as lines of their own.
   * Otherwise the bytes stay as the sender left them.
   */
  endLine(): void {
    if (!this.midLine || this.held === undefined) return;
    this.enqueue(LINE_END);
    this.midLine = false;
    this.release();
  }

  /**
   * Hands everything written so far to the OS pipe. Returns undefined when that happened at once
   * (the common case: no promise, no extra tick on the hot path), or a promise that settles when
   * the pipe has taken it (or the peer is gone).
   */
  drain(): Promise<void> | undefined {
    this.handOver();
    if (this.broken || !this.dirty) return undefined;
    this.dirty = false;
    try {
      const pending = this.sink.flush();
      if (typeof pending === "number") return undefined;
      if (!isThenable(pending)) return void this.fail(INPUT_CLOSED);
      return pending.then(
        () => undefined,
        (error: unknown) => this.fail(error),
      );
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  // Once per line or chunk: an FTL compile of them costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
  static {
    keepOutOfFtl(
      WireWriter.prototype.write,
      WireWriter.prototype.drain,
      WireWriter.prototype.handOver,
      WireWriter.prototype.enqueue,
    );
  }

  private enqueue(bytes: Uint8Array): void {
    this.queued.push(bytes);
    this.queuedBytes += bytes.length;
    if (this.queuedBytes >= MAX_QUEUED_BYTES) this.handOver();
  }

  /** Queues the messages held for the line that just ended. */
  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const bytes of held) this.enqueue(bytes);
    this.openRoom();
  }

  private openRoom(): void {
    this.room?.open();
    this.room = undefined;
  }

  /** Gives everything queued to the FileSink as one buffer. */
  private handOver(): void {
    if (this.queued.length === 0) return;
    const bytes =
      this.queued.length === 1 ? (this.queued[0] as Uint8Array) : joinInOrder(this.queued, this.queuedBytes);
    this.queued = [];
    this.queuedBytes = 0;
    if (this.broken) return;
    try {
      const written = this.sink.write(bytes);
      if (typeof written !== "number" && !isThenable(written)) return this.fail(INPUT_CLOSED);
      // A write the pipe could not take at once settles later, and may fail then (EPIPE): never unhandled.
      if (typeof written !== "number") written.then(undefined, (error: unknown) => this.fail(error));
      this.dirty = true;
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.openRoom();
    // EPIPE after a peer exits is normal during shutdown; say it once, never crash.
    this.logger.info(`stopped writing to the ${this.peer}: ${describeError(error)}`);
    this.onBroken();
  }
}

/** The pieces as one buffer: a view when they are adjacent slices of one chunk, else a copy. */
function joinInOrder(pieces: readonly Uint8Array[], total: number): Uint8Array {
  const first = pieces[0] as Uint8Array;
  let adjacent = true;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < pieces.length && adjacent; i++) {
    const piece = pieces[i] as Uint8Array;
    adjacent = piece.buffer === first.buffer && piece.byteOffset === end;
    end = piece.byteOffset + piece.byteLength;
  }
  return adjacent ? new Uint8Array(first.buffer, first.byteOffset, total) : concatBytes(pieces);
}
