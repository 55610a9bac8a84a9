// The server's optional GET stream (server-to-client messages outside any call): opened once, kept open, resumed when it drops.

import { ACCEPT_SSE, sessionHeaders, type SessionFacts } from "./http-wire.ts";
import { ResponseReader } from "./response-reader.ts";
import { SseParser } from "./sse-parser.ts";
import { MAX_LINE_BYTES } from "../wire/framing.ts";
import { consumeSse, MAX_RESUME_ATTEMPTS, resumeDelayMs } from "./sse-stream.ts";
import type { HttpUpstreamDeps } from "./upstream-types.ts";

export interface StandingStreamOptions {
  readonly deps: HttpUpstreamDeps;
  readonly facts: SessionFacts;
  /** Headers with current credentials (asked again on every reconnect: a token may have been refreshed). */
  readonly headers: () => Promise<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly isClosing: () => boolean;
}

/**
 * Runs until the session closes: 405, 404 or another refusal below 500 ends it quietly (a 401
 * only when no new token can be had);
 * a drop is resumed with Last-Event-ID after the server's `retry:` or a capped backoff; after
 * MAX_RESUME_ATTEMPTS reconnects in a row that failed, it gives up with one warning (calls are
 * unaffected: their answers come on their own streams). A stream the server accepted and closed
 * with nothing on it (polling, or an intermediary's idle timeout) is no failure: it is reopened,
 * only with the backoff growing, so such a server still reaches the client hours later.
 */
export async function runStandingStream(options: StandingStreamOptions): Promise<void> {
  const { deps, facts, signal, isClosing } = options;
  const { target, fetch, logger } = deps;
  // An event is held whole only up to the inspection cap: a longer one goes out as it arrives.
  const parser = new SseParser(MAX_LINE_BYTES);
  const reader = new ResponseReader([], false, facts, deps.sink);
  /** Opens in a row that failed (these end the stream), and opens in a row that brought nothing (these slow it). */
  let misses = 0;
  let quiet = 0;
  while (!isClosing() && !signal.aborted) {
    const before = reader.events;
    let opened = false;
    try {
      const headers = sessionHeaders(await options.headers(), facts, ACCEPT_SSE, parser.lastEventId);
      const response = await fetch(target.url, { method: "GET", headers, signal });
      const isStream = response.ok && (response.headers.get("content-type") ?? "").includes("text/event-stream");
      if (!isStream) {
        await response.body?.cancel().catch(() => undefined);
        // A 401 (the token was revoked or expired while the stream was open): reopened once the
        // authorizer has a new token, as a POST would be retried; else, like the refusals below, it ends.
        const renewed =
          response.status === 401 && (await deps.authorizer?.unauthorized(response, headers.Authorization)) === "retry";
        // 405 (none offered), 404 (session gone: the next POST says so), other refusals: not worth retrying.
        if (!renewed && response.status < 500 && response.status !== 429) return;
      } else {
        opened = true;
        await consumeSse(
          response.body,
          parser,
          (event) => reader.event(event),
          undefined,
          () => deps.sink.room?.(),
          (piece) => reader.longPiece(piece),
        );
      }
    } catch {
      // Dropped or refused: retried below with backoff (a resumed stream starts a new event).
      parser.end();
    }
    await reader.endLong(); // a stream that ended inside a long event: its line is ended
    if (isClosing() || signal.aborted) return; // aborted: the session ended or was replaced by a new one
    if (reader.events > before) [misses, quiet] = [0, 0];
    else if (opened) [misses, quiet] = [0, quiet + 1];
    else misses++;
    if (misses > MAX_RESUME_ATTEMPTS) {
      logger.warn(
        `gave up on the server-to-client stream of ${target.origin} after ${MAX_RESUME_ATTEMPTS} attempts; requests still work`,
      );
      return;
    }
    await Bun.sleep(resumeDelayMs(Math.max(1, misses + quiet), parser.retryMs));
  }
}
