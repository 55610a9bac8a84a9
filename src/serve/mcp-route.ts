// The MCP endpoint (POST, GET, DELETE): checks the request, routes it to its session's exchange, forwards it, and relays the answer.

import {
  classifyLine,
  decodeUtf8,
  isObject,
  encodeUtf8,
  scannedFacts,
  wireError,
  type Classified,
  type JsonObject,
  type JsonRpcId,
  type Message,
} from "../wire/jsonrpc.ts";
import { FACT } from "../wire/line-facts.ts";
import { refuse, SERVE_WIRE_ERROR, UPSTREAM_DOWN_TEXT } from "./answers.ts";
import { judgeConsent, mayCarryMetaToken, metaConsentToken, stripConsentMeta, CONSENT_HEADER } from "./consent.ts";
import type { RequestContext, SessionExchange } from "./exchange.ts";
import type { ClientHop } from "./forward-headers.ts";
import {
  fromServer,
  fromServerEvent,
  observeAnswer,
  SESSION_HEADER,
  upstreamFailed,
  upstreamUrl,
  type McpRouteDeps,
} from "./mcp-relay.ts";
import { handleStreamOrDelete } from "./mcp-stream.ts";
import { readBoundedBody } from "./request-body.ts";
import { statelessKey, type SessionEntry, type SessionTable } from "./session-table.ts";
import { relaySse } from "./sse-relay.ts";
import { bodyStream, fetchUpstream, type UpstreamAnswer } from "./upstream-client.ts";

export type { McpRouteDeps } from "./mcp-relay.ts";

const MODERN_CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo";
const ALLOWED_METHODS = "GET, POST, DELETE";

/** What a request looks like once checked: one parsed body and the facts needed to route it. */
interface Checked {
  readonly body: Uint8Array;
  readonly line: Classified;
  readonly messages: readonly Message[];
  readonly requestIds: readonly JsonRpcId[];
}

export async function handleMcp(request: Request, hop: ClientHop, deps: McpRouteDeps): Promise<Response> {
  switch (request.method) {
    case "POST":
      return handlePost(request, hop, deps);
    case "GET":
    case "DELETE":
      return handleStreamOrDelete(request, hop, deps);
    default:
      deps.metrics.refused.inc({ reason: "method" });
      return refuse("method", `${request.method} is not an MCP method on this endpoint (use GET, POST or DELETE)`, {
        mcp: true,
        allow: ALLOWED_METHODS,
      });
  }
}

async function handlePost(request: Request, hop: ClientHop, deps: McpRouteDeps): Promise<Response> {
  const checked = await checkPost(request, deps);
  if (checked instanceof Response) return checked;
  const { messages } = checked;
  const initialize = messages.find((m) => m.kind === "request" && m.method === "initialize");
  if (initialize !== undefined && deps.isDraining()) {
    deps.metrics.refused.inc({ reason: "draining" });
    return refuse("draining", "the proxy is shutting down and opens no new sessions; reconnect to another replica", {
      mcp: true,
    });
  }
  const consent = readConsent(request, checked, deps);
  const context: RequestContext = {
    remoteAddress: hop.remoteAddress,
    consentToken: consent.token,
    principal: deps.principalOf(request.headers),
  };
  const sessionId = request.headers.get(SESSION_HEADER);
  const entry = pickSession(sessionId, initialize !== undefined, messages, consent.body, context, deps.sessions);
  entry.active++;
  try {
    return await exchangePost(
      request,
      hop,
      deps,
      entry,
      { ...checked, body: consent.body },
      context,
      initialize !== undefined,
    );
  } finally {
    entry.active--;
  }
}

async function checkPost(request: Request, deps: McpRouteDeps): Promise<Checked | Response> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== "application/json") {
    deps.metrics.refused.inc({ reason: "content_type" });
    await request.body?.cancel().catch(() => undefined);
    return refuse(
      "content_type",
      `POST bodies must be application/json (got ${type === "" ? "no Content-Type" : JSON.stringify(type.slice(0, 80))})`,
      { mcp: true, close: true },
    );
  }
  const read = await readBoundedBody(request, deps.config.maxBodyBytes);
  if (read.kind === "too_large") {
    deps.metrics.refused.inc({ reason: "body_too_large" });
    return refuse(
      "body_too_large",
      `the request body is larger than ${deps.config.maxBodyBytes} bytes (--max-body-bytes)`,
      { mcp: true, close: !read.drained },
    );
  }
  const line = classifyLine(read.bytes);
  if (line.kind === "junk") {
    const reason = line.reason === "not_jsonrpc" ? "not_jsonrpc" : "malformed_json";
    deps.metrics.refused.inc({ reason });
    return refuse(
      reason,
      reason === "malformed_json"
        ? "the body is not valid JSON"
        : "the body is JSON but not a JSON-RPC 2.0 message or batch",
      { mcp: true },
    );
  }
  const messages = line.kind === "message" ? [line.message] : line.members.filter((m): m is Message => m !== undefined);
  const requestIds = messages.flatMap((m) => (m.kind === "request" ? [m.id] : []));
  return { body: read.bytes, line, messages, requestIds };
}

/** Reads (and strips) the consent token in per-request mode; the body is re-serialised only when `_meta` carried one. */
function readConsent(
  request: Request,
  checked: Checked,
  deps: McpRouteDeps,
): { token: string | undefined; body: Uint8Array } {
  const baton = deps.config.baton;
  if (baton.consentMode !== "per-request") return { token: baton.consentToken, body: checked.body };
  // Most bodies cannot hold the `_meta` key: they stay unparsed (the engine's fast path reads their bytes).
  const inMeta = mayCarryMetaToken(checked.body);
  const first = inMeta ? checked.messages.find((m) => m.kind === "request" || m.kind === "notification") : undefined;
  const verdict = judgeConsent(
    request.headers.get(CONSENT_HEADER),
    first === undefined ? undefined : metaConsentToken(first.value),
    !baton.allSinksLocal,
  );
  if (verdict.kind === "rejected") deps.metrics.consentRejected.inc({ reason: verdict.reason });
  let stripped = false;
  if (inMeta) for (const message of checked.messages) if (stripConsentMeta(message.value)) stripped = true;
  const body = stripped
    ? encode(checked.line.kind === "batch" ? checked.line.values : (checked.messages[0] as Message).value)
    : checked.body;
  return { token: verdict.kind === "token" ? verdict.token : undefined, body };
}

function pickSession(
  sessionId: string | null,
  initialize: boolean,
  messages: readonly Message[],
  body: Uint8Array,
  context: RequestContext,
  sessions: SessionTable,
): SessionEntry {
  if (initialize) return sessions.open(context);
  if (sessionId !== null) return sessions.forSession(sessionId, context);
  const meta = messages.map((m) => metaOf(m, body)).find((m) => m !== undefined);
  return sessions.forStateless(statelessKey(context, meta?.[MODERN_CLIENT_INFO_KEY]), context);
}

/** A request's `params._meta` object; parsed alone from the body's bytes when the scan found it (the rest stays unparsed). */
function metaOf(message: Message, body: Uint8Array): JsonObject | undefined {
  const facts = scannedFacts(message, body);
  if (facts !== undefined && (facts.flags & FACT.UNSURE) === 0) {
    if (!facts.metaIsObject) return undefined;
    return JSON.parse(decodeUtf8(body.subarray(facts.metaAt, facts.metaEnd))) as JsonObject;
  }
  const params = message.value.params;
  return isObject(params) && isObject(params._meta) ? params._meta : undefined;
}

async function exchangePost(
  request: Request,
  hop: ClientHop,
  deps: McpRouteDeps,
  entry: SessionEntry,
  checked: Checked,
  context: RequestContext,
  initialize: boolean,
): Promise<Response> {
  const exchange = entry.exchange;
  const startedAt = deps.now();
  const verdict = safeFromClient(exchange, checked, context);
  const methods = new Map(checked.messages.flatMap((m) => (m.kind === "request" ? [[m.id, m.method] as const] : [])));
  const local = verdict.answers;
  if (verdict.forward === undefined) {
    for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
    return jsonResponse(local.length === 1 ? local[0] : local, 200);
  }
  let response: UpstreamAnswer;
  try {
    // The client's own signal: its disconnect aborts the upstream request (a relayed stream also cancels its upstream body).
    response = await fetchUpstream({
      url: upstreamUrl(deps.config, request),
      method: "POST",
      headers: request.headers,
      hop,
      viaFetch: deps.config.upstreamViaFetch,
      body: verdict.forward,
      signal: request.signal,
      decompress: true,
    });
  } catch (error) {
    return upstreamFailed(error, deps, exchange, checked.requestIds, methods, startedAt);
  }
  const newSessionId = response.header(SESSION_HEADER);
  if (initialize && response.ok) {
    if (newSessionId !== null) deps.sessions.adopt(newSessionId, entry);
    else deps.sessions.adoptStateless(statelessKey(context, undefined), entry);
  } else if (initialize) {
    exchange.close("the upstream refused the handshake");
  }
  const type = (response.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  const stream = type === "text/event-stream" ? bodyStream(response) : null;
  if (response.ok && stream !== null) {
    const pending = new Set(checked.requestIds);
    deps.keepOpen(request);
    const body = relaySse(stream, {
      rewrite: (event) => fromServerEvent(deps, exchange, event, methods, pending, startedAt),
      finished: (outcome, error) => {
        if (pending.size === 0 || outcome === "complete") return undefined;
        const ids = [...pending];
        exchange.upstreamFailed(
          ids,
          outcome === "error" ? `the upstream stream broke: ${String(error)}` : "the client went away",
        );
        if (outcome !== "error") return undefined;
        deps.logger.warn(
          `upstream ${deps.config.upstream.origin} broke a response stream with ${ids.length} request(s) unanswered: ${String(error)}`,
        );
        deps.metrics.upstreamFailures.inc({ reason: "stream_broken" });
        return encodeUtf8(
          ids
            .map(
              (id) =>
                `event: message\ndata: ${JSON.stringify(wireError(id, SERVE_WIRE_ERROR.UPSTREAM_UNAVAILABLE, UPSTREAM_DOWN_TEXT))}\n\n`,
            )
            .join(""),
        );
      },
    });
    return new Response(local.length === 0 ? body : prependEvents(local, body), {
      status: response.status,
      headers: response.clientHeaders(true),
    });
  }
  if (response.ok && type === "application/json") {
    const bytes = await response.bytes();
    const out =
      fromServer(
        deps,
        exchange,
        bytes,
        classifyLine(bytes),
        methods,
        new Set(checked.requestIds),
        startedAt,
        undefined,
      ) ?? bytes;
    const merged = local.length === 0 ? out : mergeJson(out, local);
    return new Response(merged, { status: response.status, headers: response.clientHeaders(true) });
  }
  // Any other answer (401 for an expired token, 404 for a session the upstream forgot...) passes
  // unchanged; the requests it carried will get no JSON-RPC answer, so their calls end here.
  for (const method of methods.values())
    deps.metrics.operationDuration.observe(
      { mcp_method_name: method, error_type: String(response.status) },
      (deps.now() - startedAt) / 1000,
    );
  if (checked.requestIds.length > 0 && !initialize)
    exchange.upstreamFailed(
      checked.requestIds,
      `the upstream answered HTTP ${response.status} without a JSON-RPC answer`,
      `upstream_http_${response.status}`,
    );
  return new Response(response.body, {
    status: response.status,
    headers: response.clientHeaders(true),
  });
}

function safeFromClient(exchange: SessionExchange, checked: Checked, context: RequestContext) {
  try {
    return exchange.fromClient(checked.body, checked.line, context);
  } catch {
    return { forward: checked.body, answers: [] }; // fail-open: telemetry never breaks the pipe
  }
}

function prependEvents(messages: readonly unknown[], body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const head = encodeUtf8(messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join(""));
  const reader = body.getReader();
  let sentHead = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function mergeJson(upstream: Uint8Array, local: readonly unknown[]): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(upstream));
  } catch {
    parsed = undefined;
  }
  const fromUpstream = Array.isArray(parsed) ? parsed : parsed === undefined ? [] : [parsed];
  return JSON.stringify([...fromUpstream, ...local]);
}

function jsonResponse(value: unknown, status: number): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", via: "1.1 baton-proxy" },
  });
}

function encode(value: JsonObject | readonly unknown[]): Uint8Array {
  return encodeUtf8(JSON.stringify(value));
}
