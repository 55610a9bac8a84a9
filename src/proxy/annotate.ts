// Turns `baton_annotate` arguments into an annotation payload, keeping what the agent wrote and saying what was normalised. Pure.

import type { AnnotationPayload } from "../telemetry/event-types.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { SIGNAL_TYPES } from "./injected-tools.ts";

const STRING_FIELDS = [
  "intent",
  "expected_outcome",
  "workflow",
  "suggested_improvement",
  "tool_name",
  "signal_type",
] as const;
type StringField = (typeof STRING_FIELDS)[number];
const KNOWN_FIELDS = new Set<string>([...STRING_FIELDS, "context"]);
/** How much of an agent's label is quoted back in the tool result (the event keeps all of it). */
const QUOTE_CHARS = 40;

export type AnnotateResult =
  | { ok: true; payload: AnnotationPayload; notes: string[] }
  | { ok: false; problems: string[] };

/**
 * Reads the `arguments` of a `baton_annotate` call. Nothing the agent says is lost: a label
 * outside the signal enum is recorded as `other` with the agent's own kept in
 * `context.signal_type_given`; a number where text belongs is recorded as text; a `context` that
 * is not an object is kept under `context.value`; unknown fields go to `context.unknown_fields`
 * (either key gets a `_2`, `_3`… suffix when the agent's own context already has it);
 * a bare string is the intent; a missing intent is recorded as null. Each such step is one sentence in `notes`, for the tool
 * result. Only arguments carrying nothing to record are refused.
 */
export function parseAnnotateArguments(args: unknown): AnnotateResult {
  if (typeof args === "string" && args.trim() !== "") {
    return withNote(
      parseAnnotateArguments({ intent: args }),
      "The arguments were a bare string; it was recorded as the intent.",
    );
  }
  if (!isObject(args)) {
    return { ok: false, problems: [`arguments must be an object with at least "intent" (got ${describe(args)})`] };
  }
  const notes: string[] = [];
  // Spread, not assigned: a key named "__proto__" stays a key of the copy.
  const context: Record<string, unknown> = isObject(args.context) ? { ...args.context } : {};
  const text = (field: StringField): string | null => {
    const value = args[field];
    if (value === undefined || value === null) return null;
    if (typeof value === "string") return value;
    notes.push(`"${field}" was ${describe(value)}; it was recorded as text.`);
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  };
  const fields = Object.fromEntries(STRING_FIELDS.map((field) => [field, text(field)])) as Record<
    StringField,
    string | null
  >;

  if (!isObject(args.context) && args.context !== undefined && args.context !== null) {
    context.value = args.context;
    notes.push(`"context" was ${describe(args.context)}, not an object; it was kept under context.value.`);
  }
  const unknown = Object.keys(args).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    const key = freeKey(context, "unknown_fields");
    context[key] = Object.fromEntries(unknown.map((k) => [k, args[k]]));
    notes.push(`Unknown fields were kept under context.${key}: ${unknown.join(", ")}.`);
  }
  const signal = normaliseSignal(fields.signal_type);
  if (signal.given !== undefined) {
    const key = freeKey(context, "signal_type_given");
    context[key] = signal.given;
    notes.push(
      signal.value === "other"
        ? `"signal_type" "${signal.given.slice(0, QUOTE_CHARS)}" is not one of ${SIGNAL_TYPES.join(", ")}; it was recorded as "other" with your label kept in context.${key}.`
        : `"signal_type" "${signal.given.slice(0, QUOTE_CHARS)}" was recorded as "${signal.value}".`,
    );
  }
  const intent = fields.intent !== null && fields.intent.trim() !== "" ? fields.intent : null;
  const said =
    STRING_FIELDS.some((f) => fields[f] !== null && fields[f]?.trim() !== "") || Object.keys(context).length > 0;
  if (!said) return { ok: false, problems: [`"intent" is required: one sentence on what you are trying to achieve`] };
  if (intent === null)
    notes.push(
      `"intent" was missing; the note was recorded without it (next time, say in one sentence what you are trying to achieve).`,
    );

  return {
    ok: true,
    payload: {
      intent,
      expected_outcome: fields.expected_outcome,
      signal_type: signal.value,
      workflow: fields.workflow,
      suggested_improvement: fields.suggested_improvement,
      context: Object.keys(context).length > 0 ? context : null,
      intent_source: "baton_annotate",
      tool_name: fields.tool_name,
    },
    notes,
  };
}

/**
 * The enum value for an agent's label: exact, else the same words spelt differently
 * (`Retry Loop`, `retry-loop`), else `other`. `given` is set whenever the label was changed.
 */
function normaliseSignal(label: string | null): { value: string | null; given?: string } {
  if (label === null || label.trim() === "") return { value: null };
  if ((SIGNAL_TYPES as readonly string[]).includes(label)) return { value: label };
  const words = label
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  const match = SIGNAL_TYPES.find((type) => type === words);
  return { value: match ?? "other", given: label };
}

/** `base`, or `base_2`, `base_3`… when the agent's own context already uses it: ours never overwrites theirs. */
function freeKey(context: Record<string, unknown>, base: string): string {
  let key = base;
  for (let n = 2; Object.hasOwn(context, key); n += 1) key = `${base}_${n}`;
  return key;
}

function withNote(result: AnnotateResult, note: string): AnnotateResult {
  return result.ok ? { ...result, notes: [note, ...result.notes] } : result;
}

/** What a JSON value is, with its article: `nothing` (missing), `null`, `an array`, `a blank string`, `a number`… */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string" && value.trim() === "") return "a blank string";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
