// A POST's SSE answer read to its end; when the stream breaks before the answer, resumed by GET with Last-Event-ID (bounded, with backoff).

import { ACCEPT_SSE, sessionHeaders, type SessionFacts } from "./http-wire.ts";
import type { ResponseReader } from "./response-reader.ts";
import { SseParser } from "./sse-parser.ts";
import { MAX_LINE_BYTES } from "../wire/framing.ts";
import { consumeSse, MAX_RESUME_ATTEMPTS, resumeDelayMs } from "./sse-stream.ts";
import { fetchFailure, UpstreamTimeout, type UpstreamFailure } from "./upstream-failure.ts";
import type { HttpUpstreamDeps } from "./upstream-types.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";

/** What reading a POST's stream needs of its session (built once per session). */
export interface PostStreamSession {
  readonly deps: HttpUpstreamDeps;
  readonly facts: SessionFacts;
  /** Headers with current credentials (asked again on every resume: a token may have been refreshed). */
  readonly authorized: () => Promise<Record<string, string>>;
  readonly isClosing: () => boolean;
  /** The client cancelled this exchange: its end is not a failure to report. */
  readonly isCancelled: (controller: AbortController) => boolean;
  /** Answers the requests the server will not answer (the session's one failure path). */
  readonly fail: (ids: readonly JsonRpcId[], failure: UpstreamFailure, controller?: AbortController) => void;
  /** The session expired (HTTP 404): the failure to report, warned about once. */
  readonly expired: () => UpstreamFailure;
  /** Requests the server sent the client that the client has not answered yet, by the POST whose stream carried them. */
  readonly owed: Map<JsonRpcId, AbortController>;
}

/**
 * Reads a POST's SSE answer; when the stream breaks before the answer, resumes it by GET with
 * Last-Event-ID. `quietIsFine`: a stream meant to stay open and silent between events (a
 * `subscriptions/listen`, the 2026-07-28 successor of the GET stream) has no idle deadline.
 */
export async function readPostStream(
  session: PostStreamSession,
  first: Response,
  reader: ResponseReader,
  controller: AbortController,
  quietIsFine = false,
): Promise<void> {
  const { target, fetch, timeoutMs } = session.deps;
  const idle = quietIsFine
    ? undefined
    : {
        ms: timeoutMs,
        abort: (why: unknown) => controller.abort(why),
        // The server waits for the client's answer to its request (a person filling in a form): not the server's silence.
        paused: () => {
          for (const owner of session.owed.values()) if (owner === controller) return true;
          return false;
        },
      };
  // An event is held whole only up to the inspection cap: a longer one (a huge tool result) goes out as it arrives.
  const parser = new SseParser(MAX_LINE_BYTES);
  let response = first;
  let attempts = 0;
  /**
   * The last resume GET got a stream: the server is there and may close it again with nothing new
   * to make us poll (2025-11-25), as the SDK server's closeSSEStream does. Like SDK clients, only
   * reconnects that fail count toward MAX_RESUME_ATTEMPTS.
   */
  let reopened = false;
  for (;;) {
    let broken: unknown;
    const before = reader.events;
    try {
      await consumeSse(
        response.body,
        parser,
        (event) => reader.event(event),
        idle,
        () => session.deps.sink.room?.(),
        (piece) => reader.longPiece(piece),
      );
    } catch (error) {
      broken = error;
      parser.end(); // a resumed stream starts a new event, not the rest of this one
    }
    // A stream that ended inside a long event: its line is ended, and its request not taken as answered.
    if (reader.unanswered().length === 0 || session.isClosing() || session.isCancelled(controller))
      return reader.endLong();
    if (broken instanceof UpstreamTimeout || parser.lastEventId === undefined) {
      // The server answered and its stream began: a break now is the stream lost, not the server unreachable.
      const failure =
        broken === undefined
          ? { errorType: "upstream_no_response", reason: `${target.origin} closed the stream before answering` }
          : broken instanceof UpstreamTimeout
            ? fetchFailure(target.origin, broken, timeoutMs)
            : {
                errorType: "upstream_stream_lost",
                reason: `the stream from ${target.origin} broke before the answer (${describeBreak(broken)}) and gave no event id to resume it from`,
              };
      // Failed before the cut line ends: the stdio side closes a call at its line's end, from its first bytes.
      session.fail(reader.giveUp(), failure, controller);
      return reader.endLong();
    }
    await reader.endLong();
    attempts = reader.events > before || reopened ? 1 : attempts + 1;
    reopened = false;
    if (attempts > MAX_RESUME_ATTEMPTS) {
      return session.fail(
        reader.giveUp(),
        {
          errorType: "upstream_stream_lost",
          reason: `the stream from ${target.origin} broke and could not be resumed after ${MAX_RESUME_ATTEMPTS} attempts`,
        },
        controller,
      );
    }
    await Bun.sleep(resumeDelayMs(attempts, parser.retryMs));
    if (session.isClosing()) return;
    let headers: Record<string, string>;
    try {
      headers = sessionHeaders(await session.authorized(), session.facts, ACCEPT_SSE, parser.lastEventId);
      response = await fetch(target.url, { method: "GET", headers, signal: controller.signal });
    } catch {
      continue; // counted as an attempt; the server may be restarting
    }
    if (response.status === 405 || (response.status === 404 && session.facts.sessionId !== undefined)) {
      await response.body?.cancel().catch(() => undefined);
      return session.fail(
        reader.giveUp(),
        response.status === 404
          ? session.expired()
          : {
              errorType: "upstream_stream_lost",
              reason: `the stream from ${target.origin} broke and the server does not support resuming it`,
            },
        controller,
      );
    }
    if (response.status === 401) {
      await response.body?.cancel().catch(() => undefined);
      // The token was revoked or expired while the call ran: the next attempt carries the new one
      // (an attempt is still counted, so a server that keeps refusing ends the call as before).
      await session.deps.authorizer?.unauthorized(response, headers.Authorization);
    } else if (!response.ok) await response.body?.cancel().catch(() => undefined);
    else reopened = (response.headers.get("content-type") ?? "").includes("text/event-stream");
  }
}

/** A broken stream's cause in a few words: its error code when it has one (ECONNRESET), else its message. */
function describeBreak(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code !== "") return code;
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim().slice(0, 120);
}
