// Reads one byte stream into frames, with backpressure from the writers it feeds. No interpretation of the frames.

import { LineSplitter, MAX_LINE_BYTES, type Frame } from "../wire/framing.ts";
import type { WireWriter } from "./wire-writer.ts";

/** Told around each read of the source: lets a caller time the source's silences apart from the writers' waits. */
export interface ReadWatch {
  readStarted(): void;
  /** The read returned `bytes` (0 at the end). */
  readEnded(bytes: number): void;
}

export interface PumpOptions {
  /** Asked when a line does not finish in its first chunk: may it go out while still arriving? */
  readonly cutThrough?: () => boolean;
  /** After each chunk: a promise to wait for (a turn of the event loop for telemetry), or undefined. */
  readonly afterChunk: () => Promise<void> | undefined;
  readonly onFrame: (frame: Frame) => void;
  /** Drained after each chunk: a slow reader slows the sender instead of growing our memory. */
  readonly writers: readonly WireWriter[];
  /**
   * After each chunk, once its output is handed to the writers' sinks (on its way to the peers)
   * and before anything is awaited: work that may come after the bytes but before any other
   * message is handled (inspection of lines forwarded unchanged).
   */
  readonly afterHandOver?: () => void;
  /** Ends the pump early (its read is cancelled): for a stream a descendant may hold open forever. */
  readonly stop?: AbortSignal;
  readonly reads?: ReadWatch;
}

/**
 * Reads `source` to its end (or until `stop` aborts), feeding frames to `onFrame`; after each
 * chunk hands the writers their bytes, runs `afterHandOver`, then waits for the writers to drain
 * and for `afterChunk`.
 */
export async function pump(source: ReadableStream<Uint8Array>, options: PumpOptions): Promise<void> {
  const { onFrame, writers, afterChunk, stop, reads } = options;
  const splitter = new LineSplitter(MAX_LINE_BYTES, options.cutThrough);
  const frames: Frame[] = [];
  const streamReader = source.getReader();
  stop?.addEventListener("abort", () => void streamReader.cancel().catch(() => undefined), { once: true });
  for (;;) {
    reads?.readStarted();
    const { value, done } = await streamReader.read();
    reads?.readEnded(done ? 0 : value.length);
    if (done) break;
    splitter.push(value, frames);
    for (const frame of frames) onFrame(frame);
    frames.length = 0;
    // Every writer is handed its bytes first, then the deferred work runs, then we wait: nothing
    // else (the other pump) can run in between, so messages are still handled in arrival order.
    let pending: Promise<void> | undefined;
    let more: Promise<void>[] | undefined;
    for (const writer of writers) {
      const drained = writer.drain();
      if (drained === undefined) continue;
      if (pending === undefined) pending = drained;
      else (more ??= []).push(drained);
    }
    options.afterHandOver?.();
    if (pending !== undefined) await pending;
    if (more !== undefined) await Promise.all(more);
    const turn = afterChunk();
    if (turn !== undefined) await turn;
  }
  splitter.end(frames);
  for (const frame of frames) onFrame(frame);
  const drained = writers.map((writer) => writer.drain());
  options.afterHandOver?.();
  await Promise.all(drained);
}

/** Waits for `work` but no longer than `ms`; never rejects. */
export async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
