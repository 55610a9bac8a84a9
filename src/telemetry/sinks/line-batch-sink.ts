// The shape every sink shares: lines buffered by write(), delivered as one batch per flush(), close() flushing once.

import type { BatonEvent } from "../event-types.ts";
import type { Sink } from "./sink.ts";

/**
 * Builds a {@link Sink} from the one thing that differs between sinks: how a batch of already
 * serialised lines is delivered. `deliver` is never called with an empty batch and never twice at
 * once (the dispatcher's contract); it rejects with a LocalError (E_SINK) when the batch is lost.
 * `release` runs once after the final flush of `close()`, whether that flush failed or not.
 */
export function createLineBatchSink(
  label: string,
  deliver: (lines: string[]) => Promise<void>,
  release?: () => Promise<void> | void,
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
