// The 2026-07-28 `x-mcp-header` mirroring (SEP-2243) toward a remote server: each tool's declarations, read from the tools/list answers passed on, and a call's `Mcp-Param-*` headers built from its arguments. Pure.

import { isObject, type JsonObject } from "../wire/jsonrpc.ts";
import { HEADER_NAME } from "./remote-options.ts";

/** One `x-mcp-header` declaration: the property's path of `properties` keys, and the header's name part. */
export interface ParamHeader {
  readonly path: readonly string[];
  readonly name: string;
}

const X_MCP_HEADER = "x-mcp-header";
const PREFIX = "Mcp-Param-";
/** Declarations held at most: a listing's tools, whatever their number, cost one entry each only when they declare some. */
const MAX_TOOLS = 10_000;

/**
 * Notes the declarations of the tools in a `tools/list` result (any page) in `table`, by tool name:
 * the client of a Streamable HTTP server MUST mirror the declared arguments into headers, and a
 * server MUST refuse a call without them (400, -32020). The stdio client behind the proxy cannot.
 */
export function noteToolList(table: Map<string, readonly ParamHeader[]>, result: JsonObject): void {
  if (!Array.isArray(result.tools)) return;
  for (const tool of result.tools) {
    if (!isObject(tool) || typeof tool.name !== "string") continue;
    const declared = declarations(tool.inputSchema);
    if (declared.length === 0) table.delete(tool.name);
    else if (table.size < MAX_TOOLS || table.has(tool.name)) table.set(tool.name, declared);
  }
}

/** The declarations statically reachable through `properties` keys, as the spec allows them. */
function declarations(schema: unknown, path: readonly string[] = [], out: ParamHeader[] = []): ParamHeader[] {
  if (!isObject(schema) || !isObject(schema.properties) || path.length > 32) return out;
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!isObject(property)) continue;
    const name = property[X_MCP_HEADER];
    // RFC 9110 `token` (HEADER_NAME): what a header name part must be (a tool declaring another is invalid, and sends nothing).
    if (typeof name === "string" && HEADER_NAME.test(name)) out.push({ path: [...path, key], name });
    declarations(property, [...path, key], out);
  }
  return out;
}

/**
 * The `Mcp-Param-{Name}` headers of a call: each declared argument present and not null, as a
 * string (integers in decimal, booleans lowercase); values that are not such primitives are left
 * out, as SDK clients do. `encode` applies the Base64 sentinel form where a value needs it.
 */
export function paramHeaders(
  declared: readonly ParamHeader[],
  args: unknown,
  encode: (value: string) => string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { path, name } of declared) {
    let value: unknown = args;
    for (const key of path) value = isObject(value) ? value[key] : undefined;
    const text =
      typeof value === "string"
        ? value
        : typeof value === "boolean"
          ? String(value)
          : typeof value === "number" &&
              Number.isFinite(value) &&
              (!Number.isInteger(value) || Number.isSafeInteger(value))
            ? String(value)
            : undefined;
    if (text !== undefined) headers[`${PREFIX}${name}`] = encode(text);
  }
  return headers;
}
