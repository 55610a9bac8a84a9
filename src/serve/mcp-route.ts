// The MCP endpoint (POST, GET, DELETE): checks the request, routes it to its session's exchange, forwards it, and relays the answer.

import {
  classifyLine,
  decodeUtf8,
  isObject,
  scannedFacts,
  wireError,
  type JsonObject,
  type Message,
} from "../wire/jsonrpc.ts";
import { FACT } from "../wire/line-facts.ts";
import { withoutBom } from "../wire/utf8.ts";
import { refuse, slowBody } from "./answers.ts";
import {
  judgeConsent,
  mayCarryMetaToken,
  metaConsentToken,
  stripConsentMeta,
  CONSENT_HEADER,
  CONSENT_META_KEY,
} from "./consent.ts";
import { withoutMetaMember } from "./consent-bytes.ts";
import { requestTraceOf, type RequestContext } from "./exchange.ts";
import type { ClientHop } from "./forward-headers.ts";
import {
  forgetUnknownSession,
  LISTEN_METHOD,
  refusalForSession,
  SESSION_HEADER,
  type McpRouteDeps,
} from "./mcp-relay.ts";
import { exchangePost, type Checked } from "./mcp-post-exchange.ts";
import { handleStreamOrDelete } from "./mcp-stream.ts";
import { jsonResponse } from "./local-answers.ts";
import { ownToolHeaderProblem } from "./own-tool-headers.ts";
import { readBoundedBody } from "./request-body.ts";
import { callsOwnToolOnSession, probeSession } from "./session-probe.ts";
import { countUnanswered } from "./unanswered-requests.ts";
import { decodeRequestBody, type DecodeResult } from "./request-coding.ts";
import { statelessKey, type SessionEntry, type SessionTable } from "./session-table.ts";

export type { McpRouteDeps } from "./mcp-relay.ts";

const MODERN_CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo";
// OPTIONS too: CORS preflights on this path are passed to the upstream (serve-server.ts).
const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";

export async function handleMcp(request: Request, hop: ClientHop, deps: McpRouteDeps): Promise<Response> {
  switch (request.method) {
    case "POST":
      return handlePost(request, hop, deps);
    case "GET":
    case "DELETE":
      return handleStreamOrDelete(request, hop, deps);
    default:
      deps.metrics.refused.inc({ reason: "method" });
      return refusalForSession(
        refuse("method", `${request.method} is not an MCP method on this endpoint (use GET, POST or DELETE)`, {
          mcp: true,
          allow: ALLOWED_METHODS,
        }),
        request,
        deps.sessions,
      );
  }
}

async function handlePost(request: Request, hop: ClientHop, deps: McpRouteDeps): Promise<Response> {
  const checked = await checkPost(request, deps);
  if (checked instanceof Response) return refusalForSession(checked, request, deps.sessions);
  const { messages } = checked;
  const initialize = messages.find((m) => m.kind === "request" && m.method === "initialize");
  if (initialize !== undefined && deps.isDraining()) {
    deps.metrics.refused.inc({ reason: "draining" });
    return refusalForSession(
      refuse("draining", "the proxy is shutting down and opens no new sessions; reconnect to another replica", {
        mcp: true,
      }),
      request,
      deps.sessions,
    );
  }
  if (deps.isDraining() && messages.some((m) => m.kind === "request" && m.method === LISTEN_METHOD)) {
    deps.metrics.refused.inc({ reason: "draining" });
    return refusalForSession(
      refuse("draining", "the proxy is shutting down and opens no new streams", { mcp: true }),
      request,
      deps.sessions,
    );
  }
  // A call of our own tool is answered here: the header checks the upstream makes on every other call are ours to make.
  const headerProblem = ownToolHeaderProblem(request.headers, messages);
  if (headerProblem !== undefined) {
    deps.metrics.refused.inc({ reason: "header_mismatch" });
    const { id, code, text } = headerProblem;
    return refusalForSession(jsonResponse(wireError(id, code, text), 400), request, deps.sessions);
  }
  const consent = readConsent(request, checked, deps);
  const context: RequestContext = {
    remoteAddress: hop.remoteAddress,
    consentToken: consent.token,
    principal: deps.principalOf(request.headers),
    trace: requestTraceOf(request.headers),
  };
  const sessionId = request.headers.get(SESSION_HEADER);
  const entry = pickSession(sessionId, initialize !== undefined, messages, consent.body, context, deps.sessions);
  if (entry.confirmed !== true && initialize === undefined && callsOwnToolOnSession(messages)) {
    // Answered here, a call of our own tool would otherwise be recorded on a session the upstream refuses every other call of.
    const probed = await probeSession(request, hop, deps);
    if (probed !== undefined && !(probed instanceof Response)) {
      entry.confirmed = true;
      entry.cors = probed.cors ?? entry.cors;
    } else if (probed !== undefined) {
      const methods = new Map(messages.flatMap((m) => (m.kind === "request" ? [[m.id, m.method] as const] : [])));
      countUnanswered(deps, methods, checked.requestIds, probed.status, deps.now());
      forgetUnknownSession(deps, sessionId, probed.status, entry.active);
      return probed;
    }
  }
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
    // Its answer going out is use: a call that outlasted --session-idle-ms must not leave the session to the next sweep.
    entry.lastUsedAt = deps.now();
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
  const read = await readBoundedBody(request, deps.config.maxBodyBytes, deps.config.bodyTimeoutMs);
  if (read.kind === "too_slow") {
    deps.metrics.refused.inc({ reason: "body_timeout" });
    return slowBody(deps.config.bodyTimeoutMs, true);
  }
  if (read.kind === "too_large") {
    deps.metrics.refused.inc({ reason: "body_too_large" });
    return refuse(
      "body_too_large",
      `the request body is larger than ${deps.config.maxBodyBytes} bytes (--max-body-bytes)`,
      { mcp: true, close: !read.drained },
    );
  }
  const coding = request.headers.get("content-encoding");
  const decoded = coding === null ? undefined : decodeRequestBody(read.bytes, coding, deps.config.maxBodyBytes);
  if (decoded !== undefined && decoded.kind !== "ok") return refuseCoding(decoded, deps);
  // A leading byte order mark is read past, as SDK servers' JSON readers do (RFC 8259 §8.1), and not forwarded.
  const bytes = withoutBom(decoded === undefined ? read.bytes : decoded.bytes);
  const line = classifyLine(bytes);
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
  // A decoded body (or one read past its mark) is forwarded as read here (the exchange may rewrite it), so without its Content-Encoding (`identity` keeps its bytes and header).
  return { body: bytes, line, messages, requestIds, decoded: bytes !== read.bytes };
}

/** A compressed body the proxy cannot read: the answers an upstream's body parser gives (RFC 9110 §15.5.16 for an unknown coding). */
function refuseCoding(decoded: Exclude<DecodeResult, { kind: "ok" }>, deps: McpRouteDeps): Response {
  const reason =
    decoded.kind === "unsupported"
      ? "content_type"
      : decoded.kind === "too_large"
        ? "body_too_large"
        : "malformed_json";
  deps.metrics.refused.inc({ reason });
  const text =
    decoded.kind === "unsupported"
      ? `Content-Encoding ${JSON.stringify(decoded.coding.slice(0, 80))} is not supported (use gzip, deflate, br, zstd or none)`
      : decoded.kind === "too_large"
        ? `the decoded request body is larger than ${deps.config.maxBodyBytes} bytes (--max-body-bytes)`
        : "the body is not valid JSON (its Content-Encoding could not be decoded)";
  return refuse(reason, text, { mcp: true });
}

/**
 * Reads (and strips) the consent token in per-request mode; the body changes only when `_meta` carried one.
 * Static mode ignores a request's own token but strips it all the same: like the header, it is the caller's credential.
 */
function readConsent(
  request: Request,
  checked: Checked,
  deps: McpRouteDeps,
): { token: string | undefined; body: Uint8Array } {
  const baton = deps.config.baton;
  // Most bodies cannot hold the `_meta` key: they stay unparsed (the engine's fast path reads their bytes).
  const inMeta = mayCarryMetaToken(checked.body);
  if (baton.consentMode !== "per-request")
    return { token: baton.consentToken, body: withoutMetaToken(checked, inMeta) };
  const verdict = judgeConsent(
    request.headers.get(CONSENT_HEADER),
    inMeta ? batchMetaToken(checked.messages) : undefined,
    !baton.allSinksLocal,
  );
  if (verdict.kind === "rejected") deps.metrics.consentRejected.inc({ reason: verdict.reason });
  return { token: verdict.kind === "token" ? verdict.token : undefined, body: withoutMetaToken(checked, inMeta) };
}

/** The body without any `_meta` consent key, cut from the bytes, not re-serialised: everything else reaches the upstream as the client wrote it. */
function withoutMetaToken(checked: Checked, inMeta: boolean): Uint8Array {
  let stripped = false;
  if (inMeta) for (const message of checked.messages) if (stripConsentMeta(message.value)) stripped = true;
  return stripped ? withoutMetaMember(checked.body, CONSENT_META_KEY) : checked.body;
}

/**
 * The `_meta` token of a POST's messages. A `_meta` token is its own message's: a batch's stands
 * for the whole POST (whose events share one context) only when every request and notification in
 * it carries the same one, else some would be recorded without consent or under another's token.
 */
function batchMetaToken(messages: readonly Message[]): unknown {
  const tokens = messages.flatMap((m) =>
    m.kind === "request" || m.kind === "notification" ? [metaConsentToken(m.value)] : [],
  );
  return tokens.every((token) => token === tokens[0]) ? tokens[0] : undefined;
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
