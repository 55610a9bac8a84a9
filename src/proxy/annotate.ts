// Validates `baton_annotate` arguments into an annotation payload, or says exactly what is wrong. Pure.

import type { AnnotationPayload } from "../telemetry/event-types.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { SIGNAL_TYPES } from "./injected-tools.ts";

const STRING_FIELDS = ["intent", "expected_outcome", "workflow", "suggested_improvement", "tool_name", "signal_type"] as const;
const KNOWN_FIELDS = new Set<string>([...STRING_FIELDS, "context"]);

export type AnnotateResult =
  | { ok: true; payload: AnnotationPayload; unknownFields: string[] }
  | { ok: false; problems: string[] };

/**
 * Checks the `arguments` of a `baton_annotate` call. Every problem is listed (not just the first)
 * so the model can fix its call in one retry.
 */
export function parseAnnotateArguments(args: unknown): AnnotateResult {
  if (!isObject(args)) {
    return { ok: false, problems: [`arguments must be an object with at least "intent" (got ${describe(args)})`] };
  }
  const problems: string[] = [];
  for (const field of STRING_FIELDS) {
    const value = args[field];
    if (value !== undefined && value !== null && typeof value !== "string") {
      problems.push(`"${field}" must be a string (got ${describe(value)})`);
    }
  }
  if (typeof args.intent !== "string" || args.intent.trim() === "") {
    problems.push(`"intent" is required: one sentence on what you are trying to achieve`);
  }
  const signal = args.signal_type;
  if (typeof signal === "string" && !(SIGNAL_TYPES as readonly string[]).includes(signal)) {
    problems.push(`"signal_type" must be one of ${SIGNAL_TYPES.join(", ")} (got "${signal.slice(0, 40)}")`);
  }
  if (args.context !== undefined && args.context !== null && !isObject(args.context)) {
    problems.push(`"context" must be an object (got ${describe(args.context)})`);
  }
  if (problems.length > 0) return { ok: false, problems };
  // Unknown fields are kept (under context.unknown_fields) rather than refused: a note with an
  // extra key is still worth more to the maintainers than a rejected one.
  const unknown = Object.keys(args).filter((k) => !KNOWN_FIELDS.has(k));
  const baseContext = isObject(args.context) ? args.context : null;
  const context =
    unknown.length === 0 ? baseContext : { ...baseContext, unknown_fields: Object.fromEntries(unknown.map((k) => [k, args[k]])) };
  const text = (key: (typeof STRING_FIELDS)[number]): string | null => {
    const value = args[key];
    return typeof value === "string" ? value : null;
  };
  return {
    ok: true,
    payload: {
      intent: text("intent"),
      expected_outcome: text("expected_outcome"),
      signal_type: text("signal_type"),
      workflow: text("workflow"),
      suggested_improvement: text("suggested_improvement"),
      context,
      intent_source: "baton_annotate",
      tool_name: text("tool_name"),
    },
    unknownFields: unknown,
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}
