// The one interface every event sink implements; the dispatcher is the only caller.

import { LocalError } from "../../errors.ts";
import type { BatonEvent } from "../event-types.ts";

/**
 * A destination for events. The dispatcher guarantees calls never overlap: `write` any number
 * of times, then `flush` (awaited, with a timeout), then more writes; `close` exactly once.
 * - `write` never blocks and never throws for I/O reasons: it buffers (`line` is the event
 *   already serialised as one JSON line without the trailing newline, shared by every sink).
 * - `flush` delivers what was buffered; it rejects with a `LocalError` (`E_SINK`) on failure and
 *   the dispatcher logs and counts it. Events of a failed flush are gone (counted as dropped),
 *   all of them unless it rejects with a {@link PartialFlushError} telling how many.
 * - `close` flushes what it can and releases the resource; later writes are ignored.
 */
export interface Sink {
  /** Human label for logs, never containing secrets (e.g. `file:///tmp/x.jsonl`, `https://console.example`). */
  readonly label: string;
  /**
   * False when `write` reads only `line`: the dispatcher then keeps no event objects in its queues
   * (a dead console's 10 000 queued events cost their lines only) and passes `write` an event it
   * must not read. Default true.
   */
  readonly usesEvent?: boolean;
  /**
   * False when `write` reads only `event` (the `otlp:` sink builds spans from it): its queue then
   * keeps no lines, and `write` gets a `line` it must not read. Default true.
   */
  readonly usesLine?: boolean;
  /**
   * At most this many events per flush (default: the dispatcher's batch size, 512). A sink whose
   * flush is a synchronous local write asks for small ones: joining and writing 512 lines took 0.2
   * to 3 ms on the pumps' thread, and every message arriving meanwhile waited for it.
   */
  readonly batchEvents?: number;
  write(event: BatonEvent, line: string): void;
  flush(): Promise<void>;
  /**
   * `msLeft`: what is left of the dispatcher's shutdown deadline when it is called (undefined
   * outside a shutdown); a sink that retries must not go on past it.
   */
  close(msLeft?: number): Promise<void>;
  /**
   * Optional, for sinks that deliver in the background (s3://) or keep state (otlp:): the events
   * they lost on their own since the last call, which the dispatcher counts and logs like its own drops.
   */
  takeDrops?(): readonly SinkDrop[];
}

/** Events a sink lost by itself (after its own retries, or to its own memory bound). */
export interface SinkDrop {
  readonly count: number;
  /** Short and stable, e.g. "upload failed" (drops are summarised per sink and kind). */
  readonly kind: string;
  /** One line of detail, never a secret. */
  readonly detail: string;
}

/**
 * A flush that failed after part of its batch reached the destination whole (a file write cut
 * short by a full disk or a file size limit): only `lost` of its events are gone, and only those
 * are counted as dropped.
 */
export class PartialFlushError extends LocalError {
  readonly lost: number;
  constructor(message: string, lost: number, options?: { cause?: unknown }) {
    super("E_SINK", message, options);
    this.lost = lost;
  }
}

/** The events of a batch of `batch` that the flush failing with `error` lost. */
export function eventsLost(error: unknown, batch: number): number {
  return error instanceof PartialFlushError ? Math.min(Math.max(error.lost, 0), batch) : batch;
}
