// The offline `baton-proxy report` subcommand: reads a JSONL event file, picks a session, prints the report. All I/O goes through ctx.

import { isAbsolute, resolve } from "node:path";
import type { CommandContext } from "../command-context.ts";
import { DEFAULT_FILE_SINK_PATH, DEFAULT_SLOW_CALL_MS } from "../config.ts";
import { LocalError, describeError } from "../errors.ts";
import type { BatonEvent } from "../telemetry/event-types.ts";
import {
  createSessionIndex, findLatestSession, indexEvent, listSessions, matchSession, parseEventLine, sortBySequence, splitLines,
  type SessionIndex, type SessionInfo,
} from "./read-events.ts";
import { isS3Location, openS3Lines, type ReadLines } from "./read-s3.ts";
import { renderReport } from "./render-markdown.ts";
import { createReportState, foldEvent } from "./report-state.ts";
import { summarizeReport } from "./summarize-json.ts";

export const REPORT_USAGE = "usage: baton-proxy report [FILE.jsonl | s3://bucket/prefix] [--session ID] [--format md|json] [--list] [--slow-ms N]";
/** Candidates named when a --session prefix is ambiguous. */
const MAX_CANDIDATES_SHOWN = 5;

const HELP = `${REPORT_USAGE}

Prints the friction report of one session from a baton-proxy event file (JSON Lines).

  FILE            the event file (default ${DEFAULT_FILE_SINK_PATH}, the default file sink), or
                  s3://bucket/prefix written by the s3:// sink (credentials from AWS_* variables)
  --session ID    a session id, or a prefix matching exactly one (default: the latest session)
  --format md|json  Markdown report (default) or the aggregated numbers as JSON
  --list          list the sessions in FILE instead (id, first → last, events, calls, client)
  --slow-ms N     calls at least N ms long count as slow (default: BATON_SLOW_CALL_MS, else ${DEFAULT_SLOW_CALL_MS})
  -h, --help      show this help

Exit status: 0 report printed, 1 file or session not found, 2 usage error.
`;

/** Parsed command line of `report`. */
export interface ReportArgs {
  file: string | undefined;
  session: string | undefined;
  format: "md" | "json";
  list: boolean;
  slowMs: number | undefined;
  help: boolean;
}

/** Parses `report`'s arguments (after the subcommand name). Pure; a LocalError `E_USAGE` names the first problem. */
export function parseReportArgs(args: readonly string[]): ReportArgs {
  const parsed: ReportArgs = { file: undefined, session: undefined, format: "md", list: false, slowMs: undefined, help: false };
  const usage = (reason: string): LocalError => new LocalError("E_USAGE", reason);
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? "";
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      const next = eq === -1 ? args[(i += 1)] : arg.slice(eq + 1);
      if (next === undefined || next === "") throw usage(`${name} needs a value`);
      return next;
    };
    if (name === "-h" || name === "--help") parsed.help = true;
    else if (name === "--list") parsed.list = true;
    else if (name === "--session") parsed.session = value();
    else if (name === "--format") {
      const format = value();
      if (format !== "md" && format !== "json") throw usage(`--format must be md or json (got "${format}")`);
      parsed.format = format;
    } else if (name === "--slow-ms") {
      const raw = value();
      const ms = parsePositiveInt(raw);
      if (ms === undefined) throw usage(`--slow-ms must be a positive whole number of milliseconds (got "${raw}")`);
      parsed.slowMs = ms;
    } else if (arg.startsWith("-") && arg !== "-") throw usage(`unknown option ${name}`);
    else if (parsed.file === undefined) parsed.file = arg;
    else throw usage(`unexpected argument "${arg}" (only one FILE may be given)`);
  }
  return parsed;
}

/**
 * Runs `baton-proxy report …`. Returns the exit code: 0 when a report or listing was printed
 * (also for a file with no events yet), 1 when the file cannot be read or the session is not
 * found or ambiguous, 2 for a usage error. Malformed lines are skipped with a note on stderr.
 */
export async function runReportCommand(args: readonly string[], ctx: CommandContext): Promise<number> {
  let parsed: ReportArgs;
  try {
    parsed = parseReportArgs(args);
  } catch (error) {
    ctx.stderr(`baton-proxy report: ${error instanceof LocalError ? error.message : describeError(error)}\n${REPORT_USAGE}\n`);
    return 2;
  }
  if (parsed.help) {
    ctx.stdout(HELP);
    return 0;
  }
  const location = parsed.file ?? DEFAULT_FILE_SINK_PATH;
  const path = isS3Location(location) ? location : toPath(location, ctx.cwd);
  try {
    const readLines = isS3Location(path) ? await openS3Lines(path, ctx.env) : await openFileLines(path);
    const index = createSessionIndex();
    for await (const line of readLines()) {
      const result = parseEventLine(line);
      if (result.kind === "malformed") index.malformedLines += 1;
      else if (result.kind === "event") indexEvent(index, result.event);
    }
    if (index.malformedLines > 0) ctx.stderr(`baton-proxy report: skipped ${index.malformedLines} malformed line${index.malformedLines === 1 ? "" : "s"} in ${path}\n`);
    if (parsed.list) {
      ctx.stdout(parsed.format === "json" ? `${JSON.stringify(listSessions(index).map(publicInfo), null, 2)}\n` : renderSessionList(index, path));
      return 0;
    }
    const session = chooseSession(index, parsed.session);
    const state = createReportState();
    if (session !== undefined) for (const event of await collectSession(readLines, session.sessionId)) foldEvent(state, event);
    else ctx.stderr(`baton-proxy report: no events in ${path} yet\n`);
    const slowCallMs = parsed.slowMs ?? slowFromEnv(ctx);
    ctx.stdout(parsed.format === "json" ? `${JSON.stringify(summarizeReport(state, { slowCallMs }), null, 2)}\n` : renderReport(state, { slowCallMs, eventsLocation: path }));
    return 0;
  } catch (error) {
    const reason = error instanceof LocalError ? error.message : `cannot read ${path}: ${describeError(error)}`;
    ctx.stderr(`baton-proxy report: ${reason}\n`);
    return 1;
  }
}

function chooseSession(index: SessionIndex, query: string | undefined): SessionInfo | undefined {
  if (query === undefined) return findLatestSession(index);
  const match = matchSession(index, query);
  if (match.kind === "found") return match.session;
  if (match.kind === "none") throw new LocalError("E_REPORT", `no session matches "${query}" (${index.sessions.size} in the file; see --list)`);
  const shown = match.candidates.slice(0, MAX_CANDIDATES_SHOWN).map((s) => s.sessionId);
  const more = match.candidates.length > shown.length ? `, and ${match.candidates.length - shown.length} more` : "";
  throw new LocalError("E_REPORT", `session prefix "${query}" is ambiguous: ${shown.join(", ")}${more}`);
}

async function openFileLines(path: string): Promise<ReadLines> {
  if (!(await Bun.file(path).exists())) throw new LocalError("E_IO", `no event file at ${path} (pass FILE, or check BATON_EVENT_SINK)`);
  return () => splitLines(Bun.file(path).stream());
}

/** Second pass: only this session's events, in sequence order, results dropped. Lines that cannot mention the id are skipped unparsed. */
async function collectSession(readLines: ReadLines, sessionId: string): Promise<BatonEvent[]> {
  const canPrefilter = !/["\\]/.test(sessionId) && /^[\x20-\x7e]+$/.test(sessionId);
  const events: BatonEvent[] = [];
  for await (const line of readLines(sessionId)) {
    if (canPrefilter && !line.includes(sessionId)) continue;
    const result = parseEventLine(line);
    if (result.kind !== "event" || result.event.session_id !== sessionId) continue;
    // The fold never reads results, and they are the bulk of a session: do not hold them.
    if (result.event.event_type === "tool_call_end") result.event.payload.result = null;
    events.push(result.event);
  }
  return sortBySequence(events);
}

function renderSessionList(index: SessionIndex, path: string): string {
  const sessions = listSessions(index);
  if (sessions.length === 0) return `No sessions in ${path} yet.\n`;
  const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;
  const lines = sessions.map(
    (s) => `${s.sessionId}  ${s.firstAt ?? "?"} → ${s.lastAt ?? "?"}  ${plural(s.events, "event")}  ${plural(s.calls, "call")}  ${s.client ?? "unknown"}`,
  );
  return `${lines.join("\n")}\n`;
}

function publicInfo(s: SessionInfo): Record<string, unknown> {
  return { session_id: s.sessionId, first: s.firstAt, last: s.lastAt, events: s.events, calls: s.calls, client: s.client };
}

function slowFromEnv(ctx: CommandContext): number {
  const raw = ctx.env.BATON_SLOW_CALL_MS;
  if (raw === undefined || raw.trim() === "") return DEFAULT_SLOW_CALL_MS;
  const ms = parsePositiveInt(raw.trim());
  if (ms === undefined) ctx.stderr(`baton-proxy report: ignoring BATON_SLOW_CALL_MS="${raw.slice(0, 40)}" (not a positive whole number); using ${DEFAULT_SLOW_CALL_MS}\n`);
  return ms ?? DEFAULT_SLOW_CALL_MS;
}

function parsePositiveInt(raw: string): number | undefined {
  const n = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** FILE as an absolute path: relative to the caller's cwd; a file:// URL is accepted too. */
function toPath(file: string, cwd: string): string {
  if (file.startsWith("file://")) {
    try {
      return decodeURIComponent(new URL(file).pathname);
    } catch {
      // Not a valid URL after all: treat it as a (strange) relative path below.
    }
  }
  return isAbsolute(file) ? file : resolve(cwd, file);
}
