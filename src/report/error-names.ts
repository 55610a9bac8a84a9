// Human names for the proxy's error types (`jsonrpc_<code>`, `tool_error`, lifecycle outcomes) and error-body tidying. Pure; no Markdown.

/** Standard JSON-RPC 2.0 and MCP error codes, by number. */
const JSONRPC_NAMES = new Map<number, string>([
  [-32700, "Parse error"],
  [-32600, "Invalid request"],
  [-32601, "Method not found"],
  [-32602, "Invalid params"],
  [-32603, "Internal error"],
  [-32002, "Resource not found"],
  [-32042, "URL elicitation required"],
]);
/** JSON-RPC reserves this range for implementation-defined server errors. */
const SERVER_ERROR_MIN = -32099;
const SERVER_ERROR_MAX = -32000;

/** Error types the proxy itself produces, named for people. */
const LOCAL_NAMES = new Map<string, string>([
  ["tool_error", "tool error (isError)"],
  ["upstream_exit", "server exited"],
  ["proxy_shutdown", "proxy shut down"],
  ["cancelled", "cancelled by the client"],
  ["evicted", "no answer (stopped tracking)"],
  ["task_failed", "task failed"],
  ["jsonrpc_invalid", "invalid JSON-RPC answer (an error without a code, or no result or error)"],
  ["request_too_large", "request too large to send"],
  ["proxy_internal", "proxy failure"],
  // `--url` (and `serve`) failures reaching the server: the call never got to the tool.
  ["upstream_unreachable", "server unreachable"],
  ["upstream_tls", "TLS error reaching the server"],
  ["upstream_timeout", "server timed out"],
  ["upstream_auth", "not authorized by the server"],
  ["session_expired", "server session expired"],
  ["upstream_no_response", "no answer from the server"],
  ["upstream_stream_lost", "connection to the server lost"],
  ["upstream_protocol", "unreadable answer from the server"],
  // What the Python proxy (upstream 0.5.3) writes for its own failures: `report` reads its files too.
  ["proxy_upstream_unreachable", "server unreachable"],
  ["proxy_no_response", "no answer from the server"],
  ["proxy_upstream_closed", "server connection closed"],
  ["proxy_pending_evicted", "no answer (stopped tracking)"],
]);

/** The Python proxy's `--url` failures: like ours, no MCP answer came from the server. */
const PYTHON_CONNECTION_FAILURES = new Set(["proxy_upstream_unreachable", "proxy_no_response"]);
/**
 * Connection failures of a call the server never took in: not connected, TLS, refused by its
 * authorization or for an unknown session. Every other connection failure (a timeout, a lost
 * stream, an HTTP error status, an answer that is not MCP) came after the server had the call,
 * so its tool may have run.
 */
const NEVER_DELIVERED = new Set([
  "upstream_unreachable",
  "upstream_tls",
  "upstream_auth",
  "session_expired",
  "proxy_upstream_unreachable",
]);

/** How the proxy's body of a `cancelled` call starts when the client gave a reason (proxy/client-message.ts). */
const CANCELLED_PREFIX = `${LOCAL_NAMES.get("cancelled")}: `;

/**
 * `--url`'s `http_<status>` and `serve`'s `upstream_http_<status>`: the server's HTTP answer was an
 * error status (or carried no answer), not an MCP message. One failure, one name in both modes.
 */
const HTTP_STATUS_TYPE = /^(?:upstream_)?http_(\d{3})$/;

/**
 * True for error types that say the call failed between the proxy and a remote server (`--url`,
 * `serve`): unreachable, TLS, timeout, auth, lost stream, an HTTP error status. No tool returned
 * such an error, so the report does not leave it to read as one (isNeverDelivered: nor did one run).
 */
export function isConnectionFailure(errorType: string): boolean {
  return (
    (LOCAL_NAMES.has(errorType) && errorType.startsWith("upstream_") && errorType !== "upstream_exit") ||
    errorType === "session_expired" ||
    PYTHON_CONNECTION_FAILURES.has(errorType) ||
    HTTP_STATUS_TYPE.test(errorType)
  );
}

/** What the proxy records for a call no MCP answer of the server failed, yet that the server did fail (or may have). */
const ANSWERED_LOCAL = new Set(["tool_error", "task_failed", "jsonrpc_invalid"]);

/**
 * True for an error the server answered with: a JSON-RPC error, an `isError` result, a failed task
 * (and types the proxy does not know: a newer producer's, a Python proxy's code). False for what
 * the client (`cancelled`), the proxy (`proxy_shutdown`, `evicted`, …), the server's process
 * (`upstream_exit`) or the connection to it did: no tool returned those.
 */
export function isServerAnswer(errorType: string): boolean {
  return ANSWERED_LOCAL.has(errorType) || (!LOCAL_NAMES.has(errorType) && !isConnectionFailure(errorType));
}

/** True for the connection failures (see isConnectionFailure) of a call the server never took in, so no tool ran. */
export function isNeverDelivered(errorType: string): boolean {
  return NEVER_DELIVERED.has(errorType);
}

/** The JSON-RPC code of a `jsonrpc_<code>` error type (or the Python proxy's bare `<code>`), or null for any other type. */
export function jsonRpcCode(errorType: string): number | null {
  const match = /^(?:jsonrpc_)?(-?\d{1,9})$/.exec(errorType);
  return match === null ? null : Number(match[1]);
}

/**
 * A short human name for an error type: `jsonrpc_-32602` → "JSON-RPC error -32602 (Invalid params)",
 * `tool_error` → "tool error (isError)", `upstream_exit` → "server exited", …; null for a type it
 * does not know (the caller shows the raw type). Plain text with no Markdown-special characters.
 */
export function describeErrorType(errorType: string): string | null {
  const code = jsonRpcCode(errorType);
  const status = HTTP_STATUS_TYPE.exec(errorType)?.[1];
  if (status !== undefined) return `HTTP ${status} from the server`;
  if (code === null) return LOCAL_NAMES.get(errorType) ?? null;
  const name =
    JSONRPC_NAMES.get(code) ?? (code >= SERVER_ERROR_MIN && code <= SERVER_ERROR_MAX ? "Server error" : null);
  return name === null ? `JSON-RPC error ${code}` : `JSON-RPC error ${code} (${name})`;
}

/**
 * The error body without leading "MCP error <code>: " prefixes (the TypeScript SDK adds one per hop)
 * when they repeat the error type's own code, or a cancelled call's "cancelled by the client: "; any
 * other body is returned unchanged.
 */
export function stripCodePrefix(errorType: string, body: string): string {
  // The proxy's own "cancelled by the client: <reason>" would repeat the type's name beside it.
  if (errorType === "cancelled" && body.startsWith(CANCELLED_PREFIX) && body.length > CANCELLED_PREFIX.length)
    return body.slice(CANCELLED_PREFIX.length);
  const code = jsonRpcCode(errorType);
  if (code === null) return body;
  const prefix = `MCP error ${code}: `;
  let rest = body;
  while (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  return rest.trim() === "" ? body : rest;
}
