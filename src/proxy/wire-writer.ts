// Writes bytes to one side of the pipe (client stdout or the child's stdin) with backpressure, surviving a closed peer.

import type { FileSink } from "bun";
import type { Logger } from "../log.ts";
import { describeError } from "../errors.ts";

const encoder = new TextEncoder();

/**
 * One writer per destination, shared by everything that writes there, so messages keep their
 * order. `write` hands bytes to Bun's FileSink (which writes at once when the pipe has room);
 * `drain` resolves when the pipe has taken them, and the pumps await it before reading more, so a
 * slow reader slows its sender instead of growing our memory.
 */
export class WireWriter {
  private broken = false;
  private dropped = 0;
  private dirty = false;

  constructor(
    private readonly sink: FileSink,
    private readonly peer: string,
    private readonly logger: Logger,
  ) {}

  /** Queues raw bytes (already newline-terminated, or a deliberate fragment of a long line). */
  write(bytes: Uint8Array): void {
    if (this.broken) {
      this.dropped += bytes.length;
      return;
    }
    try {
      this.sink.write(bytes);
      this.dirty = true;
    } catch (error) {
      this.fail(error);
    }
  }

  /** Serialises a message the proxy built or changed, as one line. */
  send(message: unknown): void {
    this.write(encoder.encode(`${JSON.stringify(message)}\n`));
  }

  /**
   * Hands everything written so far to the OS pipe. Returns undefined when that happened at once
   * (the common case: no promise, no extra tick on the hot path), or a promise that settles when
   * the pipe has taken it (or the peer is gone).
   */
  drain(): Promise<void> | undefined {
    if (this.broken || !this.dirty) return undefined;
    this.dirty = false;
    try {
      const pending = this.sink.flush();
      if (typeof pending === "number") return undefined;
      return pending.then(
        () => undefined,
        (error: unknown) => this.fail(error),
      );
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /** Closes the destination (for the child: its stdin EOF). */
  end(): void {
    if (this.broken) return;
    this.broken = true;
    try {
      void Promise.resolve(this.sink.end()).catch(() => undefined);
    } catch {
      // Already closed.
    }
  }

  get isBroken(): boolean {
    return this.broken;
  }

  /** Bytes that could not be delivered because the peer had gone. */
  get droppedBytes(): number {
    return this.dropped;
  }

  private fail(error: unknown): void {
    if (this.broken) return;
    this.broken = true;
    // EPIPE after a peer exits is normal during shutdown; say it once, never crash.
    this.logger.info(`stopped writing to the ${this.peer}: ${describeError(error)}`);
  }
}
