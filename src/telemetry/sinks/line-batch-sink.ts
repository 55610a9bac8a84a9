// The shape every sink shares: lines buffered by write(), delivered as one batch per flush(), close() flushing once.

import type { BatonEvent } from "../event-types.ts";
import type { Sink } from "./sink.ts";

/**
 * Events per flush for a sink whose flush is one synchronous local write (stderr, a file): about
 * 64 KiB of typical events, joined and written in 0.1 to 0.2 ms, where the dispatcher's 512-event
 * batches held the pumps' thread for 0.2 to 3 ms (see {@link Sink.batchEvents}). 64 events gave
 * the same p99 for a fixed cost per flush (~40 µs) paid twice as often.
 */
export const LOCAL_WRITE_BATCH_EVENTS = 128;

/** The last batch text built and its lines; forgotten at the end of the turn that built it (never pins a batch). */
let lastLines: readonly string[] | undefined;
let lastText = "";
const forget = (): void => {
  lastLines = undefined;
  lastText = "";
};

/**
 * `lines` as one text, each line ending in a newline. Sinks that flush the same lines in one turn
 * (stderr and file both take every line, and the dispatcher pumps their lanes back to back) share
 * one string instead of each joining its own copy of the batch: a hit needs the same lines in the
 * same order, compared by reference first, so the check costs one pointer comparison per line.
 */
export function batchText(lines: readonly string[]): string {
  if (lastLines !== undefined && sameLines(lastLines, lines)) return lastText;
  const text = joinLines(lines);
  if (lastLines === undefined) queueMicrotask(forget);
  lastLines = lines;
  lastText = text;
  return text;
}

/**
 * `lines` joined, each ending in a newline, as one flat string. Not `${lines.join("\n")}\n`: that is
 * a rope which every write flattens into a second copy of the batch (measured: a third more CPU per
 * batch and twice the transient string memory).
 */
export function joinLines(lines: readonly string[]): string {
  const parts = lines.slice();
  parts.push("");
  return parts.join("\n");
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Builds a {@link Sink} from the one thing that differs between sinks: how a batch of already
 * serialised lines is delivered. `deliver` is never called with an empty batch and never twice at
 * once (the dispatcher's contract); it rejects with a LocalError (E_SINK) when the batch is lost.
 * `release` runs once after the final flush of `close()`, whether that flush failed or not.
 * `batchEvents` bounds the lines per flush (see {@link Sink.batchEvents}).
 */
export function createLineBatchSink(
  label: string,
  deliver: (lines: string[]) => Promise<void>,
  release?: () => Promise<void> | void,
  batchEvents?: number,
): Sink {
  let pending: string[] = [];
  let closed = false;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    await deliver(lines);
  };
  return {
    label,
    usesEvent: false,
    ...(batchEvents === undefined ? {} : { batchEvents }),
    write(_event: BatonEvent, line: string): void {
      if (!closed) pending.push(line);
    },
    flush,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await flush();
      } finally {
        await release?.();
      }
    },
  };
}
