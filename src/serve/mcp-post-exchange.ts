// A checked MCP POST through its session's exchange: local answers, the forward upstream, and the answer relayed back as JSON, SSE or unchanged.

import { answerIdOfLongLine } from "../proxy/long-lines.ts";
import { classifyLine, wireError, type Classified, type JsonRpcId, type Message } from "../wire/jsonrpc.ts";
import { sseDataEdges } from "../wire/sse.ts";
import { decodeUtf8, withoutBom } from "../wire/utf8.ts";
import { DRAIN_CUT_TEXT, refuse, SERVE_WIRE_ERROR, UPSTREAM_DOWN_TEXT } from "./answers.ts";
import type { RequestContext, SessionExchange } from "./exchange.ts";
import { corsFieldsOf, withCorsFields } from "./cors-echo.ts";
import type { ClientHop } from "./forward-headers.ts";
import { jsonResponse, mergeJson, messageEvents, prependEvents } from "./local-answers.ts";
import {
  CLIENT_GONE,
  fromServer,
  forgetUnknownSession,
  fromServerEvent,
  LISTEN_METHOD,
  observeAnswer,
  observeLongAnswer,
  observeUnanswered,
  SESSION_HEADER,
  upstreamUrl,
  type McpRouteDeps,
} from "./mcp-relay.ts";
import { statelessKey, type ResumingCall, type SessionEntry } from "./session-table.ts";
import { discardBody, relayLong } from "./long-answer.ts";
import { longJsonAnswer } from "./long-json-answer.ts";
import { owedAnswers } from "./owed-answers.ts";
import { relaySse } from "./sse-relay.ts";
import {
  countUnanswered,
  drainCutAnswer,
  endAsShutdown,
  failedWithLocalAnswers,
  readAnswer,
} from "./unanswered-requests.ts";
import { bodyStream, fetchUpstream, type UpstreamAnswer } from "./upstream-client.ts";

/** What a request looks like once checked: one parsed body and the facts needed to route it. */
export interface Checked {
  readonly body: Uint8Array;
  readonly line: Classified;
  readonly messages: readonly Message[];
  readonly requestIds: readonly JsonRpcId[];
  /** The body arrived with a Content-Encoding that was undone: it is forwarded decoded. */
  readonly decoded?: boolean;
}

/**
 * Forwards what the exchange did not answer itself and relays the upstream's answer merged with the local answers;
 * an unreachable upstream fails the requests it carried (502), a broken stream answers the unanswered ones with errors.
 */
export async function exchangePost(
  request: Request,
  hop: ClientHop,
  deps: McpRouteDeps,
  entry: SessionEntry,
  checked: Checked,
  context: RequestContext,
  initialize: boolean,
): Promise<Response> {
  // A stateless-era group is shared by clients that each number their requests alike: this POST's are its own.
  const exchange = entry.shared ? entry.exchange.forPost() : entry.exchange;
  const startedAt = deps.now();
  const verdict = safeFromClient(exchange, checked, context);
  const methods = new Map(checked.messages.flatMap((m) => (m.kind === "request" ? [[m.id, m.method] as const] : [])));
  const local = verdict.answers;
  const origin = request.headers.get("origin");
  if (verdict.forward === undefined) {
    // Nothing to forward and nothing to answer (a cancellation of a call the proxy answered itself): accepted, as the upstream would.
    if (local.length === 0)
      return withCorsFields(
        new Response(null, { status: 202, headers: { via: "1.1 baton-proxy" } }),
        entry.cors,
        origin,
      );
    for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
    return withCorsFields(jsonResponse(local.length === 1 ? local[0] : local, 200), entry.cors, origin);
  }
  // A listen stream (the modern era's GET stream) never ends by itself: the drain closes it, as it does GET streams.
  const drainer = [...methods.values()].includes(LISTEN_METHOD) ? new AbortController() : undefined;
  const release = drainer === undefined ? undefined : deps.streams.add(drainer);
  // Aborted by the drain's deadline while the upstream has sent no head: the proxy then answers the requests itself.
  const headCut = drainer === undefined && checked.requestIds.length > 0 ? new AbortController() : undefined;
  const releaseHeadCut = headCut === undefined ? undefined : deps.answers.add(headCut);
  const extra = drainer ?? headCut;
  let response: UpstreamAnswer;
  try {
    // The client's own signal: its disconnect aborts the upstream request (a relayed stream also cancels its upstream body).
    response = await fetchUpstream({
      url: upstreamUrl(deps.config, request),
      method: "POST",
      headers: checked.decoded === true ? withoutContentEncoding(request.headers) : request.headers,
      hop,
      viaFetch: deps.config.upstreamViaFetch,
      body: verdict.forward,
      signal: extra === undefined ? request.signal : AbortSignal.any([request.signal, extra.signal]),
      decompress: true,
    });
  } catch (error) {
    release?.();
    releaseHeadCut?.();
    try {
      // The proxy's own answer (-32603 at the drain's deadline, -32001 for an upstream gone): readable by a browser client as the upstream's are.
      if (headCut?.signal.aborted && !request.signal.aborted)
        return withCorsFields(
          drainCutAnswer(
            deps,
            exchange,
            owedAnswers(checked.messages, local),
            local,
            methods,
            startedAt,
            checked.line.kind === "batch",
          ),
          entry.cors,
          origin,
        );
      if (drainer?.signal.aborted && !request.signal.aborted) {
        endAsShutdown(deps, exchange, owedAnswers(checked.messages, local).ids(), methods, startedAt);
        return refuse("draining", "the proxy is shutting down and opens no new streams", { mcp: true });
      }
      return withCorsFields(
        failedWithLocalAnswers(error, deps, exchange, owedAnswers(checked.messages, local), local, methods, startedAt),
        entry.cors,
        origin,
      );
    } finally {
      // A handshake never answered is in no table: ending it here is the only end its engine gets (it held the hub's observer).
      if (initialize) exchange.close("the upstream never answered the handshake");
    }
  }
  releaseHeadCut?.();
  if (response.ok) entry.confirmed = true;
  const cors = corsFieldsOf(response);
  if (cors !== undefined) entry.cors = cors;
  const newSessionId = response.header(SESSION_HEADER);
  if (initialize && response.ok) {
    if (newSessionId !== null) deps.sessions.adopt(newSessionId, entry);
    else deps.sessions.adoptStateless(statelessKey(context, undefined), entry);
  } else if (initialize) {
    exchange.close("the upstream refused the handshake");
  }
  const type = (response.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  const stream = type === "text/event-stream" ? bodyStream(response) : null;
  if (!response.ok || stream === null) release?.();
  if (response.ok && stream !== null) {
    // The requests the upstream owes an answer: those the proxy answered itself already have theirs.
    const pending = owedAnswers(checked.messages, local);
    // Cut at the drain's deadline (a listen stream was closed at its start): the client is then told its calls failed, not left waiting.
    const cut = drainer === undefined ? new AbortController() : undefined;
    const releaseCut = cut === undefined ? undefined : deps.answers.add(cut);
    deps.keepOpen(request);
    // The session is busy while its answer streams (a long call, a listen stream): never expired meanwhile.
    entry.active++;
    // An event id lets the client resume (GET + Last-Event-ID) and get its answers there; without one, the stream's end is final.
    let resumable = false;
    const body = relaySse(stream, {
      rewrite: (event) => {
        if (event.id !== undefined) resumable = true;
        return fromServerEvent(deps, exchange, event, methods, pending, startedAt);
      },
      // Over the inspection cap: forwarded unread and unchanged, its request closed from its data's edges, as a stdio line that long.
      longEvent: (edges, dataRead) => {
        resumable = true; // its fields went unread: it may have carried an id
        const found = sseDataEdges(edges);
        if (found === undefined) return;
        // A batch (2025-03-26): each answer in it closes its own request, as a stdio line that long does.
        const data = dataRead.members === undefined ? found : { ...found, members: dataRead.members };
        exchange.fromServerLongLine(data);
        // Answered: counted, and a stream that breaks later owes the client no error for it.
        for (const one of data.members ?? [data]) {
          const text = { head: decodeUtf8(one.head), tail: decodeUtf8(one.tail) };
          const id = answerIdOfLongLine(text.head, text.tail);
          if (id !== undefined && pending.answer(id)) observeLongAnswer(deps, methods, id, text, startedAt);
        }
      },
      cut: cut?.signal,
      finished: (outcome, error) => {
        release?.();
        releaseCut?.();
        entry.active--;
        entry.lastUsedAt = deps.now();
        if (cut?.signal.aborted && outcome === "error") {
          endAsShutdown(deps, exchange, pending.ids(), methods, startedAt);
          return messageEvents(pending.written().map((id) => wireError(id, SERVE_WIRE_ERROR.DRAINING, DRAIN_CUT_TEXT)));
        }
        if (drainer?.signal.aborted && outcome === "error") {
          // Closed by the drain: an end of stream for the client (it listens again elsewhere), not an upstream failure.
          endAsShutdown(deps, exchange, pending.ids(), methods, startedAt);
          return new Uint8Array(0);
        }
        if (pending.size === 0) return undefined;
        if (outcome === "complete") {
          // The requests it never answered get no answer now (nothing to resume from), so their calls end here.
          if (resumable) return undefined;
          countUnanswered(deps, methods, pending.ids(), response.status, startedAt);
          exchange.upstreamFailed(
            pending.ids(),
            `the upstream ended its event stream (HTTP ${response.status}) without a JSON-RPC answer`,
            `upstream_http_${response.status}`,
          );
          return undefined;
        }
        const ids = pending.ids();
        if (outcome === "error") exchange.upstreamFailed(ids, `the upstream stream broke: ${String(error)}`);
        else if (resumable && !entry.shared) awaitResumption(entry, ids, methods, startedAt, deps.now());
        else exchange.upstreamFailed(ids, "the client went away", CLIENT_GONE);
        if (outcome !== "error") return undefined;
        deps.logger.warn(
          `upstream ${deps.config.upstream.origin} broke a response stream with ${ids.length} request(s) unanswered: ${String(error)}`,
        );
        deps.metrics.upstreamFailures.inc({ reason: "stream_broken" });
        observeUnanswered(
          deps,
          ids.flatMap((id) => methods.get(id) ?? []),
          startedAt,
        );
        return messageEvents(
          pending.written().map((id) => wireError(id, SERVE_WIRE_ERROR.UPSTREAM_UNAVAILABLE, UPSTREAM_DOWN_TEXT)),
        );
      },
    });
    // Our own answers go out ahead of the upstream's events: counted as they are given.
    for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
    return new Response(local.length === 0 ? body : prependEvents(local, body), {
      status: response.status,
      headers: response.clientHeaders(true),
    });
  }
  if (response.ok && type === "application/json") {
    const capped = await readAnswer(response, request, deps, exchange, {
      messages: checked.messages,
      local,
      methods,
      startedAt,
    });
    if (capped instanceof Response) return capped;
    if (capped.whole === undefined)
      return longJsonAnswer(deps, exchange, entry, checked.requestIds, local, capped, response, { methods, startedAt });
    const bytes = capped.whole;
    // A JSON body may start with a byte order mark (RFC 8259 §8.1; clients' JSON readers skip it): read past it, forwarded as it came.
    const json = withoutBom(bytes);
    const pending = owedAnswers(checked.messages, local);
    const out = fromServer(deps, exchange, json, classifyLine(json), methods, pending, startedAt, undefined);
    // A JSON body is the whole answer (no stream to resume): a request it does not answer never gets one, so its
    // call ends now, as a 200 that is not JSON does, rather than waiting for eviction.
    if (pending.size > 0 && !initialize) {
      countUnanswered(deps, methods, pending.ids(), response.status, startedAt);
      exchange.upstreamFailed(
        pending.ids(),
        `the upstream answered HTTP ${response.status} without a JSON-RPC answer`,
        `upstream_http_${response.status}`,
      );
    }
    const merged = local.length === 0 ? (out ?? bytes) : mergeJson(out ?? json, local);
    for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
    return new Response(merged, { status: response.status, headers: response.clientHeaders(true) });
  }
  if (response.ok && local.length > 0) {
    // The upstream took what was forwarded without a JSON-RPC body (202 for a batch's notifications):
    // the answers the proxy gave to the rest are then the whole answer, or the client would wait for them forever.
    await discardBody(response);
    for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
    return withCorsFields(jsonResponse(local.length === 1 ? local[0] : local, 200), cors, origin);
  }
  let body: ReadableStream<Uint8Array> | Uint8Array | null = response.body;
  if (!response.ok && type === "application/json" && local.length === 0 && !initialize) {
    // 2026-07-28 upstreams send protocol errors with a 4xx status (404 + -32601, 400 + -32022 …):
    // a body that is the JSON-RPC error of this request is its answer, so the call ends as that
    // error, as over stdio (and the proxy may answer it, like a toolless server's -32601 to tools/list).
    const capped = await readAnswer(response, request, deps, exchange, {
      messages: checked.messages,
      local,
      methods,
      startedAt,
    });
    if (capped instanceof Response) return capped;
    const bytes = capped.whole;
    // One over the inspection cap is no error answer to inspect: it passes unread, as it arrives.
    if (bytes === undefined) body = relayLong(capped.read, capped.rest, () => undefined);
    else {
      const line = classifyLine(bytes);
      if (answersWithError(line, checked.requestIds)) {
        const out = fromServer(
          deps,
          exchange,
          bytes,
          line,
          methods,
          owedAnswers(checked.messages, []),
          startedAt,
          undefined,
        );
        const status = out === undefined ? response.status : 200;
        return new Response(out ?? bytes, { status, headers: response.clientHeaders(out !== undefined) });
      }
      body = bytes;
    }
  }
  // Any other answer (401 for an expired token, 404 for a session the upstream forgot...) passes
  // unchanged; the requests it carried will get no JSON-RPC answer, so their calls end here.
  countUnanswered(deps, methods, [...methods.keys()], response.status, startedAt);
  if (checked.requestIds.length > 0 && !initialize)
    exchange.upstreamFailed(
      checked.requestIds,
      `the upstream answered HTTP ${response.status} without a JSON-RPC answer`,
      `upstream_http_${response.status}`,
    );
  if (!initialize) forgetUnknownSession(deps, request.headers.get(SESSION_HEADER), response.status, entry.active - 1);
  return new Response(body, {
    status: response.status,
    headers: response.clientHeaders(true),
  });
}

/**
 * How long the calls of a resumable stream the client dropped wait for it to resume (GET with
 * Last-Event-ID; SDK clients retry within seconds): the answer replayed there ends them as it
 * would have on the POST. Those still pending then end as cancelled.
 */
export const RESUME_GRACE_MS = 60_000;

/**
 * Ends `ids` as cancelled after {@link RESUME_GRACE_MS} unless answered meanwhile; a request reusing one of the ids after `at` is left alone.
 * Meanwhile they are the entry's `resuming` calls: an answer replayed on a GET stream is counted with their method and start.
 */
function awaitResumption(
  entry: SessionEntry,
  ids: readonly JsonRpcId[],
  methods: ReadonlyMap<JsonRpcId, string>,
  startedAt: number,
  at: number,
): void {
  const resuming = (entry.resuming ??= new Map());
  const calls = ids.flatMap((id) => {
    const method = methods.get(id);
    if (method === undefined) return [];
    const call: ResumingCall = { method, startedAt };
    resuming.set(id, call);
    return [[id, call] as const];
  });
  setTimeout(() => {
    entry.exchange.upstreamFailed(ids, "the client went away", CLIENT_GONE, at);
    // Not counted, as a call whose client went away is not; a later call reusing the id keeps its own.
    for (const [id, call] of calls) if (resuming.get(id) === call) resuming.delete(id);
  }, RESUME_GRACE_MS).unref();
}

/** A JSON body answering one of `ids` with a JSON-RPC error. */
function answersWithError(line: Classified, ids: readonly JsonRpcId[]): boolean {
  if (line.kind !== "message" || line.message.kind !== "response" || line.message.id === null) return false;
  const value = line.message.value;
  return "error" in value && !("result" in value) && ids.includes(line.message.id);
}

function safeFromClient(exchange: SessionExchange, checked: Checked, context: RequestContext) {
  try {
    return exchange.fromClient(checked.body, checked.line, context);
  } catch {
    return { forward: checked.body, answers: [] }; // fail-open: telemetry never breaks the pipe
  }
}

/** The request's headers less Content-Encoding, for a body forwarded decoded. */
function withoutContentEncoding(headers: Headers): Headers {
  const out = new Headers(headers);
  out.delete("content-encoding");
  return out;
}
