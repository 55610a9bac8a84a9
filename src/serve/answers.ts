// The HTTP answers the proxy gives itself (refusals, upstream down, drain): clear text, JSON-RPC shaped on the MCP path, no internal addresses.

import { wireError, type WireId } from "../wire/jsonrpc.ts";
import { VIA_ENTRY } from "./forward-headers.ts";

/** JSON-RPC codes used in the proxy's own HTTP answers (wire family; built by wireError). */
export const SERVE_WIRE_ERROR = {
  PARSE: -32700,
  INVALID_REQUEST: -32600,
  /** Implementation-defined server error range: the upstream could not be reached. */
  UPSTREAM_UNAVAILABLE: -32001,
  /**
   * The proxy is shutting down and takes no new sessions (the 503 says so): JSON-RPC's internal
   * error. Not -32002: MCP 2025-11-25 gives it "resource not found", and 2026-07-28 forbids emitting it.
   */
  DRAINING: -32603,
} as const;

export type RefusalReason =
  | "origin"
  | "body_too_large"
  | "body_timeout"
  | "content_type"
  | "malformed_json"
  | "not_jsonrpc"
  | "draining"
  | "method";

const STATUS: Record<RefusalReason, number> = {
  origin: 403,
  body_too_large: 413,
  body_timeout: 408,
  content_type: 415,
  malformed_json: 400,
  not_jsonrpc: 400,
  draining: 503,
  method: 405,
};

/**
 * A refusal. On the MCP path the body is a JSON-RPC error without id (what SDK clients print);
 * elsewhere plain text. `close` asks the client to open a new connection (an unread body remains).
 */
export function refuse(
  reason: RefusalReason,
  text: string,
  options: { mcp: boolean; close?: boolean; allow?: string },
): Response {
  const headers = new Headers({ via: VIA_ENTRY });
  if (options.close === true) headers.set("connection", "close");
  if (options.allow !== undefined) headers.set("allow", options.allow);
  if (reason === "draining") headers.set("retry-after", "1");
  const status = STATUS[reason];
  if (!options.mcp) {
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(`baton-proxy: ${text}\n`, { status, headers });
  }
  const code =
    reason === "malformed_json"
      ? SERVE_WIRE_ERROR.PARSE
      : reason === "draining"
        ? SERVE_WIRE_ERROR.DRAINING
        : SERVE_WIRE_ERROR.INVALID_REQUEST;
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(wireError(null, code, text)), { status, headers });
}

/** 408 for a body that did not arrive in time; the connection closes (the rest of the body is unread). */
export function slowBody(timeoutMs: number, mcp: boolean): Response {
  return refuse("body_timeout", `the request body did not arrive within ${timeoutMs} ms (--body-timeout-ms)`, {
    mcp,
    close: true,
  });
}

/** 400 for a request whose Host (or CONNECT target) does not form a URL: there is nothing to forward. */
export function badTarget(): Response {
  return new Response("baton-proxy: the request's Host does not form a URL\n", {
    status: 400,
    headers: { "content-type": "text/plain; charset=utf-8", via: VIA_ENTRY },
  });
}

/** The text a client sees when the upstream is down: what happened, never where (the client may be anyone). */
/** A request the upstream had not answered when the drain's deadline came (see serve-command.ts). */
export const DRAIN_CUT_TEXT = "the proxy is shutting down before the upstream answered; try again";

export const UPSTREAM_DOWN_TEXT = "the upstream MCP server is unavailable (no answer from it); try again later";

/**
 * 502 for an upstream that gave no HTTP answer. On the MCP path the body answers every request
 * id of the client's message (an array when it sent a batch), so SDK clients reject the pending
 * call promptly instead of waiting for a timeout. `ids` as the client wrote them: it matches answers by id.
 */
export function upstreamDown(ids: readonly WireId[] | undefined): Response {
  const headers = new Headers({ via: VIA_ENTRY });
  if (ids === undefined) {
    headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(`baton-proxy: ${UPSTREAM_DOWN_TEXT}\n`, { status: 502, headers });
  }
  headers.set("content-type", "application/json");
  const errors = (ids.length === 0 ? [null] : ids).map((id) =>
    wireError(id, SERVE_WIRE_ERROR.UPSTREAM_UNAVAILABLE, UPSTREAM_DOWN_TEXT),
  );
  return new Response(JSON.stringify(errors.length === 1 ? errors[0] : errors), { status: 502, headers });
}
