// GET (the server->client stream) and DELETE (end of session) on the MCP path: forwarded, the stream relayed through the session's exchange.

import { requestTraceOf } from "./exchange.ts";
import { refuse } from "./answers.ts";
import { CONSENT_HEADER, judgeConsent } from "./consent.ts";
import type { ClientHop } from "./forward-headers.ts";
import {
  forgetUnknownSession,
  fromServerEvent,
  isMessageEvent,
  observeAnswer,
  refusalForSession,
  SESSION_HEADER,
  upstreamFailed,
  upstreamUrl,
  type McpRouteDeps,
} from "./mcp-relay.ts";
import { statelessKey, type ResumingCall, type SessionEntry } from "./session-table.ts";
import { classifyLine, type JsonRpcId } from "../wire/jsonrpc.ts";
import type { SseEvent } from "../wire/sse.ts";
import { owedAnswers } from "./owed-answers.ts";
import { relaySse } from "./sse-relay.ts";
import { bodyStream, fetchUpstream, type UpstreamAnswer } from "./upstream-client.ts";

/**
 * A GET stream registers with the drain (closed by the proxy at SIGTERM) and keeps its session
 * busy (never expired while open); a broken or drained stream ends cleanly for the client.
 */
export async function handleStreamOrDelete(request: Request, hop: ClientHop, deps: McpRouteDeps): Promise<Response> {
  const sessionId = request.headers.get(SESSION_HEADER);
  const context = {
    remoteAddress: hop.remoteAddress,
    consentToken: headerConsent(request, deps),
    principal: deps.principalOf(request.headers),
    trace: requestTraceOf(request.headers),
  };
  // Without a session id (an upstream that gives none), the GET stream is the client group's: the
  // server's task statuses, progress and requests there concern that group's calls.
  const entry =
    sessionId !== null
      ? deps.sessions.forSession(sessionId, context)
      : request.method === "GET"
        ? deps.sessions.findStateless(statelessKey(context, undefined))
        : undefined;
  const aborter = new AbortController();
  const signal = AbortSignal.any([request.signal, aborter.signal]);
  let response: UpstreamAnswer;
  if (entry !== undefined) entry.active++;
  // A GET is the drain's to close from the start: a server may hold a stream's head until its first event, however late.
  const release = request.method === "GET" ? deps.streams.add(aborter) : undefined;
  // Waiting for the upstream (a server may hold a stream's head until its first event) is not client idleness.
  deps.keepOpen(request);
  try {
    response = await fetchUpstream({
      url: upstreamUrl(deps.config, request),
      method: request.method,
      headers: request.headers,
      hop,
      viaFetch: deps.config.upstreamViaFetch,
      body: undefined,
      signal,
      decompress: true,
    });
  } catch (error) {
    release?.();
    if (entry !== undefined) used(entry, deps);
    deps.restoreIdle(request);
    if (aborter.signal.aborted && !request.signal.aborted) {
      deps.metrics.refused.inc({ reason: "draining" });
      return refusalForSession(
        refuse("draining", "the proxy is shutting down and opens no new streams", { mcp: true }),
        request,
        deps.sessions,
      );
    }
    return upstreamFailed(error, deps, undefined, [], new Map(), deps.now());
  }
  if (request.method === "DELETE") {
    if (entry !== undefined) entry.active--;
    deps.restoreIdle(request);
    // Only an accepted DELETE (2xx) or an unknown session (404) ends it upstream; a 401 or 405 leaves it alive there.
    if (sessionId !== null && (response.ok || response.status === 404))
      deps.sessions.end(sessionId, "the client ended the session");
    return new Response(response.body, {
      status: response.status,
      headers: response.clientHeaders(true),
    });
  }
  const type = (response.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  const stream = type === "text/event-stream" ? bodyStream(response) : null;
  if (!response.ok || stream === null) {
    release?.();
    if (entry !== undefined) used(entry, deps);
    deps.restoreIdle(request);
    if (entry !== undefined) forgetUnknownSession(deps, sessionId, response.status, entry.active);
    return new Response(response.body, {
      status: response.status,
      headers: response.clientHeaders(true),
    });
  }
  const exchange = entry?.exchange;
  const body = relaySse(stream, {
    rewrite: (event) => {
      if (exchange === undefined) return undefined;
      const out = fromServerEvent(deps, exchange, event, new Map(), owedAnswers([], []), 0);
      if (entry?.resuming !== undefined && entry.resuming.size > 0) observeResumed(deps, entry.resuming, event);
      return out;
    },
    finished: () => {
      release?.();
      if (entry !== undefined) used(entry, deps);
      aborter.abort();
      // A broken or drained stream ends cleanly: the client reconnects (with Last-Event-ID) if it wants.
      return new Uint8Array(0);
    },
  });
  return new Response(body, { status: response.status, headers: response.clientHeaders(true) });
}

/**
 * An answer a resumed stream replays for a call whose POST stream was dropped: counted as on its POST
 * (the GET asked nothing itself), once, however often the client resumes.
 */
function observeResumed(deps: McpRouteDeps, resuming: Map<JsonRpcId, ResumingCall>, event: SseEvent): void {
  if (event.dataBytes === undefined || !isMessageEvent(event)) return;
  const line = classifyLine(event.dataBytes);
  const messages =
    line.kind === "message" ? [line.message] : line.kind === "batch" ? line.members.filter((m) => m !== undefined) : [];
  for (const message of messages) {
    if (message.kind !== "response" || message.id === null) continue;
    const call = resuming.get(message.id);
    if (call === undefined) continue;
    resuming.delete(message.id);
    observeAnswer(deps, new Map([[message.id, call.method]]), message.value, call.startedAt);
  }
}

/** A request of the session ended; its end is use (a stream open longer than --session-idle-ms must not leave the session to the next sweep). */
function used(entry: SessionEntry, deps: McpRouteDeps): void {
  entry.active--;
  entry.lastUsedAt = deps.now();
}

/**
 * A GET's or DELETE's consent: its header's (it has no body). It matters when the request is the
 * first this replica sees of a session (a GET stream reopened after a restart): that decides
 * whether the session is shown the proxy's additions, as a handshake's token would.
 */
function headerConsent(request: Request, deps: McpRouteDeps): string | undefined {
  const baton = deps.config.baton;
  if (baton.consentMode !== "per-request") return baton.consentToken;
  const verdict = judgeConsent(request.headers.get(CONSENT_HEADER), undefined, !baton.allSinksLocal);
  if (verdict.kind === "rejected") deps.metrics.consentRejected.inc({ reason: verdict.reason });
  return verdict.kind === "token" ? verdict.token : undefined;
}
