// Relays an upstream SSE body to the client event by event as each arrives (ids kept), letting chosen events be rewritten.

import { concatBytes } from "../wire/bytes.ts";
import { addToEdges, MAX_LINE_BYTES, type LineEdges } from "../wire/framing.ts";
import { LongEventData } from "../wire/long-event.ts";
import type { SseEvent } from "../wire/sse.ts";
import { SseSplitter, type SseOverflow } from "../wire/sse-splitter.ts";
import { withoutBom } from "../wire/utf8.ts";

export interface RelayHooks {
  /** Replacement bytes for an event, or undefined to forward its original bytes. */
  rewrite(event: SseEvent): Uint8Array | undefined;
  /**
   * Called once: `error` when the upstream stream broke, `cancelled` when the client went away.
   * For `error`, returned bytes (e.g. JSON-RPC errors for requests still unanswered) are sent
   * before the client's stream closes cleanly, so the client fails those calls at once.
   */
  finished(outcome: "complete" | "error" | "cancelled", error?: unknown): Uint8Array | undefined;
  /**
   * An event over the inspection cap (MAX_LINE_BYTES) went to the client as it arrived, unread and
   * unchanged: `edges` are its size and first and last bytes (its fields and data as they were sent);
   * `data`, those of its data, with each member's when the data is a batch (framing.ts reads them as it goes by).
   */
  longEvent?(edges: LineEdges, data: LineEdges): void;
  /**
   * Aborted to end the stream before the upstream does (the drain's deadline): the upstream body is
   * cancelled and `finished("error", reason)` gives the stream's last bytes, then it ends cleanly.
   */
  readonly cut?: AbortSignal;
}

/**
 * How long a stream may stay without bytes before the proxy sends a comment line: Bun sends a
 * response's head only with its body's first bytes (oven-sh/bun#33660), so without it a client
 * would not see the head of a stream the upstream opened until the first event, however late
 * (a GET stream waits for the server's first notification: `fetch` does not resolve, and Node's
 * fetch gives up after 300 s with no head, where a direct client keeps its open stream).
 */
export const HEAD_COMMIT_MS = 250;
/** An SSE comment: every SSE parser skips it (HTML spec, "event stream interpretation"). */
const HEAD_COMMENT = new TextEncoder().encode(":\n\n");

/**
 * A pull-driven stream: each pull reads the upstream until at least one whole event is ready,
 * so a slow client slows the upstream read (backpressure) and nothing is buffered beyond the
 * event being assembled. Cancelling (client disconnect) cancels the upstream body, which aborts
 * the upstream request.
 */
export function relaySse(source: ReadableStream<Uint8Array>, hooks: RelayHooks): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  // An event is kept whole up to the inspection cap; a longer one goes out in pieces as it comes (memory stays bounded).
  const splitter = new SseSplitter(MAX_LINE_BYTES);
  const events: (SseEvent | SseOverflow)[] = [];
  const long = new LongData();
  let done = false;
  // Until the first bytes go out: the timer that sends the head with a comment, and whether it did.
  let headTimer: ReturnType<typeof setTimeout> | undefined;
  let commented = false;
  const finish = (outcome: "complete" | "error" | "cancelled", error?: unknown): Uint8Array | undefined => {
    clearTimeout(headTimer);
    if (done) return undefined;
    done = true;
    return hooks.finished(outcome, error);
  };
  const firstBytes = (chunk: Uint8Array): Uint8Array => {
    if (headTimer === undefined) return chunk;
    clearTimeout(headTimer);
    headTimer = undefined;
    // A byte order mark is read only at a stream's very start: after our comment it would corrupt the first field name.
    return commented ? withoutBom(chunk) : chunk;
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A pending read then ends (done): the pull below tells that end from the upstream's by the signal.
        const cut = () => void reader.cancel(hooks.cut?.reason).catch(() => undefined);
        if (hooks.cut?.aborted === true) cut();
        else hooks.cut?.addEventListener("abort", cut, { once: true });
        headTimer = setTimeout(() => {
          commented = true;
          controller.enqueue(HEAD_COMMENT);
        }, HEAD_COMMIT_MS);
      },
      async pull(controller) {
        try {
          for (;;) {
            const { value, done: ended } = await reader.read();
            if (ended && hooks.cut?.aborted === true) {
              const last = finish("error", hooks.cut.reason);
              if (last !== undefined) controller.enqueue(firstBytes(last));
              controller.close();
              return;
            }
            if (ended) {
              const rest = splitter.rest();
              if (rest !== undefined) controller.enqueue(firstBytes(rest));
              controller.close();
              finish("complete");
              return;
            }
            splitter.push(value, events);
            if (events.length === 0) continue;
            // One chunk for what one upstream read completed: each chunk is a write to the client.
            if (events.length === 1)
              controller.enqueue(firstBytes(rewriteOrPass(hooks, events[0] as SseEvent | SseOverflow, long)));
            else controller.enqueue(firstBytes(concatBytes(events.map((event) => rewriteOrPass(hooks, event, long)))));
            events.length = 0;
            return;
          }
        } catch (error) {
          const last = finish("error", error);
          if (last === undefined) {
            controller.error(error);
            return;
          }
          controller.enqueue(firstBytes(last));
          controller.close();
        }
      },
      async cancel(reason) {
        finish("cancelled", reason);
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Fail-open: an exception while looking at an event forwards it unchanged. A long event's pieces are forwarded as they are. */
function rewriteOrPass(hooks: RelayHooks, event: SseEvent | SseOverflow, long: LongData): Uint8Array {
  try {
    if (!("overflow" in event)) return hooks.rewrite(event) ?? event.raw;
    long.take(event.raw);
    if (event.edges !== undefined) hooks.longEvent?.(event.edges, long.end());
    return event.raw;
  } catch {
    return event.raw;
  }
}

/** The data of the long event going by, read as it passes: its edges, and a batch's members' (a 2025-03-26 batch POST's answers in one event). */
class LongData {
  private data = new LongEventData();
  private edges = { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };

  take(piece: Uint8Array): void {
    for (const bytes of this.data.take(piece)) if (!this.data.dropped) addToEdges(this.edges, bytes);
  }

  /** The event ended: its data's edges, and a fresh start for the next long event. */
  end(): LineEdges {
    const edges = this.edges;
    this.data = new LongEventData();
    this.edges = { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };
    return edges;
  }
}
