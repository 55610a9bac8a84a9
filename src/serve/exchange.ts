// The seam between the HTTP edges and the per-session engine: what the MCP route asks of a session. Types only, plus the identity exchange.

import type { LineEdges } from "../wire/framing.ts";
import type { Classified, JsonRpcId } from "../wire/jsonrpc.ts";
import type { CallerPrincipal } from "./principal.ts";
import type { RequestTrace } from "../telemetry/otlp/trace-context.ts";

/** Per-request facts the HTTP front door knows; events of a call are stamped with its request's context. */
export interface RequestContext {
  /** The client's address as the socket saw it. */
  readonly remoteAddress: string | undefined;
  /** The request's consent token after the shape check (per-request mode); undefined when absent or rejected. */
  readonly consentToken: string | undefined;
  /** Who is calling, derived from the request's credentials (see principal.ts); undefined when unknown. */
  readonly principal: CallerPrincipal | undefined;
  /** What the request's headers say for its spans (see {@link requestTraceOf}). */
  readonly trace?: RequestTrace | undefined;
}

/**
 * The request's headers for its spans: MCP-Protocol-Version (sent on every request since
 * 2025-06-18) when it has a version's form (`YYYY-MM-DD`: anything else is the client's text, left
 * out), the spans' `mcp.protocol.version` for a session this replica never saw initialized (a
 * restart, a balancer without affinity); `traceparent`/`tracestate`, the HTTP request's trace
 * context (checked where they are read, proxy/trace-meta.ts).
 */
export function requestTraceOf(headers: Headers): RequestTrace {
  const version = headers.get("mcp-protocol-version");
  return {
    version: version !== null && /^\d{4}-\d{2}-\d{2}$/.test(version) ? version : undefined,
    traceparent: headers.get("traceparent") ?? undefined,
    tracestate: headers.get("tracestate") ?? undefined,
  };
}

/** What to do with a client's POST body. */
export interface ClientVerdict {
  /** Bytes to send upstream: the original body when nothing changed, undefined when the proxy answered everything itself. */
  readonly forward: Uint8Array | undefined;
  /** Responses the proxy gives itself (injected tools, its own tools/list), sent back on this POST. */
  readonly answers: readonly unknown[];
}

/** One MCP session's message handling; implemented over the session engine. */
export interface SessionExchange {
  fromClient(body: Uint8Array, line: Classified, context: RequestContext): ClientVerdict;
  /** A message from the upstream (JSON body or one SSE event's data); returns replacement bytes, or undefined to pass it unchanged. */
  fromServer(data: Uint8Array, line: Classified): Uint8Array | undefined;
  /**
   * A message from the upstream over the inspection cap (see MAX_LINE_BYTES) went to the client
   * unread and unchanged: the request it answers is closed from its first and last bytes.
   */
  fromServerLongLine(edges: LineEdges): void;
  /**
   * The upstream gave no JSON-RPC answer for these client request ids: their calls end as `kind` (default
   * `upstream_unreachable`); with `startedBefore`, only requests started at or before it (see SessionEngine.failRequests).
   */
  upstreamFailed(ids: readonly JsonRpcId[], reason: string, kind?: string, startedBefore?: number): void;
  /** The session ended (DELETE, idle expiry, shutdown): pending calls end, the engine is released. */
  close(reason: string): void;
  /** Ends what the engine bounds in time (unanswered requests, rounds never continued, tasks never seen to finish). */
  sweep(): void;
  /**
   * This session as one POST of a stateless-era group sees it: the clients of a group each number
   * their requests from 0 or 1, so a POST's request ids, its answers and its failures are matched
   * within that POST only (the HTTP answer tells which POST an answer belongs to).
   */
  forPost(): SessionExchange;
}

/** Forwards everything unchanged and records nothing (no consent, or telemetry off). */
export const IDENTITY_EXCHANGE: SessionExchange = {
  fromClient: (body) => ({ forward: body, answers: [] }),
  fromServer: () => undefined,
  fromServerLongLine: () => undefined,
  upstreamFailed: () => undefined,
  close: () => undefined,
  sweep: () => undefined,
  forPost: () => IDENTITY_EXCHANGE,
};
