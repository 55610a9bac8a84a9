// Reads Baton JSONL: lines into events, sessions indexed and chosen. Pure over text and byte streams; never opens files itself.

import { META_SERVER, type BatonEvent } from "../telemetry/event-types.ts";
import { holdsChangedNumbers, isPlainObject, parseKeepingNumbers } from "../proxy/canonical-json.ts";
import { encodeUtf8 } from "../wire/utf8.ts";
import { compareInstants } from "./fold-values.ts";

/** One line's verdict. Blank lines are not events and not counted as malformed. */
export type ParsedLine = { kind: "event"; event: BatonEvent } | { kind: "blank" } | { kind: "malformed" };

/** What the index knows about one session without keeping its events. */
export interface SessionInfo {
  sessionId: string;
  firstAt: string | null;
  lastAt: string | null;
  events: number;
  /** tool_call_start events seen. */
  calls: number;
  /** The latest agent_runtime other than "unknown" (or "unknown" if that is all there is). */
  client: string | null;
  /** Position of the session's first line among all sessions (file order), for stable ties. */
  order: number;
  /**
   * When the session was last written, as a rank (higher is later): the position of its latest event
   * in the file (a proxy appends, so this holds when the writer's clock was set back between two
   * sessions), or for s3:// its newest object's place by the store's own clock ({@link rankByStoreTime}).
   */
  written: number;
  /** The sequence number of the session's latest line read, and whether every line so far came in increasing sequence order (then no line was read twice). */
  lastSeq: number;
  inOrder: boolean;
  /** The surface_hash of the session's latest surface_snapshot (highest sequence), if any. */
  surfaceHash: string | null;
  surfaceSeq: number;
  /** The server name (`server_info.name`) of that snapshot: surfaces are compared only within one server. */
  surfaceServer: string | null;
  /** The latest `baton/server` (under `--url`, the origin) and the latest snapshot's name and version: the server as the report names it is describeServer of both. */
  serverLabel: string | null;
  serverName: string | null;
}

/** Sessions by id plus the count of malformed lines seen while indexing. */
export interface SessionIndex {
  readonly sessions: Map<string, SessionInfo>;
  malformedLines: number;
  /** Events indexed so far (the next one's position). */
  eventsRead: number;
}

export type SessionMatch =
  | { kind: "found"; session: SessionInfo }
  | { kind: "none" }
  | { kind: "ambiguous"; candidates: SessionInfo[] };

/**
 * Parses one JSONL line. An event is a JSON object with a string `event_type`, a non-empty string
 * `session_id` and a finite number `sequence_number`; anything else is malformed. Never throws.
 * Other fields are not validated here (the fold tolerates odd values).
 */
export function parseEventLine(line: string): ParsedLine {
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  if (text.trim() === "") return { kind: "blank" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "malformed" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { kind: "malformed" };
  const candidate = value as Record<string, unknown>;
  const ok =
    typeof candidate.event_type === "string" &&
    typeof candidate.session_id === "string" &&
    candidate.session_id !== "" &&
    typeof candidate.sequence_number === "number" &&
    Number.isFinite(candidate.sequence_number);
  if (!ok) return { kind: "malformed" };
  if (candidate.event_type === "tool_call_start") keepParamNumbers(candidate, text);
  return { kind: "event", event: value as BatonEvent };
}

/**
 * A call's `params` with its numbers as the proxy wrote them (`1.10`, integers past 2^53, which
 * JSON.parse rounds), so the report shows the inputs as sent. Only they: the fold reads the
 * envelope's numbers as numbers. The line is parsed again only when it holds such a number.
 */
function keepParamNumbers(event: Record<string, unknown>, text: string): void {
  const payload = event.payload;
  if (!isPlainObject(payload) || !isPlainObject(payload.params) || !holdsChangedNumbers(encodeUtf8(text))) return;
  const exact = parseKeepingNumbers(text);
  if (isPlainObject(exact) && isPlainObject(exact.payload) && isPlainObject(exact.payload.params))
    payload.params = exact.payload.params;
}

/** An empty index. */
export function createSessionIndex(): SessionIndex {
  return { sessions: new Map(), malformedLines: 0, eventsRead: 0 };
}

/** Counts `event` into its session's entry (mutates `index`; O(1), keeps no event). */
export function indexEvent(index: SessionIndex, event: BatonEvent): void {
  let info = index.sessions.get(event.session_id);
  if (info === undefined) {
    info = {
      sessionId: event.session_id,
      firstAt: null,
      lastAt: null,
      events: 0,
      calls: 0,
      client: null,
      order: index.sessions.size,
      written: 0,
      lastSeq: Number.NEGATIVE_INFINITY,
      inOrder: true,
      surfaceHash: null,
      surfaceSeq: -1,
      surfaceServer: null,
      serverLabel: null,
      serverName: null,
    };
    index.sessions.set(event.session_id, info);
  }
  info.events += 1;
  info.written = index.eventsRead++;
  if (event.event_type === "tool_call_start") info.calls += 1;
  // The report's rule (session-passes.ts): a session in sequence order is counted as read; one out of order once per event_id.
  if (event.sequence_number <= info.lastSeq) info.inOrder = false;
  info.lastSeq = event.sequence_number;
  const hash =
    event.event_type === "surface_snapshot" && typeof event.payload === "object" && event.payload !== null
      ? event.payload.surface_hash
      : undefined;
  if (typeof hash === "string" && event.sequence_number > info.surfaceSeq) {
    info.surfaceHash = hash;
    info.surfaceSeq = event.sequence_number;
    const server: unknown = (event.payload as { server_info?: unknown }).server_info;
    const name = typeof server === "object" && server !== null ? (server as { name?: unknown }).name : undefined;
    info.surfaceServer = typeof name === "string" && name !== "" ? name : null;
    const version =
      typeof server === "object" && server !== null ? (server as { version?: unknown }).version : undefined;
    if (info.surfaceServer !== null)
      info.serverName =
        typeof version === "string" && version !== "" ? `${info.surfaceServer} ${version}` : info.surfaceServer;
  }
  const meta = event.runtime_meta;
  const label = typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>)[META_SERVER] : undefined;
  if (typeof label === "string" && label !== "") info.serverLabel = label;
  const at = event.captured_at;
  if (typeof at === "string" && at !== "") {
    if (info.firstAt === null || compareInstants(at, info.firstAt) < 0) info.firstAt = at;
    if (info.lastAt === null || compareInstants(at, info.lastAt) > 0) info.lastAt = at;
  }
  const client = event.agent_runtime;
  if (typeof client === "string" && client !== "" && (client !== "unknown" || info.client === null))
    info.client = client;
}

/**
 * Sessions oldest first: by when each was last written (see {@link SessionInfo.written}), not by the
 * events' captured_at, which is the writing machine's clock: one set back between two sessions, or
 * several machines writing one bucket, made an older session the latest. The latest is the last one.
 */
export function listSessions(index: SessionIndex): SessionInfo[] {
  return [...index.sessions.values()].sort((a, b) => a.written - b.written || a.order - b.order);
}

/** The session written last (see {@link listSessions}). */
export function findLatestSession(index: SessionIndex): SessionInfo | undefined {
  return listSessions(index).at(-1);
}

/**
 * Ranks the sessions of an s3:// prefix by their newest object's LastModified (`writtenAt`, ISO
 * times of the store's clock, one for every writer, which the key order is not: it starts with the
 * tenant and the writer's date). The store gives whole seconds: sessions last written in the same
 * second go by their last captured_at, then by their place in the listing. Mutates `index`.
 */
export function rankByStoreTime(index: SessionIndex, writtenAt: ReadonlyMap<string, string>): void {
  const sessions = [...index.sessions.values()].sort(
    (a, b) =>
      compareInstants(writtenAt.get(a.sessionId) ?? "", writtenAt.get(b.sessionId) ?? "") ||
      (a.lastAt !== null && b.lastAt !== null ? compareInstants(a.lastAt, b.lastAt) : 0) ||
      a.written - b.written,
  );
  sessions.forEach((session, rank) => {
    session.written = rank;
  });
}

/** Finds a session by full id, or else by a prefix matching exactly one id. */
export function matchSession(index: SessionIndex, query: string): SessionMatch {
  const exact = index.sessions.get(query);
  if (exact !== undefined) return { kind: "found", session: exact };
  const candidates = listSessions(index).filter((s) => query !== "" && s.sessionId.startsWith(query));
  const [only] = candidates;
  if (only === undefined) return { kind: "none" };
  return candidates.length === 1 ? { kind: "found", session: only } : { kind: "ambiguous", candidates };
}

/** Events in sequence order (stable: equal numbers keep their file order). Returns a new array. */
export function sortBySequence(events: readonly BatonEvent[]): BatonEvent[] {
  return events
    .map((event, i) => ({ event, i }))
    .sort((a, b) => a.event.sequence_number - b.event.sequence_number || a.i - b.i)
    .map(({ event }) => event);
}

/**
 * Longest line read whole: 256 times the strings an event of the proxy keeps (256 KiB), above the
 * most its keys can add. A longer one is no event of ours (a file's zero-filled tail after a crash,
 * binary garbage, a gzip bomb in a bucket): held to its end, 200 MB of NULs took 718 MB of memory.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** What is kept of a line past {@link MAX_LINE_BYTES}: its start, to be named malformed. */
const OVERLONG_HEAD_BYTES = 1024;
/** Ends the head of an overlong line: no JSON text ends so, so it never reads as an event. */
const CUT_MARK = "…";

/**
 * Splits a byte stream into lines (without `\n` or a trailing `\r`), decoding each line only
 * once it is complete, so a multi-byte character split across chunks is never mangled. The last
 * line is yielded even without a final newline (`ending` then says so). Invalid UTF-8 becomes U+FFFD.
 * A line longer than `maxLineBytes` is not held: only its first bytes are, yielded with "…" at the cut.
 */
export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  ending?: LineEnding,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<string> {
  if (ending !== undefined) ending.unterminated = false;
  const decoder = new TextDecoder();
  let partial: Uint8Array[] = [];
  let held = 0;
  /** The line's head once it has run past `maxLineBytes` (the rest up to its newline is dropped). */
  let head: Uint8Array | undefined;
  const hold = (bytes: Uint8Array): void => {
    if (head !== undefined) return;
    held += bytes.length;
    partial.push(bytes.slice()); // a copy: the producer may reuse its buffer
    if (held <= maxLineBytes) return;
    head = Buffer.concat(partial, Math.min(maxLineBytes, OVERLONG_HEAD_BYTES)); // a copy of the first bytes only
    partial = [];
  };
  const finish = (tail: Uint8Array): string => {
    // The usual line, whole in one chunk, is decoded where it lies: no copy.
    if (partial.length === 0 && head === undefined && tail.length <= maxLineBytes) return trimCr(decoder.decode(tail));
    if (tail.length > 0) hold(tail);
    const cut = head;
    const bytes = cut ?? Buffer.concat(partial);
    partial = [];
    held = 0;
    head = undefined;
    const line = decoder.decode(bytes);
    return cut === undefined ? trimCr(line) : `${line}${CUT_MARK}`;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      yield finish(chunk.subarray(start, nl));
      start = nl + 1;
    }
    if (start < chunk.length) hold(chunk.subarray(start));
  }
  if (held === 0 && head === undefined) return;
  if (ending !== undefined) ending.unterminated = true; // set before the line is handed over: its reader can tell
  yield finish(new Uint8Array(0));
}

function trimCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Whether the line {@link splitLines} has just yielded is a last one with no newline (a writer may be mid-line). */
export interface LineEnding {
  unterminated: boolean;
}
