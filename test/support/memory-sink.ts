// A sink that keeps every event it is given, in order, for tests that read what the telemetry delivered.

import type { BatonEvent } from "../../src/telemetry/event-types.ts";
import type { Sink } from "../../src/telemetry/sinks/sink.ts";

/** `events` is the list the sink appends to (pass one to share it with the test). */
export function memorySink(events: BatonEvent[] = []): Sink & { readonly events: BatonEvent[] } {
  return {
    label: "memory:",
    events,
    write: (event) => void events.push(event),
    flush: async () => undefined,
    close: async () => undefined,
  };
}
