// The admin listener: /healthz (alive), /readyz (not draining and upstream answering), /metrics (Prometheus text). Apart from MCP traffic.

import type { ReadinessProbe } from "./readiness.ts";
import type { MetricsRegistry } from "./metrics.ts";
import { requestUrl } from "./request-url.ts";
import type { ListenAddress } from "./serve-args.ts";

/** The content type Prometheus expects for the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface AdminDeps {
  readonly readiness: ReadinessProbe;
  readonly registry: MetricsRegistry;
  readonly isDraining: () => boolean;
}

/** Routes one admin request. GET and HEAD only. */
export async function handleAdmin(request: Request, deps: AdminDeps): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD")
    return text(405, "method not allowed\n", { allow: "GET, HEAD" });
  const url = requestUrl(request.url);
  if (url === undefined) return text(400, "the request's Host does not form a URL\n");
  switch (url.pathname) {
    case "/healthz":
      return text(200, "ok");
    case "/readyz": {
      if (deps.isDraining()) return text(503, "draining\n");
      return (await deps.readiness.upstreamReady()) ? text(200, "ready\n") : text(503, "upstream not answering\n");
    }
    case "/metrics":
      return new Response(deps.registry.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
    default:
      return text(404, "not found (try /healthz, /readyz, /metrics)\n");
  }
}

/** Starts the admin listener. It stays up until the process exits (readiness must be observable while draining). */
export function startAdminServer(listen: ListenAddress, deps: AdminDeps) {
  return Bun.serve({
    hostname: listen.host,
    port: listen.port,
    development: false,
    // As for the MCP listener: an address already taken must fail to listen, not be shared.
    reusePort: false,
    fetch: (request) => handleAdmin(request, deps),
  });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
