// The MCP-facing listener: limits and Origin checked first, then the MCP path to its route and every other path passed through.

import type { Logger } from "../log.ts";
import { refuse } from "./answers.ts";
import type { ClientHop } from "./forward-headers.ts";
import { handleMcp, type McpRouteDeps } from "./mcp-route.ts";
import { isOriginAllowed } from "./origin-policy.ts";
import { passThrough } from "./passthrough.ts";
import { OVERSIZE_DRAIN_FACTOR } from "./request-body.ts";

export interface ServeServerDeps extends Omit<McpRouteDeps, "keepOpen"> {
  readonly logger: Logger;
}

/** Starts Bun.serve on the configured address; returns the server (its `port` is the bound one). */
export function startServeServer(deps: ServeServerDeps) {
  const { config, metrics } = deps;
  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: config.listen.host,
    port: config.listen.port,
    development: false,
    // Our own limit answers 413 readably; Bun's cap only stops a body far beyond it.
    maxRequestBodySize: config.maxBodyBytes * OVERSIZE_DRAIN_FACTOR + 1,
    idleTimeout: Math.ceil(config.idleTimeoutMs / 1000),
    fetch: async (request, srv) => {
      const url = new URL(request.url);
      const mcp = url.pathname === config.path;
      const route = mcp ? "mcp" : "passthrough";
      const response = await answer(request, url, srv, mcp).catch((error: unknown) => {
        deps.logger.error(`internal error while handling ${request.method} ${url.pathname}: ${String(error)}`);
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
  async function answer(request: Request, url: URL, srv: typeof server, mcp: boolean): Promise<Response> {
    // The MCP endpoint is what DNS rebinding would reach; other paths (OAuth discovery, /token...) keep the upstream's own CORS policy.
    if (mcp && !isOriginAllowed(request.headers.get("origin"), config.allowedOrigins)) {
      metrics.refused.inc({ reason: "origin" });
      await request.body?.cancel().catch(() => undefined);
      return refuse(
        "origin",
        "this Origin may not call the MCP server (DNS-rebinding protection; see --allowed-origins)",
        { mcp: true, close: true },
      );
    }
    const hop: ClientHop = {
      remoteAddress: srv.requestIP(request)?.address,
      proto: url.protocol === "https:" ? "https" : "http",
      host: request.headers.get("host"),
    };
    const passDeps = {
      upstream: config.upstream,
      maxBodyBytes: config.maxBodyBytes,
      metrics,
      logger: deps.logger,
      viaFetch: config.upstreamViaFetch,
    };
    if (!mcp) return passThrough(request, hop, passDeps);
    // CORS preflights of browser clients are the upstream's to answer (on its MCP path).
    if (request.method === "OPTIONS") return passThrough(request, hop, { ...passDeps, path: config.upstream.pathname });
    if (request.method === "GET" && deps.isDraining()) {
      metrics.refused.inc({ reason: "draining" });
      return refuse("draining", "the proxy is shutting down and opens no new streams", { mcp: true });
    }
    return handleMcp(request, hop, { ...deps, keepOpen: (r) => srv.timeout(r, 0) });
  }

  return server;
}
