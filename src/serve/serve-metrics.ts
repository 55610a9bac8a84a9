// The metric families `serve` exports on /metrics, named after the OpenTelemetry MCP and HTTP conventions. No I/O.

import {
  DURATION_BUCKETS_SECONDS,
  MetricsRegistry,
  SESSION_BUCKETS_SECONDS,
  type Counter,
  type Histogram,
} from "./metrics.ts";

/** Live numbers read when /metrics is rendered. */
export interface ServeGauges {
  sessionsOpen(): number;
  draining(): boolean;
  /** Per sink label: events delivered and events dropped so far. */
  eventsBySink(): readonly { readonly sink: string; readonly emitted: number; readonly dropped: number }[];
}

export interface ServeMetrics {
  readonly registry: MetricsRegistry;
  /** Every HTTP request the proxy answered, by route (`mcp`, `passthrough`), HTTP method and status. */
  readonly httpRequests: Counter;
  /** `mcp.server.operation.duration`: every JSON-RPC request the proxy answers or forwards, by method (error type when it failed, the JSON-RPC error code when there was one). */
  readonly operationDuration: Histogram;
  /** `mcp.server.session.duration`: MCP sessions that ended (DELETE, idle expiry, shutdown). */
  readonly sessionDuration: Histogram;
  /** Idle sessions forgotten to stay within --max-sessions. */
  readonly sessionsEvicted: Counter;
  /** Tool calls by outcome (`ok`, `tool_error`, `error`, `upstream_unreachable`, …). */
  readonly toolCalls: Counter;
  /** Consent tokens treated as absent, by reason (`malformed`, `placeholder`). */
  readonly consentRejected: Counter;
  /** Requests refused before reaching the upstream, by reason (`origin`, `body_too_large`, `content_type`, `malformed_json`, `body_timeout`, `draining`, ...). */
  readonly refused: Counter;
  /** Upstream requests that failed without an HTTP answer, by reason. */
  readonly upstreamFailures: Counter;
}

/**
 * The request methods of the MCP spec (2025-03-26 … 2026-07-28): the values `mcp_method_name`
 * takes. Any other name counts as `_OTHER` (as OTel does for HTTP methods): the name comes from
 * the client, and one series per invented name would grow /metrics and memory without bound.
 */
export const MCP_REQUEST_METHODS: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "subscriptions/listen",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/list",
  "tasks/result",
  "tasks/cancel",
  "tasks/update",
]);

/**
 * Distinct JSON-RPC error codes outside the reserved range labelled (`rpc_response_status_code`, and
 * `error_type` when it is the code) before further ones count as `_OTHER`: the codes are the upstream's
 * to choose, any integer, and one series per code would let an upstream answering random codes grow
 * /metrics without bound. Codes in the range JSON-RPC reserves (−32768…−32000, the MCP ones among
 * them) are always labelled: there are few of them.
 */
export const MAX_ERROR_CODES = 64;

function isReservedCode(code: string): boolean {
  const value = Number(code);
  return value >= -32768 && value <= -32000;
}

/** Registers every family in a new registry. */
export function createServeMetrics(gauges: ServeGauges): ServeMetrics {
  const registry = new MetricsRegistry();
  const codes = new Set<string>();
  const operations = registry.histogram(
    "mcp_server_operation_duration_seconds",
    "Duration of MCP requests the proxy answered or forwarded (OTel mcp.server.operation.duration), by mcp_method_name, error_type (failures only) and rpc_response_status_code.",
    DURATION_BUCKETS_SECONDS,
  );
  const metrics: ServeMetrics = {
    registry,
    httpRequests: registry.counter(
      "baton_http_server_requests_total",
      "HTTP requests answered by the proxy, by route, method and status code.",
    ),
    operationDuration: {
      observe: (labels, value) => {
        const method = labels.mcp_method_name;
        let bounded =
          method === undefined || MCP_REQUEST_METHODS.has(method) ? labels : { ...labels, mcp_method_name: "_OTHER" };
        const code = labels.rpc_response_status_code;
        if (code !== undefined && !isReservedCode(code) && !codes.has(code)) {
          if (codes.size < MAX_ERROR_CODES) codes.add(code);
          else
            bounded = {
              ...bounded,
              rpc_response_status_code: "_OTHER",
              ...(labels.error_type === code ? { error_type: "_OTHER" } : {}),
            };
        }
        operations.observe(bounded, value);
      },
    },
    sessionDuration: registry.histogram(
      "mcp_server_session_duration_seconds",
      "Lifetime of MCP sessions that ended (OTel mcp.server.session.duration).",
      SESSION_BUCKETS_SECONDS,
    ),
    sessionsEvicted: registry.counter(
      "baton_sessions_evicted_total",
      "Idle MCP sessions forgotten to stay within --max-sessions (least recently used first).",
    ),
    toolCalls: registry.counter("baton_tool_calls_total", "tools/call requests by outcome."),
    consentRejected: registry.counter(
      "baton_consent_tokens_rejected_total",
      "Per-request consent tokens treated as absent, by reason (malformed, placeholder).",
    ),
    refused: registry.counter(
      "baton_http_requests_refused_total",
      "Requests answered by the proxy without reaching the upstream, by reason.",
    ),
    upstreamFailures: registry.counter(
      "baton_upstream_failures_total",
      "Upstream requests that got no HTTP answer, by reason.",
    ),
  };
  registry.collected("baton_sessions_open", "MCP sessions the proxy currently tracks.", "gauge", () => [
    [{}, gauges.sessionsOpen()],
  ]);
  registry.collected("baton_draining", "1 while the proxy drains after SIGTERM.", "gauge", () => [
    [{}, gauges.draining() ? 1 : 0],
  ]);
  registry.collected("baton_events_emitted_total", "Events handed to each sink.", "counter", () =>
    gauges.eventsBySink().map((s) => [{ sink: s.sink }, s.emitted] as const),
  );
  registry.collected(
    "baton_events_dropped_total",
    "Events a sink lost (queue full, failed or timed-out export).",
    "counter",
    () => gauges.eventsBySink().map((s) => [{ sink: s.sink }, s.dropped] as const),
  );
  return metrics;
}
