// Which MCP operation an event describes (tools/call, resources/read|list, prompts/get|list) and the span name and attributes that follow from it. Pure.

/** Event type prefixes (`<prefix>_start|_end|_error`) and the MCP method each stands for. */
const METHODS: Readonly<Record<string, string>> = {
  tool_call: "tools/call",
  resource_read: "resources/read",
  resource_list: "resources/list",
  prompt_get: "prompts/get",
  prompt_list: "prompts/list",
};

export type Phase = "start" | "end" | "error";

/** The operation and phase of an event type, or undefined for other events (annotations, snapshots). */
export function parseOperationEvent(eventType: string): { method: string; phase: Phase } | undefined {
  const match = /^([a-z_]+)_(start|end|error)$/.exec(eventType);
  const method = match === null ? undefined : METHODS[match[1] as string];
  return method === undefined ? undefined : { method, phase: match?.[2] as Phase };
}

export interface OperationFacts {
  readonly method: string;
  /** The span name: `{method} {target}` when there is a low-cardinality target (tool or prompt name), else the method. */
  readonly name: string;
  /** The tool a `tools/call` concerns (annotations attach by it). */
  readonly toolName: string | undefined;
  readonly attributes: Record<string, string>;
}

/**
 * Facts from a start event's payload. A resource URI goes into `mcp.resource.uri`, never into the
 * name (the conventions keep it out unless the user opts in); `gen_ai.operation.name=execute_tool`
 * only on `tools/call`. With `captureContent`, tool arguments go into `gen_ai.tool.call.arguments`.
 */
export function describeOperation(
  method: string,
  payload: Readonly<Record<string, unknown>>,
  captureContent: boolean,
): OperationFacts {
  const text = (key: string): string | undefined =>
    typeof payload[key] === "string" ? (payload[key] as string) : undefined;
  const attributes: Record<string, string> = { "mcp.method.name": method };
  if (method === "tools/call") {
    const tool = text("tool_name") ?? "";
    attributes["gen_ai.tool.name"] = tool;
    attributes["gen_ai.operation.name"] = "execute_tool";
    if (captureContent) attributes["gen_ai.tool.call.arguments"] = JSON.stringify(payload.params ?? {});
    return { method, name: named(method, tool), toolName: tool, attributes };
  }
  if (method === "prompts/get") {
    const prompt = text("name");
    if (prompt !== undefined) attributes["gen_ai.prompt.name"] = prompt;
    return { method, name: named(method, prompt), toolName: undefined, attributes };
  }
  const uri = text("uri");
  if (uri !== undefined) attributes["mcp.resource.uri"] = uri;
  return { method, name: method, toolName: undefined, attributes };
}

/** `{method} {target}`, or the method alone when there is no target (none, or an empty name: no trailing space). */
function named(method: string, target: string | undefined): string {
  return target === undefined || target === "" ? method : `${method} ${target}`;
}
