// Reads one SSE response body to its end, event by event, with an optional idle deadline. The only place a stream body is read.

import type { SseParser, SseEvent, SseLongPiece } from "./sse-parser.ts";
import { UpstreamTimeout } from "./upstream-failure.ts";

/**
 * Feeds `body` through `parser`, calling `onEvent` for each event as it completes, and waiting for
 * `room` (the client taking what was passed on) before reading more. With `idle`, a stream that
 * sends nothing (not even a keep-alive comment) for `ms` is aborted through `abort` and the promise
 * rejects with UpstreamTimeout, unless `paused` says the wait is the client's. Resolves when the
 * server ends the stream; rejects when the connection breaks (the parser keeps the last event id
 * for resuming).
 */
export async function consumeSse(
  body: ReadableStream<Uint8Array> | null,
  parser: SseParser,
  onEvent: (event: SseEvent) => void,
  idle?: {
    readonly ms: number;
    readonly abort: (reason: unknown) => void;
    /** True while the silence is the client's (it owes the server an answer): the deadline starts again. */
    readonly paused?: () => boolean;
  },
  room?: () => Promise<void> | undefined,
  /** The pieces of an event over the parser's cap, each written before the next is read (backpressure). */
  onLong?: (piece: SseLongPiece) => Promise<void>,
): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  let wasPaused = false;
  /** Inside an event over the cap: its pieces wait for the client themselves, and `room` may wait for its end. */
  let inLong = false;
  const arm = (): void => {
    if (idle === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Paused now, or since the last check (the client just answered): the server gets a whole deadline from here.
      const paused = idle.paused?.() === true;
      if (paused || wasPaused) {
        wasPaused = paused;
        return arm();
      }
      timedOut = true;
      idle.abort(new UpstreamTimeout());
      void reader.cancel().catch(() => undefined);
    }, idle.ms);
  };
  try {
    arm();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      arm();
      for (const event of parser.read(value)) {
        if (!("long" in event)) onEvent(event);
        else if (onLong !== undefined) {
          inLong = event.edges === undefined;
          // The piece waits for the client to take it: the client's slowness, not the server's silence.
          clearTimeout(timer);
          await onLong(event);
          arm();
        }
      }
      const wait = inLong ? undefined : room?.();
      if (wait === undefined) continue;
      // The client is slow, not the server: its wait does not count toward the idle deadline.
      clearTimeout(timer);
      await wait;
      arm();
    }
    for (const event of parser.end()) onEvent(event);
  } catch (error) {
    throw timedOut ? new UpstreamTimeout() : error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (timedOut) throw new UpstreamTimeout();
}

/**
 * Delay before resume attempt `attempt` (1-based): the server's `retry:` when given (at least
 * {@link MIN_RESUME_DELAY_MS}: accepted reopens go on without limit, and `retry: 0` from a server
 * that closes at once would spin), else 250 ms doubling, capped at 5 s.
 */
export function resumeDelayMs(attempt: number, serverRetryMs: number | undefined): number {
  if (serverRetryMs !== undefined) return Math.min(Math.max(serverRetryMs, MIN_RESUME_DELAY_MS), MAX_RESUME_DELAY_MS);
  return Math.min(250 * 2 ** (attempt - 1), MAX_RESUME_DELAY_MS);
}

/** Shortest wait between two resume attempts, whatever the server's `retry:`. */
export const MIN_RESUME_DELAY_MS = 100;
/** Longest wait between two resume attempts. */
export const MAX_RESUME_DELAY_MS = 5_000;
/** Attempts to resume one dropped stream before its request is failed (or the GET stream given up). */
export const MAX_RESUME_ATTEMPTS = 5;
