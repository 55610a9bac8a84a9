// The report's passes over an event file after the index: the session asked for (or the latest), its events in order, the previous surface of the same server.

import { LocalError } from "../errors.ts";
import { printable } from "../log.ts";
import type { BatonEvent } from "../telemetry/event-types.ts";
import {
  findLatestSession,
  listSessions,
  matchSession,
  parseEventLine,
  sortBySequence,
  type SessionIndex,
  type SessionInfo,
} from "./read-events.ts";
import type { ReadLines } from "./read-s3.ts";
import type { PreviousSurface } from "./render-surface.ts";
import { createReportState, foldEvent } from "./report-state.ts";
import type { ReportState } from "./report-types.ts";
import { digestSurface } from "./surface-diff.ts";

/** Candidates named when a --session prefix is ambiguous. */
const MAX_CANDIDATES_SHOWN = 5;

/** The session `query` (an id prefix) names, else the latest; LocalError E_REPORT when none or several match. */
export function chooseSession(index: SessionIndex, query: string | undefined): SessionInfo {
  if (query === undefined) {
    const latest = findLatestSession(index);
    if (latest === undefined) throw new LocalError("E_REPORT", "no session in the file");
    return latest;
  }
  const match = matchSession(index, query);
  if (match.kind === "found") return match.session;
  if (match.kind === "none")
    throw new LocalError("E_REPORT", `no session matches "${query}" (${index.sessions.size} in the file; see --list)`);
  const shown = match.candidates.slice(0, MAX_CANDIDATES_SHOWN).map((s) => printable(s.sessionId)); // the file's text
  const more = match.candidates.length > shown.length ? `, and ${match.candidates.length - shown.length} more` : "";
  throw new LocalError("E_REPORT", `session prefix "${query}" is ambiguous: ${shown.join(", ")}${more}`);
}

/**
 * Second pass: the session's events folded into `newState()` in sequence order, each event once
 * (`duplicates` counts the lines skipped because their `event_id` was read already). A proxy
 * writes a session's events in sequence order, so they are folded as they are read and only the
 * fold's bounded aggregates are held: holding the events took about 800 bytes of memory each (a
 * session of 2 million events, a 1.4 GB file, peaked at 1.6 GB). The first event out of order (files
 * concatenated, a line read twice) drops that fold: the session is read again, held and sorted.
 */
export async function foldSession(
  readLines: ReadLines,
  sessionId: string,
  newState: () => ReportState = createReportState,
): Promise<{ state: ReportState; duplicates: number }> {
  const state = newState();
  let lastSeq = Number.NEGATIVE_INFINITY;
  let ordered = true;
  for await (const event of readSession(readLines, sessionId)) {
    if (event.sequence_number <= lastSeq) {
      ordered = false;
      break; // ends the reader: the file (or object) is closed
    }
    lastSeq = event.sequence_number;
    foldEvent(state, event);
  }
  if (ordered) return { state, duplicates: 0 };
  const { events, duplicates } = await collectSession(readLines, sessionId);
  const sorted = newState();
  for (const event of events) foldEvent(sorted, event);
  return { state: sorted, duplicates };
}

/** Event ids held at most by {@link countOnce} (about 100 bytes each); sessions beyond it keep the counts of their lines. */
export const MAX_IDS_CHECKED = 1_000_000;

/**
 * Recounts the events and calls of the sessions the index read out of sequence order, each
 * `event_id` once, as the report counts them (a session in order holds no line read twice, and its
 * counts stand). Ids are held per event of those sessions, the latest sessions first, up to
 * MAX_IDS_CHECKED; `unchecked` counts the sessions left with the counts of their lines.
 */
export async function countOnce(
  readLines: ReadLines,
  index: SessionIndex,
  maxIds = MAX_IDS_CHECKED,
): Promise<{ duplicates: number; unchecked: number }> {
  const seen = new Map<string, Set<string>>();
  let budget = maxIds;
  let unchecked = 0;
  for (const session of listSessions(index).reverse()) {
    if (session.inOrder) continue;
    if (session.events > budget) {
      unchecked += 1;
      continue;
    }
    budget -= session.events;
    seen.set(session.sessionId, new Set());
    session.events = 0;
    session.calls = 0;
  }
  let duplicates = 0;
  if (seen.size === 0) return { duplicates, unchecked };
  // One session's objects only, when that is all there is to check (an s3:// prefix lists them apart).
  const only = seen.size === 1 ? [...seen.keys()][0] : undefined;
  for await (const line of readLines(only)) {
    const result = parseEventLine(line);
    if (result.kind !== "event") continue;
    const ids = seen.get(result.event.session_id);
    if (ids === undefined) continue;
    const id: unknown = result.event.event_id;
    if (typeof id === "string" && id !== "") {
      if (ids.has(id)) {
        duplicates += 1;
        continue;
      }
      ids.add(id);
    }
    const session = index.sessions.get(result.event.session_id) as SessionInfo;
    session.events += 1;
    if (result.event.event_type === "tool_call_start") session.calls += 1;
  }
  return { duplicates, unchecked };
}

/** The session's events as read. Lines that cannot mention the id are skipped unparsed. */
async function* readSession(readLines: ReadLines, sessionId: string): AsyncGenerator<BatonEvent> {
  const canPrefilter = !/["\\]/.test(sessionId) && /^[\x20-\x7e]+$/.test(sessionId);
  for await (const line of readLines(sessionId)) {
    if (canPrefilter && !line.includes(sessionId)) continue;
    const result = parseEventLine(line);
    if (result.kind === "event" && result.event.session_id === sessionId) yield result.event;
  }
}

/** The session's events in sequence order, results dropped, each event once (`duplicates`: the lines skipped because their `event_id` was read already). */
async function collectSession(
  readLines: ReadLines,
  sessionId: string,
): Promise<{ events: BatonEvent[]; duplicates: number }> {
  const events: BatonEvent[] = [];
  // A file concatenated with itself (or with a copy of part of it), a bucket holding a backup copy
  // under the same prefix: the same event twice counted every call, error and note twice, and hid
  // the gaps that are the dropped events. The schema gives each event its own id.
  const seen = new Set<string>();
  let duplicates = 0;
  for await (const event of readSession(readLines, sessionId)) {
    const id: unknown = event.event_id;
    if (typeof id === "string" && id !== "") {
      if (seen.has(id)) {
        duplicates += 1;
        continue;
      }
      seen.add(id);
    }
    // The fold never reads results, and they are the bulk of a session: do not hold them.
    // (A line from another writer may carry no payload object: the fold reads it as it is.)
    const payload: unknown = event.payload;
    if (event.event_type === "tool_call_end" && typeof payload === "object" && payload !== null)
      event.payload.result = null;
    events.push(event);
  }
  return { events: sortBySequence(events), duplicates };
}

/**
 * The latest surface of the closest earlier session of the same server (another pass over the
 * file). Several wrapped servers often share one event file: another server's tools are no change.
 */
export async function findPreviousSurface(
  readLines: ReadLines,
  index: SessionIndex,
  session: SessionInfo,
): Promise<PreviousSurface | undefined> {
  const sessions = listSessions(index);
  const previous = sessions
    .slice(0, sessions.indexOf(session))
    .reverse()
    .find((s) => s.surfaceHash !== null && s.surfaceServer !== null && s.surfaceServer === session.surfaceServer);
  if (previous === undefined || previous.surfaceHash === null) return undefined;
  for await (const line of readLines(previous.sessionId)) {
    if (!line.includes(previous.surfaceHash)) continue;
    const result = parseEventLine(line);
    if (
      result.kind !== "event" ||
      result.event.session_id !== previous.sessionId ||
      result.event.event_type !== "surface_snapshot"
    )
      continue;
    const surface = digestSurface(result.event.payload as unknown as Record<string, unknown>);
    if (surface !== null && surface.hash === previous.surfaceHash) return { sessionId: previous.sessionId, surface };
  }
  return undefined;
}
