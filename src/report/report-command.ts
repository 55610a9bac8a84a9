// The offline `baton-proxy report` subcommand: reads a JSONL event file, picks a session, prints the report through ctx.

import type { CommandContext } from "../command-context.ts";
import type { ParsedArgs } from "../command-spec.ts";
import { type Config, describeConfigProblems, loadConfig } from "../config.ts";
import { LocalError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import {
  createSessionIndex,
  indexEvent,
  listSessions,
  parseEventLine,
  rankByStoreTime,
  type LineEnding,
  type SessionIndex,
  type SessionInfo,
} from "./read-events.ts";
import { defaultEventFile, type FileLines, openFileLines, toPath } from "./event-file-path.ts";
import { isS3Location, openS3Lines, type ReadLines, type S3Lines } from "./read-s3.ts";
import { renderReport } from "./render-markdown.ts";
import { chooseSession, countOnce, findPreviousSurface, foldSession, MAX_IDS_CHECKED } from "./session-passes.ts";
import { summarizeReport } from "./summarize-json.ts";
import { describeServer } from "./fold-values.ts";
import { joinList } from "./markdown-text.ts";
import { printable } from "../log.ts";

/** Unknown event types named on stderr; the rest are counted. */
const MAX_TYPES_NAMED = 3;

/** What `report` was asked for, checked (see REPORT_SPEC in report-spec.ts for the options). */
interface ReportRequest {
  readonly file: string | undefined;
  readonly session: string | undefined;
  readonly format: "md" | "json";
  readonly list: boolean;
  readonly slowMs: number | undefined;
}

function toRequest(args: ParsedArgs): ReportRequest {
  const { values, positionals } = args;
  if (positionals.length > 1)
    throw new LocalError("E_USAGE", `unexpected argument "${positionals[1]}" (only one FILE may be given)`);
  const format = values.format ?? "md";
  if (format !== "md" && format !== "json")
    throw new LocalError("E_USAGE", `--format must be md or json (got "${String(format)}")`);
  let slowMs: number | undefined;
  if (typeof values["slow-ms"] === "string") {
    slowMs = parsePositiveInt(values["slow-ms"]);
    if (slowMs === undefined)
      throw new LocalError(
        "E_USAGE",
        `--slow-ms must be a positive whole number of milliseconds (got "${values["slow-ms"]}")`,
      );
  }
  // A listing reads neither (report --help): given with --list they would do nothing without a word.
  const unread = ["session", "slow-ms"].filter((name) => values.list === true && values[name] !== undefined);
  if (unread.length > 0)
    throw new LocalError(
      "E_USAGE",
      `--list takes no ${unread.map((name) => `--${name}`).join(" or ")} (it lists every session)`,
    );
  const session = values.session;
  return {
    file: positionals[0],
    session: typeof session === "string" ? session : undefined,
    format,
    list: values.list === true,
    slowMs,
  };
}

/**
 * Runs `baton-proxy report …` with its parsed arguments. The configuration is read with the
 * proxy's own rules (a refusal is LocalError `E_CONFIG`). Returns 0 when a report or listing was
 * printed; throws LocalError for a file that cannot be read, holds no valid event, or lacks the
 * session. Malformed lines are skipped with a note on stderr.
 */
export async function runReportCommand(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const request = toRequest(args);
  // A serve container's environment (BATON_CONSENT_MODE=per-request) must not keep its operator from reading the events.
  const loaded = loadConfig(ctx.env, { perRequestConsentAllowed: true, platform: ctx.platform });
  if (!loaded.ok) throw new LocalError("E_CONFIG", `refusing to run, ${describeConfigProblems(loaded.problems)}`);
  const config = loaded.config;
  for (const warning of config.warnings) ctx.stderr(`baton-proxy report: warn: ${printable(warning)}\n`);
  const location = request.file ?? defaultEventFile(config, ctx);
  const path = isS3Location(location) ? location : toPath(location, ctx.cwd, ctx.platform);
  // S3 object keys in these lines are whoever wrote the bucket's text: one printable line each.
  const warn = (text: string): void => ctx.stderr(`baton-proxy report: ${printable(text)}\n`);
  const ending: LineEnding = { unterminated: false };
  const s3Lines = isS3Location(path) ? await openS3Lines(path, ctx.env, undefined, warn) : undefined;
  const lines: S3Lines | FileLines =
    s3Lines ?? (await openFileLines(path, (text) => ctx.stderr(`baton-proxy report: warn: ${text}\n`), ending));
  try {
    return await reportFrom(lines, { request, config, ctx, path, s3Lines, ending });
  } finally {
    if ("close" in lines) await lines.close();
  }
}

/** What {@link reportFrom} reads besides the lines. */
interface ReportInput {
  readonly request: ReportRequest;
  readonly config: Config;
  readonly ctx: CommandContext;
  readonly path: string;
  readonly s3Lines: S3Lines | undefined;
  readonly ending: LineEnding;
}

/** The report or listing of `readLines` (every pass reads them again). */
async function reportFrom(readLines: ReadLines, input: ReportInput): Promise<number> {
  const { request, config, ctx, path, s3Lines, ending } = input;
  const index = createSessionIndex();
  let unfinished = false;
  try {
    for await (const line of readLines()) {
      const result = parseEventLine(line);
      // A file's last line without its newline is one a proxy is still writing (one write per batch): not malformed.
      if (result.kind === "malformed" && ending.unterminated) unfinished = true;
      else if (result.kind === "malformed") index.malformedLines += 1;
      else if (result.kind === "event") indexEvent(index, result.event);
    }
  } catch (error) {
    throw new LocalError("E_IO", `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (s3Lines !== undefined && s3Lines.writtenAt.size > 0) rankByStoreTime(index, s3Lines.writtenAt);
  const skipped = index.malformedLines === 1 ? "1 malformed line" : `${index.malformedLines} malformed lines`;
  if (index.malformedLines > 0) ctx.stderr(`baton-proxy report: skipped ${skipped} in ${path}\n`);
  if (unfinished)
    ctx.stderr(`baton-proxy report: the last line of ${path} is unfinished (still being written): not read\n`);
  if (index.sessions.size === 0) {
    const only = [...(index.malformedLines > 0 ? [skipped] : []), ...(unfinished ? ["an unfinished last line"] : [])];
    throw new LocalError(
      "E_REPORT",
      `no valid events in ${path}${only.length > 0 ? ` (only ${only.join(" and ")})` : isS3Location(path) ? " (no line was read from its event objects)" : " (the file is empty)"}`,
    );
  }
  if (request.list) {
    const { duplicates, unchecked } = await countOnce(readLines, index);
    if (duplicates > 0) ctx.stderr(duplicatesNote(duplicates, path));
    if (unchecked > 0)
      ctx.stderr(
        `baton-proxy report: the counts of ${unchecked === 1 ? "1 session" : `${unchecked} sessions`} out of sequence order may include events read more than once (over the ${MAX_IDS_CHECKED.toLocaleString("en-US")} event ids held to check)\n`,
      );
    ctx.stdout(
      request.format === "json"
        ? `${JSON.stringify(listSessions(index).map(publicInfo), null, 2)}\n`
        : renderSessionList(index),
    );
    return EXIT.OK;
  }
  const session = chooseSession(index, request.session);
  const { state, duplicates } = await foldSession(readLines, session.sessionId);
  const unread = [...state.otherTypes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (unread.length > 0) {
    const count = unread.reduce((n, [, times]) => n + times, 0);
    const types = joinList(
      unread.map(([type, times]) => `${type} ×${times}`),
      MAX_TYPES_NAMED,
    );
    // The file's text: one printable line.
    ctx.stderr(
      `baton-proxy report: ${printable(`${count === 1 ? "1 event" : `${count} events`} of types the report does not read ${count === 1 ? "was" : "were"} left out: ${types}`)}\n`,
    );
  }
  if (duplicates > 0) ctx.stderr(duplicatesNote(duplicates, path));
  const slowCallMs = request.slowMs ?? config.slowCallMs;
  const previousSurface = request.format === "json" ? undefined : await findPreviousSurface(readLines, index, session);
  ctx.stdout(
    request.format === "json"
      ? `${JSON.stringify(summarizeReport(state, { slowCallMs }), null, 2)}\n`
      : renderReport(state, {
          slowCallMs,
          eventsLocation: path,
          previousSurface,
          // The latest session by default: several wrapped servers share one file, so say the others are there.
          otherSessions: request.session === undefined ? index.sessions.size - 1 : 0,
          ...(request.session === undefined && session.calls === 0 ? latestWithCalls(index, session) : {}),
          // A bare `report --list` reads the default file, not the one named here.
          ...(request.file === undefined ? {} : { namedLocation: path }),
        }),
  );
  return EXIT.OK;
}

function duplicatesNote(duplicates: number, path: string): string {
  return `baton-proxy report: skipped ${duplicates === 1 ? "1 duplicate event" : `${duplicates} duplicate events`} in ${path} (an event_id read more than once)\n`;
}

/** The latest session that has tool calls, for a latest session without any (a host's health check), when there is one. */
function latestWithCalls(
  index: SessionIndex,
  picked: SessionInfo,
): {
  latestWithCalls?: { sessionId: string; calls: number; server: string | null };
} {
  const sessions = listSessions(index);
  // The same server's first: the health check was of that server.
  const used =
    sessions.findLast((s) => s.calls > 0 && s.serverName !== null && s.serverName === picked.serverName) ??
    sessions.findLast((s) => s.calls > 0);
  if (used === undefined) return {};
  // Several servers share the default file: name the server, so another server's session is not taken for this one's.
  const server = describeServer(used.serverLabel, used.serverName);
  return { latestWithCalls: { sessionId: used.sessionId, calls: used.calls, server } };
}

function renderSessionList(index: SessionIndex): string {
  const sessions = listSessions(index);
  const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;
  // Every field is the event file's text (client and server names as their peers gave them): printable, one line per session.
  const lines = sessions.map((s) =>
    printable(
      `${s.sessionId}  ${s.firstAt ?? "?"} → ${s.lastAt ?? "?"}  ${plural(s.events, "event")}  ${plural(s.calls, "call")}  ${s.client ?? "unknown"}  ${describeServer(s.serverLabel, s.serverName) ?? "unknown server"}  ${s.surfaceHash ?? "no surface"}`,
    ),
  );
  return `${lines.join("\n")}\n`;
}

function publicInfo(s: SessionInfo): Record<string, unknown> {
  return {
    session_id: s.sessionId,
    first: s.firstAt,
    last: s.lastAt,
    events: s.events,
    calls: s.calls,
    client: s.client,
    server: describeServer(s.serverLabel, s.serverName),
    surface_hash: s.surfaceHash,
  };
}

function parsePositiveInt(raw: string): number | undefined {
  const n = Number(raw);
  return /^\d+$/.test(raw) && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
