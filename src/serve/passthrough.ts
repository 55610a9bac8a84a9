// Forwards a non-MCP request (OAuth discovery, /authorize, /token, /register, health pages) to the same path on the upstream's origin, byte for byte.

import type { Logger } from "../log.ts";
import { badTarget, refuse, slowBody, upstreamDown } from "./answers.ts";
import { withoutConsentMetaToken } from "./consent-bytes.ts";
import type { ClientHop } from "./forward-headers.ts";
import { readBoundedBody } from "./request-body.ts";
import { requestUrl } from "./request-url.ts";
import type { ServeMetrics } from "./serve-metrics.ts";
import { fetchUpstream, UpstreamUnreachable, type UpstreamAnswer } from "./upstream-client.ts";
import type { UpstreamDownLog } from "./upstream-down-log.ts";

export interface PassthroughDeps {
  readonly upstream: URL;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly metrics: ServeMetrics;
  readonly logger: Logger;
  /** 502s for an unreachable upstream, logged without flooding (shared with the MCP route). */
  readonly downLog: UpstreamDownLog;
  /** The upstream path to use instead of the request's own (the MCP path maps to the upstream URL's path, and its query comes first). */
  readonly path?: string;
  /** The path is one of the MCP path's near spellings (mayReachMcpPath): a `_meta` consent token is cut from the body. */
  readonly cutConsentMeta?: boolean;
  /** See ServeConfig.upstreamViaFetch. */
  readonly viaFetch: boolean;
  /** While the upstream works the client is silent by right: the connection idle timeout is off until the answer (McpRouteDeps). */
  readonly keepOpen: (request: Request) => void;
  readonly restoreIdle: (request: Request) => void;
}

/**
 * Nothing is parsed or rewritten: status, body bytes (still compressed if they were), redirects
 * (not followed), WWW-Authenticate and every end-to-end header reach the client as the
 * upstream sent them; only hop-by-hop fields change and Via/X-Forwarded-* are added.
 */
export async function passThrough(request: Request, hop: ClientHop, deps: PassthroughDeps): Promise<Response> {
  const incoming = requestUrl(request.url);
  if (incoming === undefined) return badTarget();
  const search = deps.path === undefined ? incoming.search : joinQuery(deps.upstream.search, incoming.search);
  // The path is set on the upstream's origin, never resolved against it: a path like `//host/x`
  // or `/\host/x` read as a relative reference names another authority (an open proxy to any host).
  const target = new URL(deps.upstream.origin);
  target.pathname = deps.path ?? incoming.pathname;
  target.search = search;
  let body: Uint8Array | undefined;
  if (request.method !== "GET" && request.method !== "HEAD" && request.body !== null) {
    const read = await readBoundedBody(request, deps.maxBodyBytes, deps.bodyTimeoutMs);
    if (read.kind === "too_slow") {
      deps.metrics.refused.inc({ reason: "body_timeout" });
      return slowBody(deps.bodyTimeoutMs, false);
    }
    if (read.kind === "too_large") {
      deps.metrics.refused.inc({ reason: "body_too_large" });
      return refuse("body_too_large", `the request body is larger than ${deps.maxBodyBytes} bytes (--max-body-bytes)`, {
        mcp: false,
        close: !read.drained,
      });
    }
    body = deps.cutConsentMeta === true ? withoutConsentMetaToken(read.bytes) : read.bytes;
  } else if (request.method !== "GET" && request.method !== "HEAD" && request.headers.get("content-length") === "0") {
    // Bun hands an empty body over as none: sent as none, a POST would lose the `Content-Length: 0` the
    // client wrote (RFC 9110 §8.6 asks for it; some servers answer 411 without it).
    body = new Uint8Array(0);
  }
  let response: UpstreamAnswer;
  deps.keepOpen(request);
  try {
    response = await fetchUpstream({
      url: target,
      method: request.method,
      headers: request.headers,
      hop,
      viaFetch: deps.viaFetch,
      body,
      signal: request.signal,
      decompress: false,
    });
  } catch (error) {
    deps.restoreIdle(request);
    if (!(error instanceof UpstreamUnreachable)) return new Response(null, { status: 499 });
    deps.downLog.failed(error.message, `answered 502 to ${request.method} ${incoming.pathname}`);
    deps.metrics.upstreamFailures.inc({ reason: error.kind });
    return upstreamDown(undefined);
  }
  // An event stream (a legacy HTTP+SSE /sse endpoint) is an open stream: it stays exempt while it lasts
  // (Bun arms the timeout again once a streamed body ends).
  const type = response.header("content-type")?.trimStart().toLowerCase() ?? "";
  if (!type.startsWith("text/event-stream") || request.method === "HEAD") deps.restoreIdle(request);
  const headers = response.clientHeaders(false);
  // Bun gives a bodiless answer without Content-Length a `Content-Length: 0`, which for a HEAD states its GET's
  // length (RFC 9110 §8.6): one whose GET is chunked says so instead, as the upstream did.
  if (request.method === "HEAD" && !headers.has("content-length") && response.header("transfer-encoding") !== null)
    headers.set("transfer-encoding", "chunked");
  return new Response(request.method === "HEAD" ? null : response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/**
 * The query for a request to the upstream URL itself (the MCP path): the upstream's parameters
 * (e.g. an API key the operator put there) first, then the client's. Either may be empty or "?".
 */
export function joinQuery(upstream: string, client: string): string {
  const mine = upstream.length > 1 ? upstream.slice(1) : "";
  const theirs = client.length > 1 ? client.slice(1) : "";
  if (mine === "" || theirs === "") return mine === theirs ? "" : `?${mine}${theirs}`;
  return `?${mine}&${theirs}`;
}
