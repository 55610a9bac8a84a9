// What the proxy adds to the server's surface: the instructions suffix and the two injected tool definitions.

export const ANNOTATE_TOOL = "baton_annotate";
export const REPORT_TOOL = "baton_session_report";
/** How our `baton_annotate` description begins: the instructions name the tool by it (see INSTRUCTIONS_SUFFIX). */
export const ANNOTATE_LEAD = "Leave a short note for the maintainers of this MCP server";

export const SIGNAL_TYPES = [
  "failure",
  "retry_loop",
  "dead_end",
  "parameter_confusion",
  "slow_performance",
  "abandonment",
  "feature_gap",
  "other",
] as const;

/**
 * Appended to the server's own instructions (after one blank line). It teaches the model when to
 * annotate, and makes clear that annotating is a side channel, never a substitute for the answer.
 */
export const INSTRUCTIONS_SUFFIX = [
  "This server is instrumented by baton-proxy so its maintainers can learn where agents struggle with it.",
  // The handshake comes before tools/list: a server with its own tool of that name (ours then stays
  // out) is not known yet, so our tool is named by its description too, and the sentence stays true.
  `Use the \`${ANNOTATE_TOOL}\` tool whose description begins "${ANNOTATE_LEAD}" to leave short notes for them (if no listed tool has that description, the server's own tool has that name: leave no notes then):`,
  "- Proactively, before a multi-step piece of work with this server's tools: say what you are trying to do (`intent`) and what you expect to get (`expected_outcome`).",
  "- Reactively, right after a tool call errors, times out, returns something unhelpful or confusing, makes you retry or guess parameters, or when the user gives up: set `signal_type`, name the tool in `tool_name`, and say what would have helped in `suggested_improvement`.",
  "Keep notes factual and brief, and leave out personal data and secrets. Annotating never replaces answering the user: file the note, then carry on with the task.",
].join("\n");

const ANNOTATE_DESCRIPTION = [
  `${ANNOTATE_LEAD} about how well its tools worked for the task at hand. It does not change anything and its result is only an acknowledgement.`,
  "Call it proactively before a multi-step task (intent + expected_outcome), and reactively when a tool call failed, returned something unhelpful, was slow, needed retries or guessed parameters, or when the user abandoned the task (signal_type + suggested_improvement + tool_name).",
  "Never use it instead of answering the user; never put personal data or secrets in it.",
].join(" ");

/** `baton_annotate` as listed in `tools/list` (schema per SPEC §3). */
export const ANNOTATE_TOOL_DEFINITION = Object.freeze({
  name: ANNOTATE_TOOL,
  title: "Annotate this session for the server's maintainers",
  description: ANNOTATE_DESCRIPTION,
  inputSchema: {
    type: "object",
    properties: {
      intent: { type: "string", description: "What you are trying to achieve, in one sentence." },
      expected_outcome: { type: "string", description: "What you expected the tools to give you." },
      workflow: { type: "string", description: "A short label for the overall task, reused across related notes." },
      signal_type: {
        type: "string",
        enum: [...SIGNAL_TYPES],
        description: "What went wrong, when something did.",
      },
      suggested_improvement: {
        type: "string",
        description: "What change to the server or its tools would have helped.",
      },
      context: {
        type: "object",
        description: "Any extra structured detail (no personal data or secrets).",
        additionalProperties: true,
      },
      tool_name: { type: "string", description: "The tool this note is about, if it is about one tool." },
    },
    required: ["intent"],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
});

/** `baton_session_report`, injected only when every sink is local. */
export const REPORT_TOOL_DEFINITION = Object.freeze({
  name: REPORT_TOOL,
  title: "Friction report for this session",
  description:
    "Returns a Markdown report of this session so far: tool calls per tool, errors with their inputs, slow calls and annotations. Call it when the user asks how the tools performed or wants a report to share with the server's maintainers.",
  inputSchema: { type: "object", properties: {}, additionalProperties: false },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
});

/** The first protocol version: its Tool had neither `title` nor `annotations`. */
export const FIRST_PROTOCOL_VERSION = "2024-11-05";

/** A definition as listed in a session that negotiated {@link FIRST_PROTOCOL_VERSION}: only that version's fields. */
function firstVersionDefinition(definition: typeof ANNOTATE_TOOL_DEFINITION | typeof REPORT_TOOL_DEFINITION) {
  const { title: _title, annotations: _annotations, ...rest } = definition;
  return Object.freeze(rest);
}

const FIRST_VERSION_ANNOTATE = firstVersionDefinition(ANNOTATE_TOOL_DEFINITION);
const FIRST_VERSION_REPORT = firstVersionDefinition(REPORT_TOOL_DEFINITION);

/** The injected tools in listing order, in the shape of the negotiated protocol version (undefined: the latest). */
export function injectedTools(includeReport: boolean, protocolVersion?: string): readonly { readonly name: string }[] {
  if (protocolVersion === FIRST_PROTOCOL_VERSION)
    return includeReport ? [FIRST_VERSION_ANNOTATE, FIRST_VERSION_REPORT] : [FIRST_VERSION_ANNOTATE];
  return includeReport ? [ANNOTATE_TOOL_DEFINITION, REPORT_TOOL_DEFINITION] : [ANNOTATE_TOOL_DEFINITION];
}

/**
 * The server's instructions with ours appended after exactly one blank line, whatever whitespace
 * the server's text ends with (only that trailing whitespace is dropped); ours alone when it has none.
 */
export function withInstructionsSuffix(existing: unknown): string {
  if (typeof existing !== "string" || existing.trim() === "") return INSTRUCTIONS_SUFFIX;
  return `${existing.trimEnd()}\n\n${INSTRUCTIONS_SUFFIX}`;
}
