// The MCP-facing listener: limits and Origin checked first, then the MCP path to its route and every other path passed through.

import type { Logger } from "../log.ts";
import { refuse } from "./answers.ts";
import type { ClientHop } from "./forward-headers.ts";
import { handleMcp, type McpRouteDeps } from "./mcp-route.ts";
import { refusalForSession } from "./mcp-relay.ts";
import { isOriginAllowed } from "./origin-policy.ts";
import { passThrough, type PassthroughDeps } from "./passthrough.ts";
import { OVERSIZE_DRAIN_FACTOR } from "./request-body.ts";
import { requestUrl } from "./request-url.ts";

export interface ServeServerDeps extends Omit<McpRouteDeps, "keepOpen" | "restoreIdle"> {
  readonly logger: Logger;
}

/** Starts Bun.serve on the configured address; returns the server (its `port` is the bound one). */
export function startServeServer(deps: ServeServerDeps) {
  const { config, metrics } = deps;
  const plainPath = PLAIN_PATH.test(config.path);
  const idleSeconds = Math.ceil(config.idleTimeoutMs / 1000);
  // `server` is bound below; these run only once it serves.
  const keepOpen = (request: Request) => server.timeout(request, 0);
  const restoreIdle = (request: Request) => server.timeout(request, idleSeconds);
  const passDeps: PassthroughDeps = {
    keepOpen,
    restoreIdle,
    upstream: config.upstream,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    metrics,
    logger: deps.logger,
    downLog: deps.downLog,
    viaFetch: config.upstreamViaFetch,
  };
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    development: false,
    // Bun turns SO_REUSEPORT on with `development: false`: a second serve on this address would share
    // it (the kernel splitting connections, so sessions, between the two) instead of failing to listen.
    reusePort: false,
    // Our own limit answers 413 readably; Bun's cap only stops a body far beyond it.
    maxRequestBodySize: config.maxBodyBytes * OVERSIZE_DRAIN_FACTOR + 1,
    idleTimeout: idleSeconds,
    fetch: async (request) => {
      const mcp = isMcpPath(request.url, config.path, plainPath);
      const route = mcp ? "mcp" : "passthrough";
      const response = await answer(request, mcp).catch((error: unknown) => {
        const path = requestUrl(request.url)?.pathname;
        deps.logger.error(`internal error while handling ${request.method} ${path}: ${String(error)}`);
        return new Response("baton-proxy: internal error\n", { status: 500 });
      });
      metrics.httpRequests.inc({
        route,
        http_request_method: request.method,
        http_response_status_code: String(response.status),
      });
      return response;
    },
    error: () => new Response("baton-proxy: internal error\n", { status: 500 }),
  });

  // Request heads are bounded by Bun's HTTP parser (it answers 431 beyond its limit): counting them here cost 17% of a call.
  const routeDeps: McpRouteDeps = { ...deps, keepOpen, restoreIdle };
  let warnedOtherPath = false;

  async function answer(request: Request, mcp: boolean): Promise<Response> {
    // The MCP endpoint is what DNS rebinding would reach; other paths (OAuth discovery, /token...) keep the upstream's own CORS policy.
    // The MCP path's spellings an upstream may serve as that endpoint (Express matches `/MCP` and `/mcp/` to `/mcp`) are checked too.
    const origin = request.headers.get("origin");
    if (
      origin !== null &&
      (mcp || mayReachMcpPath(request.url, config.path)) &&
      !isOriginAllowed(origin, config.allowedOrigins)
    ) {
      metrics.refused.inc({ reason: "origin" });
      await request.body?.cancel().catch(() => undefined);
      return refuse(
        "origin",
        "this Origin may not call the MCP server (DNS-rebinding protection; see --allowed-origins)",
        { mcp: true, close: true },
      );
    }
    const hop: ClientHop = {
      remoteAddress: server.requestIP(request)?.address,
      proto: request.url.startsWith("https:") ? "https" : "http",
      host: request.headers.get("host"),
    };
    // A near spelling stays unrouted (a Starlette upstream redirects `/mcp` to `/mcp/`), but its `_meta` consent token is the caller's credential.
    if (!mcp) {
      // A client given another path (`/`, `/v1/mcp`) against an upstream that answers there too works,
      // unobserved: say so once, or the empty report would be the only sign. The path is not quoted: it may hold a key.
      // MCP clients accept text/event-stream on every POST (Streamable HTTP); OAuth's JSON POSTs (/register) do not.
      if (
        !warnedOtherPath &&
        request.method === "POST" &&
        request.headers.get("accept")?.includes("text/event-stream")
      ) {
        warnedOtherPath = true;
        deps.logger.warn(
          `an MCP POST arrived on a path that is not the MCP path ${config.path}: it was passed to the upstream unobserved (no events, no added tools); give clients the URL ending in ${config.path}`,
        );
      }
      return passThrough(
        request,
        hop,
        request.method === "POST" && mayReachMcpPath(request.url, config.path)
          ? { ...passDeps, cutConsentMeta: true }
          : passDeps,
      );
    }
    // CORS preflights of browser clients are the upstream's to answer (on its MCP path).
    if (request.method === "OPTIONS") return passThrough(request, hop, { ...passDeps, path: config.upstream.pathname });
    if (request.method === "GET" && deps.isDraining()) {
      metrics.refused.inc({ reason: "draining" });
      return refusalForSession(
        refuse("draining", "the proxy is shutting down and opens no new streams", { mcp: true }),
        request,
        deps.sessions,
      );
    }
    return handleMcp(request, hop, routeDeps);
  }

  return server;
}

/**
 * Whether a request path is the MCP path up to ASCII case and a trailing slash (Express's default
 * routing takes those for that path) and percent-escapes (Hono, Go's net/http and Python's ASGI
 * servers route on the decoded path: `/%6dcp` reaches their `/mcp`).
 */
export function mayReachMcpPath(url: string, path: string): boolean {
  const loose = (text: string | undefined) =>
    text === undefined ? undefined : unescaped(text).toLowerCase().replace(/\/$/, "");
  return loose(requestUrl(url)?.pathname) === loose(path);
}

/** A path with its percent-escapes decoded, as a decoding router reads it; a run that is no UTF-8 stays as written. */
function unescaped(path: string): string {
  if (!path.includes("%")) return path;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** A path WHATWG URL parsing leaves as it is (no dot segments, escapes or characters it would encode). */
const PLAIN_PATH = /^\/[A-Za-z0-9/_~-]*$/;

/**
 * Whether a request URL's path is the MCP path, as `new URL(url).pathname === path` says. When
 * `path` is plain, the request's own text equal to it settles it without parsing; any other text
 * (dot segments, escapes: what normalises) is parsed as before.
 */
export function isMcpPath(url: string, path: string, plain: boolean): boolean {
  if (plain) {
    // A bare path (a request without Host) starts at 0; otherwise after the authority.
    const start = url.charCodeAt(0) === 0x2f ? 0 : url.indexOf("/", url.indexOf("//") + 2);
    if (start !== -1) {
      let end = url.length;
      for (let i = start; i < url.length; i++) {
        const c = url.charCodeAt(i);
        if (c === 0x3f || c === 0x23) {
          end = i;
          break;
        }
      }
      if (end - start === path.length && url.startsWith(path, start)) return true;
    }
  }
  return requestUrl(url)?.pathname === path;
}
