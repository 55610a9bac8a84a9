// Test helper: a whole JSONL text read into sessions with src/report/read-events.ts's line parser and index.

import {
  createSessionIndex,
  indexEvent,
  parseEventLine,
  type SessionIndex,
  sortBySequence,
} from "../../src/report/read-events.ts";
import type { BatonEvent } from "../../src/telemetry/event-types.ts";

/** Every session's events in sequence order, plus the index. */
export function readEventsText(text: string): { index: SessionIndex; sessions: Map<string, BatonEvent[]> } {
  const index = createSessionIndex();
  const sessions = new Map<string, BatonEvent[]>();
  for (const line of text.split("\n")) {
    const parsed = parseEventLine(line);
    if (parsed.kind === "malformed") index.malformedLines += 1;
    if (parsed.kind !== "event") continue;
    indexEvent(index, parsed.event);
    const list = sessions.get(parsed.event.session_id);
    if (list === undefined) sessions.set(parsed.event.session_id, [parsed.event]);
    else list.push(parsed.event);
  }
  for (const [id, list] of sessions) sessions.set(id, sortBySequence(list));
  return { index, sessions };
}
