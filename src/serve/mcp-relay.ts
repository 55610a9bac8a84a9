// What the MCP route's handlers share: their dependencies, the upstream URL, and how an upstream answer is observed, rewritten or failed.

import type { Logger } from "../log.ts";
import type { Classified, JsonRpcId, Message, WireId } from "../wire/jsonrpc.ts";
import { classifyLine, classifyText, decodeUtf8, encodeUtf8, isObject, scannedFacts } from "../wire/jsonrpc.ts";
import { FACT } from "../wire/line-facts.ts";
import { upstreamDown } from "./answers.ts";
import { withCorsFields } from "./cors-echo.ts";
import type { SessionExchange } from "./exchange.ts";
import type { CallerPrincipal } from "./principal.ts";
import type { ServeConfig } from "./serve-args.ts";
import type { ServeMetrics } from "./serve-metrics.ts";
import { joinQuery } from "./passthrough.ts";
import type { OwedAnswers } from "./owed-answers.ts";
import type { SessionTable } from "./session-table.ts";
import type { StreamRegistry } from "./stream-registry.ts";
import type { UpstreamDownLog } from "./upstream-down-log.ts";
import { renderSseEvent, type SseEvent } from "../wire/sse.ts";
import { UpstreamUnreachable } from "./upstream-client.ts";
import { observesServerMethod } from "../proxy/server-message.ts";
import { outcomeOfLongLine } from "../proxy/long-lines.ts";
import { scanMethod } from "../wire/line-scan.ts";
import { CALLER_FAULT_CODES } from "../telemetry/otlp/span-outcome.ts";

export const SESSION_HEADER = "mcp-session-id";
/** The modern era's server→client stream (a POST answered by an SSE stream that stays open), successor of the GET stream. */
export const LISTEN_METHOD = "subscriptions/listen";
/** How a call ends when its client went away before the answer: the report's "cancelled by the client", not the upstream's fault. */
export const CLIENT_GONE = "cancelled";

export interface McpRouteDeps {
  readonly config: ServeConfig;
  readonly sessions: SessionTable;
  readonly metrics: ServeMetrics;
  readonly logger: Logger;
  /** 502s for an unreachable upstream, logged without flooding (shared with the passthrough). */
  readonly downLog: UpstreamDownLog;
  readonly streams: StreamRegistry;
  /** POSTs' SSE answers still streaming: at the drain's deadline each ends with an error for every request it has not answered. */
  readonly answers: StreamRegistry;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly isDraining: () => boolean;
  /** The caller's principal from the request headers (signal's derivation); undefined when unknown. */
  readonly principalOf: (headers: Headers) => CallerPrincipal | undefined;
  /** Exempts a long-lived response (an SSE stream), or a client waiting for the upstream, from the connection idle timeout. */
  readonly keepOpen: (request: Request) => void;
  /** Ends that exemption (a quick answer leaves it on the kept-alive connection otherwise). */
  readonly restoreIdle: (request: Request) => void;
}

/**
 * A refusal the proxy gives on the MCP path, with the CORS fields the upstream gave the session the
 * request names when they allow its Origin: a browser client reads why it was refused. A request
 * naming no session, or one unknown here, has no upstream answer to go by and gets none.
 */
export function refusalForSession(response: Response, request: Request, sessions: SessionTable): Response {
  const sessionId = request.headers.get(SESSION_HEADER);
  const cors = sessionId === null ? undefined : sessions.corsOf(sessionId);
  return withCorsFields(response, cors, request.headers.get("origin"));
}

/**
 * Runs one upstream message through the exchange; returns replacement bytes (SSE-framed when
 * `event` is given) or undefined. `raw` is the message's JSON text (for an SSE event, its `data`):
 * the engine reads rewritten answers from it (numbers as the server wrote them) and hands back
 * this same array when nothing changes.
 */
export function fromServer(
  deps: McpRouteDeps,
  exchange: SessionExchange,
  raw: Uint8Array,
  line: Classified,
  methods: ReadonlyMap<JsonRpcId, string>,
  pending: Pick<OwedAnswers, "answer">,
  startedAt: number,
  event: { id?: string | undefined; event?: string | undefined; retry?: string | undefined } | undefined,
): Uint8Array | undefined {
  const answered =
    line.kind === "message"
      ? [line.message]
      : line.kind === "batch"
        ? line.members.filter((m): m is Message => m !== undefined)
        : [];
  let replaced: Uint8Array | undefined;
  try {
    replaced = exchange.fromServer(raw, line);
  } catch (error) {
    deps.logger.warn(`could not inspect an upstream message (forwarded unchanged): ${String(error)}`);
  }
  // After the exchange: its fast path needs the message unparsed (see observeUpstreamAnswer).
  for (const message of answered) {
    if (message.kind !== "response" || message.id === null || !pending.answer(message.id, message.idText)) continue;
    observeUpstreamAnswer(deps, methods, message, raw, startedAt);
  }
  if (replaced === undefined || event === undefined) return replaced;
  return encodeUtf8(renderSseEvent({ ...event, data: decodeUtf8(replaced) }));
}

/**
 * An upstream answer's metrics, read from the scan of its bytes when it has one and no JSON-RPC
 * error (whose code a label needs): reading `value` parses the whole body, which the engine's fast
 * path for plain tool calls exists to avoid.
 */
function observeUpstreamAnswer(
  deps: McpRouteDeps,
  methods: ReadonlyMap<JsonRpcId, string>,
  message: Message,
  raw: Uint8Array,
  startedAt: number,
): void {
  const facts = scannedFacts(message, raw);
  if (facts === undefined || facts.hasError || (facts.flags & FACT.UNSURE) !== 0)
    return observeAnswer(deps, methods, message.value, startedAt);
  const method = methods.get(facts.id as JsonRpcId);
  if (method === undefined) return;
  const toolError = facts.resultIsObject && (facts.flags & FACT.IS_ERROR_TRUE) !== 0;
  recordOperation(deps, method, toolError ? "tool_error" : undefined, startedAt);
}

/** Only `message` events (an empty or absent type is one) carry JSON-RPC: clients skip the others, so their data answers nothing. */
export function isMessageEvent(event: SseEvent): boolean {
  return event.event === undefined || event.event === "" || event.event === "message";
}

/**
 * {@link fromServer} for one SSE event (undefined for one without data). A request or notification
 * (a top-level `method` the cheap scan reads) is looked at no further when the engine does not read
 * its kind (log notifications, the server's requests), else parsed from its text (progress, which
 * keeps its call tracked: small)
 * (cheaper than the validating scan for those); anything else, an answer above all, is scanned from
 * its bytes like a JSON body, so a plain tool call's answer stays on the engine's unparsed fast path.
 */
export function fromServerEvent(
  deps: McpRouteDeps,
  exchange: SessionExchange,
  event: SseEvent,
  methods: ReadonlyMap<JsonRpcId, string>,
  pending: Pick<OwedAnswers, "answer">,
  startedAt: number,
): Uint8Array | undefined {
  const data = event.dataBytes;
  if (data === undefined) return undefined;
  if (!isMessageEvent(event)) return undefined;
  const method = scanMethod(data);
  if (method !== undefined && !observesServerMethod(method)) return undefined;
  const line = method !== undefined ? classifyText(event.data as string) : classifyLine(data);
  return fromServer(deps, exchange, data, line, methods, pending, startedAt, event);
}

/**
 * An answer over the inspection cap, counted from its edges (what the engine closes its call from):
 * `id` the request it answers, its outcome read as the engine reads it.
 */
export function observeLongAnswer(
  deps: McpRouteDeps,
  methods: ReadonlyMap<JsonRpcId, string>,
  id: JsonRpcId,
  edges: { readonly head: string; readonly tail: string },
  startedAt: number,
): void {
  const method = methods.get(id);
  if (method === undefined) return;
  const outcome = outcomeOfLongLine(edges.head, edges.tail);
  if (outcome === undefined || outcome === "tool_error") return recordOperation(deps, method, outcome, startedAt);
  // `jsonrpc_<code>`, or `jsonrpc_invalid` when its code could not be read (counted as `_OTHER`).
  const code = /^jsonrpc_(-?\d+)$/.exec(outcome)?.[1];
  recordOperation(deps, method, "error", startedAt, code);
}

export function observeAnswer(
  deps: McpRouteDeps,
  methods: ReadonlyMap<JsonRpcId, string>,
  answer: unknown,
  startedAt: number,
): void {
  if (!isObject(answer)) return;
  const method = methods.get(answer.id as JsonRpcId);
  if (method === undefined) return;
  if (isObject(answer.error)) {
    // Only an integer is a JSON-RPC code; anything else (an upstream's own string) would be a label of any length.
    const code = Number.isSafeInteger(answer.error.code) ? String(answer.error.code) : undefined;
    return recordOperation(deps, method, "error", startedAt, code);
  }
  const toolError = isObject(answer.result) && answer.result.isError === true;
  recordOperation(deps, method, toolError ? "tool_error" : undefined, startedAt);
}

/**
 * One answered request: `error` is `tool_error`, `error` (a JSON-RPC error, with its integer `code`
 * when it has one; `_OTHER` otherwise) or undefined. The histogram follows the conventions' server side: `rpc_response_status_code` for
 * every error code, `error_type` only when the operation failed, and the caller's own mistakes
 * (-32700, -32600, -32601, -32602, -32002) are not failures of the server.
 */
function recordOperation(
  deps: McpRouteDeps,
  method: string,
  error: "tool_error" | "error" | undefined,
  startedAt: number,
  code?: string,
): void {
  const labels: Record<string, string> = { mcp_method_name: method };
  if (error === "tool_error") labels.error_type = error;
  else if (error === "error" && code === undefined) labels.error_type = "_OTHER";
  else if (code !== undefined) {
    if (!CALLER_FAULT_CODES.has(Number(code))) labels.error_type = code;
    labels.rpc_response_status_code = code;
  }
  deps.metrics.operationDuration.observe(labels, (deps.now() - startedAt) / 1000);
  if (method === "tools/call") deps.metrics.toolCalls.inc({ outcome: error ?? "ok" });
}

/** The answer to a POST the upstream gave no HTTP answer to: its calls end, and (502) each gets an error with its id as `written`. */
export function upstreamFailed(
  error: unknown,
  deps: McpRouteDeps,
  exchange: SessionExchange | undefined,
  ids: readonly JsonRpcId[],
  methods: ReadonlyMap<JsonRpcId, string>,
  startedAt: number,
  written: readonly WireId[] = ids,
): Response {
  if (!(error instanceof UpstreamUnreachable)) {
    // The client went away while we waited: nobody to answer.
    exchange?.upstreamFailed(ids, "the client went away", CLIENT_GONE);
    return new Response(null, { status: 499 });
  }
  deps.downLog.failed(error.message, "answered 502");
  deps.metrics.upstreamFailures.inc({ reason: error.kind });
  exchange?.upstreamFailed(ids, error.message);
  observeUnanswered(deps, methods.values(), startedAt);
  return upstreamDown(exchange === undefined ? undefined : written);
}

/**
 * Requests the proxy ended itself without the upstream's answer: by default those the upstream never
 * answered (no HTTP answer, or a stream that broke first), answered with its -32001 error; `errorType`
 * is the error type their events carry otherwise (`proxy_shutdown` for those the drain ends), and
 * `outcome` a tool call's among the tool calls (the error type itself unless said).
 */
export function observeUnanswered(
  deps: McpRouteDeps,
  methods: Iterable<string>,
  startedAt: number,
  errorType = "upstream_unreachable",
  outcome = errorType,
): void {
  for (const method of methods) {
    deps.metrics.operationDuration.observe(
      { mcp_method_name: method, error_type: errorType },
      (deps.now() - startedAt) / 1000,
    );
    if (method === "tools/call") deps.metrics.toolCalls.inc({ outcome });
  }
}

/**
 * A 404 to a request naming a session is the spec's "no such session" (it ended upstream, or the
 * id was made up): its engine here is forgotten with it, unless other requests of it are in
 * flight. Otherwise every made-up id would hold an engine until the idle bound.
 */
export function forgetUnknownSession(
  deps: McpRouteDeps,
  sessionId: string | null,
  status: number,
  otherRequests: number,
): void {
  if (status === 404 && sessionId !== null && otherRequests === 0)
    deps.sessions.end(sessionId, "the upstream does not know the session");
}

/** The MCP path maps to the upstream URL: its query string is kept, the client's (as sent, less a fragment) appended. */
export function upstreamUrl(config: ServeConfig, request: Request): URL {
  const query = request.url.indexOf("?");
  if (query === -1) return config.upstream; // fetch only reads it
  // Bun takes a fragment in the request target; it is no part of the query (the `search` setter would keep it as `%23…`).
  const fragment = request.url.indexOf("#", query);
  const url = new URL(config.upstream);
  url.search = joinQuery(config.upstream.search, request.url.slice(query, fragment === -1 ? undefined : fragment));
  return url;
}
