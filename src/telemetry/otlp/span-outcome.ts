// How a call's outcome (an event's error_type) maps to error.type, rpc.response.status_code and span status, per the MCP semconv's client/server rules. Pure.

import { codePointCut } from "../scrub-walk.ts";

/** OTLP status codes (same numbers as the OpenTelemetry API's SpanStatusCode). */
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;

/** JSON-RPC codes that are the caller's fault: not an error on the SERVER side (MCP semconv, rpc.response.status_code). */
export const CALLER_FAULT_CODES = new Set([-32700, -32600, -32601, -32602, -32002]);

/**
 * The proxy's own error types, low-cardinality names kept as `error.type` (anything else is
 * `_OTHER`); `--url` adds its failures (and `http_<status>`), serve its `upstream_http_<status>`,
 * named as in the events: one failure gets one name in the events and the spans, in every mode.
 */
const KNOWN_ERROR_TYPES = new Set([
  "tool_error",
  "task_failed",
  "request_too_large",
  "upstream_exit",
  "proxy_shutdown",
  "evicted",
  "proxy_internal",
  "session_expired",
  "upstream_auth",
  "upstream_no_response",
  "upstream_protocol",
  "upstream_stream_lost",
  "upstream_timeout",
  "upstream_tls",
  "upstream_unreachable",
]);

/** Known error types whose host got an answer that is not the proxy's own -32603. */
const SERVER_ANSWERED = new Set(["tool_error", "task_failed", "evicted"]);

/** Longest status description we send (error bodies can be long; backends truncate anyway). */
export const MAX_STATUS_MESSAGE_CHARS = 1_024;

export interface SpanOutcome {
  /** On both spans: `rpc.response.status_code` when the answer carried a JSON-RPC error code. */
  readonly attributes: Record<string, string>;
  /** On the SERVER span only: the code the proxy itself answered the host with, when the server never answered. */
  readonly serverAttributes: Record<string, string>;
  /** `error.type`, set only on a span whose status is ERROR (the conventions: if and only if it failed). */
  readonly errorType: string;
  readonly server: { code: number; message?: string };
  readonly client: { code: number; message?: string };
}

/**
 * Maps a `tool_call_error` to span fields. `jsonrpc_<code>`: `error.type` and
 * `rpc.response.status_code` are the code as a string; ERROR on the CLIENT span always, on the
 * SERVER span unless the caller was at fault (that span then keeps the status code but no
 * `error.type`, which the conventions set only when the operation failed). `tool_error`: ERROR on both. `cancelled`: the host
 * gave up, so only the CLIENT span (the request we sent) failed. Proxy-side endings
 * (`upstream_exit`, `proxy_shutdown`, `evicted`, and `--url`'s `upstream_*`, `http_<status>`) fail both;
 * with `proxyAnswersInternal` (a stdio host, which the proxy answers -32603 for each of them but
 * `evicted`: proxy/pending.ts) the SERVER span also gets that code. serve answers its hosts in
 * several ways (HTTP 502, -32001, a stream closed for a retry), so it passes false.
 */
export function mapErrorOutcome(errorType: string, errorBody: string, proxyAnswersInternal = false): SpanOutcome {
  const message =
    errorBody.length > MAX_STATUS_MESSAGE_CHARS
      ? `${errorBody.slice(0, codePointCut(errorBody, MAX_STATUS_MESSAGE_CHARS - 1))}…`
      : errorBody;
  const error = { code: STATUS_ERROR, message };
  const rpc = /^jsonrpc_(-?\d+)$/.exec(errorType);
  if (rpc !== null) {
    const code = rpc[1] as string;
    const callerFault = CALLER_FAULT_CODES.has(Number(code));
    return {
      attributes: { "rpc.response.status_code": code },
      serverAttributes: {},
      errorType: code,
      server: callerFault ? { code: STATUS_UNSET } : error,
      client: error,
    };
  }
  if (errorType === "cancelled")
    return {
      attributes: {},
      serverAttributes: {},
      errorType: "cancelled",
      server: { code: STATUS_UNSET },
      client: error,
    };
  const known = KNOWN_ERROR_TYPES.has(errorType) || /^(upstream_)?http_\d{3}$/.test(errorType);
  // The server never answered these; the proxy answered the host itself (evicted: not yet, a late answer still
  // goes through; tool_error and task_failed are the server's own answers).
  const answered = proxyAnswersInternal && known && !SERVER_ANSWERED.has(errorType);
  const serverAttributes: Record<string, string> = answered ? { "rpc.response.status_code": "-32603" } : {};
  return { attributes: {}, serverAttributes, errorType: known ? errorType : "_OTHER", server: error, client: error };
}
