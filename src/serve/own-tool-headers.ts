// The request headers MCP has a server check against the body, for calls of the proxy's own tools: answered here, they never reach the upstream that checks them for every other call. Pure.

import { ANNOTATE_TOOL, REPORT_TOOL } from "../proxy/injected-tools.ts";
import { MODERN_VERSION_KEY } from "../proxy/proxy-state.ts";
import { isObject, type JsonRpcId, type Message } from "../wire/jsonrpc.ts";

/** The versions a handshake-era request may name in MCP-Protocol-Version (2024-10-07: SDK servers accept it too). */
const KNOWN_VERSIONS = new Set(["2024-10-07", "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]);
/** 2026-07-28 `HeaderMismatch`. */
const HEADER_MISMATCH = -32020;
const INVALID_REQUEST = -32600;
const BASE64_PREFIX = "=?base64?";
const BASE64_SUFFIX = "?=";

/** Why such a call is refused (400): the JSON-RPC error's id, code and text. */
export interface HeaderProblem {
  readonly id: JsonRpcId | null;
  readonly code: number;
  readonly text: string;
}

/**
 * The problem with the headers of a POST that calls one of the proxy's tools, as an upstream would
 * find it: an MCP-Protocol-Version that is no MCP version (2025-06-18+: 400); for a 2026-07-28
 * request, MCP-Protocol-Version, Mcp-Method or Mcp-Name missing or not the body's (400, -32020).
 * Calls of other tools (and a server's own tool of our name) are checked by the upstream.
 */
export function ownToolHeaderProblem(headers: Headers, messages: readonly Message[]): HeaderProblem | undefined {
  const message = messages.length === 1 ? messages[0] : undefined;
  if (message?.kind !== "request" || message.method !== "tools/call") return undefined;
  const params = isObject(message.value.params) ? message.value.params : undefined;
  const name = params?.name;
  if (name !== ANNOTATE_TOOL && name !== REPORT_TOOL) return undefined;
  const version = headers.get("mcp-protocol-version");
  const bodyVersion = isObject(params?._meta) ? params._meta[MODERN_VERSION_KEY] : undefined;
  if (typeof bodyVersion !== "string") {
    if (version === null || KNOWN_VERSIONS.has(version)) return undefined;
    return { id: null, code: INVALID_REQUEST, text: `unsupported MCP-Protocol-Version ${quote(version)}` };
  }
  const mismatch =
    version !== bodyVersion
      ? `MCP-Protocol-Version ${version === null ? "is missing" : `${quote(version)} is not the body's ${quote(bodyVersion)}`}`
      : headers.get("mcp-method") !== message.method
        ? `Mcp-Method ${headers.has("mcp-method") ? "is not the body's method" : "is missing"}`
        : decodeName(headers.get("mcp-name")) !== name
          ? `Mcp-Name ${headers.has("mcp-name") ? "is not the body's params.name" : "is missing"}`
          : undefined;
  return mismatch === undefined
    ? undefined
    : { id: message.id, code: HEADER_MISMATCH, text: `header mismatch: ${mismatch}` };
}

/** An Mcp-Name value, its Base64 sentinel form decoded. */
function decodeName(value: string | null): string | null {
  if (value === null || !value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX)) return value;
  return Buffer.from(value.slice(BASE64_PREFIX.length, -BASE64_SUFFIX.length), "base64").toString("utf8");
}

function quote(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}
