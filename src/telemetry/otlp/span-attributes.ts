// The attributes of MCP spans: what every span of an operation carries (session, JSON-RPC id, protocol version), each hop's network attributes, an annotation as a span event. Pure; no span bookkeeping.

import type { BatonEvent, EventOf } from "../event-types.ts";
import { toHrTime, type AttributeValue, type SpanEventRecord } from "./span-types.ts";

/** The JSON-RPC id of the request, as a string (set by the transform for tool calls). */
export const META_REQUEST_ID = "baton/request_id";
/** The negotiated protocol version when the request itself does not carry one (set by the transform). */
export const META_PROTOCOL_VERSION = "baton/protocol_version";
const MODERN_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";

/** Attributes every MCP span of this operation carries, on top of the operation's own (`hop`: the SERVER hop's). */
export function baseAttributes(
  event: BatonEvent,
  own: Record<string, string>,
  hop: Record<string, AttributeValue>,
): Record<string, AttributeValue> {
  const meta = event.runtime_meta ?? {};
  const attributes: Record<string, AttributeValue> = {
    ...own,
    ...hop,
    "baton.session.id": event.session_id,
  };
  const requestId = meta[META_REQUEST_ID];
  if (typeof requestId === "string") attributes["jsonrpc.request.id"] = requestId;
  const version = meta[MODERN_VERSION_KEY] ?? meta[META_PROTOCOL_VERSION];
  if (typeof version === "string") attributes["mcp.protocol.version"] = version;
  return attributes;
}

/** An annotation event as a `baton.annotation` span event: its string fields as `baton.annotation.*` attributes. */
export function annotationRecord(event: EventOf<"annotation">): SpanEventRecord {
  const p = event.payload;
  const record: SpanEventRecord = { name: "baton.annotation", time: toHrTime(event.captured_at), attributes: {} };
  const fields = {
    intent: p.intent,
    signal_type: p.signal_type,
    expected_outcome: p.expected_outcome,
    workflow: p.workflow,
    suggested_improvement: p.suggested_improvement,
    tool_name: p.tool_name,
  };
  for (const [key, value] of Object.entries(fields))
    if (typeof value === "string") record.attributes[`baton.annotation.${key}`] = value;
  return record;
}

/**
 * One hop's network attributes: `network.transport`, and for an HTTP hop `network.protocol.name`/
 * `.version` (HTTP/1.1: Bun.serve toward hosts, and the proxy's HTTP clients, which offer no h2)
 * plus, toward the server, `server.address`/`server.port` (the conventions: the real server
 * behind the intermediary). A stdio hop has no address.
 */
export function hopAttributes(transport: "pipe" | "tcp", origin: string | undefined): Record<string, AttributeValue> {
  if (transport === "pipe") return { "network.transport": "pipe" };
  const hop: Record<string, AttributeValue> = {
    "network.transport": "tcp",
    "network.protocol.name": "http",
    "network.protocol.version": "1.1",
  };
  const url = origin === undefined ? undefined : URL.parse(origin);
  if (url !== null && url !== undefined) {
    hop["server.address"] = url.hostname.replace(/^\[(.*)\]$/, "$1");
    hop["server.port"] = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  }
  return hop;
}

/** The SERVER hop's network attributes taken out, so the CLIENT span carries only its own. */
export function withoutHop(attributes: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const { "network.protocol.name": _name, "network.protocol.version": _version, ...rest } = attributes;
  return rest;
}
