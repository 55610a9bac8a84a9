// Before the proxy answers a call of its own tool on a session the upstream has not yet vouched for to this replica: a ping on that session, whose refusal is the client's answer.

import { ANNOTATE_TOOL, REPORT_TOOL } from "../proxy/injected-tools.ts";
import { MODERN_VERSION_KEY } from "../proxy/proxy-state.ts";
import { isObject, type Message } from "../wire/jsonrpc.ts";
import { corsFieldsOf, type CorsFields } from "./cors-echo.ts";
import type { ClientHop } from "./forward-headers.ts";
import { upstreamUrl, type McpRouteDeps } from "./mcp-relay.ts";
import { fetchUpstream } from "./upstream-client.ts";

const PROBE = new TextEncoder().encode('{"jsonrpc":"2.0","id":"baton-proxy-session-probe","method":"ping"}');

/**
 * Whether a POST calls one of the proxy's own tools in the handshake era. Such a call is answered
 * here, so the upstream's check of the session (404 for an unknown or ended one, 400 for none on a
 * server that requires one) must be asked for. A 2026-07-28 request has no session to check (and no
 * `ping` to check it with).
 */
export function callsOwnToolOnSession(messages: readonly Message[]): boolean {
  return messages.some((m) => {
    if (m.kind !== "request" || m.method !== "tools/call" || !isObject(m.value.params)) return false;
    const params = m.value.params;
    if (params.name !== ANNOTATE_TOOL && params.name !== REPORT_TOOL) return false;
    return !(isObject(params._meta) && typeof params._meta[MODERN_VERSION_KEY] === "string");
  });
}

/**
 * Asks the upstream whether it knows the request's session (its Mcp-Session-Id, or none) with a
 * `ping` carrying the request's own headers: a 2xx vouches for it (with its CORS fields, which the
 * proxy's answer repeats); any other answer is what the upstream gives every other call there, handed
 * to the client unchanged. An upstream that cannot be reached decides nothing (undefined): the call
 * is answered as before (fail-open).
 */
export async function probeSession(
  request: Request,
  hop: ClientHop,
  deps: McpRouteDeps,
): Promise<{ readonly cors: CorsFields | undefined } | Response | undefined> {
  const headers = new Headers(request.headers);
  headers.delete("content-encoding"); // the probe's body is its own, uncompressed
  let answer: Awaited<ReturnType<typeof fetchUpstream>>;
  try {
    answer = await fetchUpstream({
      url: upstreamUrl(deps.config, request),
      method: "POST",
      headers,
      hop,
      viaFetch: deps.config.upstreamViaFetch,
      body: PROBE,
      signal: request.signal,
      decompress: true,
    });
  } catch {
    return undefined;
  }
  if (!answer.ok) return new Response(answer.body, { status: answer.status, headers: answer.clientHeaders(true) });
  // The ping's answer is the proxy's own: not read (an SSE answer could stay open), not relayed.
  if (answer.body instanceof ReadableStream) await answer.body.cancel().catch(() => undefined);
  return { cors: corsFieldsOf(answer) };
}
