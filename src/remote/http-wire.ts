// What goes on the HTTP wire to a remote MCP server: request headers per message, and response bodies turned into stdio lines. Pure.

import type { JsonObject } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { paramHeaders, type ParamHeader } from "./param-headers.ts";

export const ACCEPT_POST = "application/json, text/event-stream";
export const ACCEPT_SSE = "text/event-stream";
/** The body key that marks a stateless-era (2026-07-28) request. */
const MODERN_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
/** Methods whose `Mcp-Name` header mirrors a param (SEP-2243). */
const NAME_SOURCE: Readonly<Record<string, string>> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  "tasks/get": "taskId",
  "tasks/cancel": "taskId",
  "tasks/update": "taskId",
};
const BASE64_PREFIX = "=?base64?";
const BASE64_SUFFIX = "?=";
const NEWLINE = 0x0a;
const RETURN = 0x0d;

/** What the session knows that shapes headers: the session id and the negotiated version (legacy era), tools' `x-mcp-header`s. */
export interface SessionFacts {
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** By tool name, the `x-mcp-header` declarations of the tools listed so far (2026-07-28); only tools that declare some. */
  paramHeaders?: Map<string, readonly ParamHeader[]>;
}

/**
 * Headers of one POST. Legacy era: `Mcp-Session-Id` once latched and `MCP-Protocol-Version` after the
 * handshake (neither on `initialize`). Stateless era (the body carries its version in `_meta`): the
 * version from the body, `Mcp-Method`, `Mcp-Name` where the method names a target, and a call's
 * `Mcp-Param-*` for the arguments its tool's schema marks with `x-mcp-header`.
 */
export function postHeaders(
  base: Readonly<Record<string, string>>,
  facts: SessionFacts,
  message: JsonObject | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { ...base, "Content-Type": "application/json", Accept: ACCEPT_POST };
  const method = typeof message?.method === "string" ? message.method : undefined;
  // An `initialize` starts a new session: MCP sends it without a session id (after a 404, the dead one would be refused again).
  if (facts.sessionId !== undefined && method !== "initialize") headers["Mcp-Session-Id"] = facts.sessionId;
  const params = isObject(message?.params) ? message.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const modernVersion = meta?.[MODERN_VERSION_KEY];
  if (typeof modernVersion === "string") {
    headers["MCP-Protocol-Version"] = modernVersion;
    if (method !== undefined) {
      headers["Mcp-Method"] = method;
      const source = NAME_SOURCE[method];
      const name = source === undefined ? undefined : params?.[source];
      if (typeof name === "string") headers["Mcp-Name"] = encodeHeaderValue(name);
      const declared = method === "tools/call" && typeof name === "string" ? facts.paramHeaders?.get(name) : undefined;
      if (declared !== undefined) Object.assign(headers, paramHeaders(declared, params?.arguments, encodeHeaderValue));
    }
  } else if (facts.protocolVersion !== undefined && method !== "initialize") {
    headers["MCP-Protocol-Version"] = facts.protocolVersion;
  }
  return headers;
}

/** Headers of the standing GET stream, a resumption GET, or the closing DELETE. */
export function sessionHeaders(
  base: Readonly<Record<string, string>>,
  facts: SessionFacts,
  accept?: string,
  lastEventId?: string,
): Record<string, string> {
  const headers: Record<string, string> = { ...base };
  if (accept !== undefined) headers.Accept = accept;
  if (facts.sessionId !== undefined) headers["Mcp-Session-Id"] = facts.sessionId;
  if (facts.protocolVersion !== undefined) headers["MCP-Protocol-Version"] = facts.protocolVersion;
  if (lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
  return headers;
}

/** SEP-2243 header value: plain when it is visible ASCII without edge spaces, else the Base64 sentinel form. */
export function encodeHeaderValue(value: string): string {
  const plain =
    value !== "" &&
    value === value.trim() &&
    !(value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX)) &&
    /^[\t\x20-\x7e]*$/.test(value);
  return plain ? value : `${BASE64_PREFIX}${Buffer.from(value, "utf8").toString("base64")}${BASE64_SUFFIX}`;
}

/**
 * One JSON body (an `application/json` response, or an SSE `message` event's data) as one stdio
 * line: the server's bytes plus a newline. Raw line breaks inside valid JSON can only be
 * whitespace, so a pretty-printed body (or multi-line data) is flattened by turning them into
 * spaces. Empty bodies give nothing.
 */
export function bodyToLine(body: Uint8Array): Uint8Array | undefined {
  let end = body.length;
  while (end > 0 && isSpace(body[end - 1] as number)) end--;
  let start = 0;
  while (start < end && isSpace(body[start] as number)) start++;
  if (start === end) return undefined;
  const line = new Uint8Array(end - start + 1);
  line.set(body.subarray(start, end));
  line[line.length - 1] = NEWLINE;
  // The native search first: most bodies are compact, and a byte loop over a large one costs.
  const text = line.subarray(0, line.length - 1);
  if (text.indexOf(NEWLINE) !== -1 || text.indexOf(RETURN) !== -1)
    for (let i = 0; i < text.length; i++) if (text[i] === NEWLINE || text[i] === RETURN) text[i] = 0x20;
  return line;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === NEWLINE || byte === RETURN || byte === 0x09;
}
