// Unit tests for src/proxy/annotate.ts and the instructions join: what the agent wrote is kept, what was normalised is said.

import { describe, expect, test } from "bun:test";
import { parseAnnotateArguments } from "../src/proxy/annotate.ts";
import { INSTRUCTIONS_SUFFIX, withInstructionsSuffix } from "../src/proxy/injected-tools.ts";
import { assertValidEvent } from "./support/events.ts";

/** A whole annotation event around a payload, to check it against the schema. */
const eventOf = (payload: unknown) => ({
  event_id: "01900000-0000-7000-8000-000000000000",
  tenant_id: "local",
  vendor_id: "unknown",
  session_id: "s",
  sequence_number: 1,
  captured_at: "2026-12-01T00:00:00.000000Z",
  consent_token: "local",
  sdk_version: "baton-proxy/0.1.0",
  event_type: "annotation",
  payload,
});

describe("parseAnnotateArguments", () => {
  test.each([
    [
      "a valid note passes unchanged",
      { intent: "find a file", signal_type: "dead_end", tool_name: "search" },
      { intent: "find a file", signal_type: "dead_end", tool_name: "search", context: null },
      [],
    ],
    [
      "a label outside the enum becomes other, the label kept",
      { intent: "x", signal_type: "confusing_error" },
      { signal_type: "other", context: { signal_type_given: "confusing_error" } },
      [
        '"signal_type" "confusing_error" is not one of failure, retry_loop, dead_end, parameter_confusion, slow_performance, abandonment, feature_gap, other; it was recorded as "other" with your label kept in context.signal_type_given.',
      ],
    ],
    [
      "the same words spelt differently map to the enum",
      { intent: "x", signal_type: "Retry Loop" },
      { signal_type: "retry_loop", context: { signal_type_given: "Retry Loop" } },
      ['"signal_type" "Retry Loop" was recorded as "retry_loop".'],
    ],
    [
      "a number where text belongs is recorded as text",
      { intent: 5 },
      { intent: "5" },
      ['"intent" was a number; it was recorded as text.'],
    ],
    [
      "a context that is not an object is kept",
      { intent: "x", context: "see above" },
      { context: { value: "see above" } },
      ['"context" was a string, not an object; it was kept under context.value.'],
    ],
    [
      "unknown fields are kept",
      { intent: "x", severity: 3 },
      { context: { unknown_fields: { severity: 3 } } },
      ["Unknown fields were kept under context.unknown_fields: severity."],
    ],
    [
      "a reactive note without intent is recorded without it",
      { signal_type: "failure", suggested_improvement: "say the unit" },
      { intent: null, signal_type: "failure", suggested_improvement: "say the unit" },
      [
        '"intent" was missing; the note was recorded without it (next time, say in one sentence what you are trying to achieve).',
      ],
    ],
    [
      "a bare string is the intent",
      "checking the invoices",
      { intent: "checking the invoices", context: null },
      ["The arguments were a bare string; it was recorded as the intent."],
    ],
    [
      "the agent's own context merges with ours",
      { intent: "x", signal_type: "bad", context: { step: 2 } },
      { context: { step: 2, signal_type_given: "bad" } },
      [expect.stringContaining('recorded as "other"')],
    ],
    [
      "the agent's own signal_type_given and unknown_fields keys are kept; ours take free keys, named in the notes",
      {
        intent: "x",
        signal_type: "weird",
        severity: 3,
        context: { signal_type_given: "mine", unknown_fields: "also mine", signal_type_given_2: "mine too" },
      },
      {
        context: {
          signal_type_given: "mine",
          unknown_fields: "also mine",
          signal_type_given_2: "mine too",
          unknown_fields_2: { severity: 3 },
          signal_type_given_3: "weird",
        },
      },
      [
        "Unknown fields were kept under context.unknown_fields_2: severity.",
        '"signal_type" "weird" is not one of failure, retry_loop, dead_end, parameter_confusion, slow_performance, abandonment, feature_gap, other; it was recorded as "other" with your label kept in context.signal_type_given_3.',
      ],
    ],
    [
      "a context key named __proto__ is kept as a key",
      { intent: "x", context: JSON.parse('{"__proto__":{"a":1}}') },
      { context: JSON.parse('{"__proto__":{"a":1}}') },
      [],
    ],
  ])("%s", (_name, args, payload, notes) => {
    const result = parseAnnotateArguments(args);
    if (!result.ok) throw new Error(result.problems.join("; "));
    expect(result.payload).toMatchObject({ ...payload, intent_source: "baton_annotate" });
    expect(result.notes).toEqual(notes);
    assertValidEvent(eventOf(result.payload));
  });

  test.each([
    ["missing", undefined, 'arguments must be an object with at least "intent" (got nothing)'],
    ["null", null, 'arguments must be an object with at least "intent" (got null)'],
    ["an array", ["x"], 'arguments must be an object with at least "intent" (got an array)'],
    ["a number", 5, 'arguments must be an object with at least "intent" (got a number)'],
    ["a boolean", true, 'arguments must be an object with at least "intent" (got a boolean)'],
    ["a blank string", "  ", 'arguments must be an object with at least "intent" (got a blank string)'],
    ["an empty object", {}, '"intent" is required'],
    ["only blanks", { intent: "  ", signal_type: "" }, '"intent" is required'],
  ])("nothing to record (%s) is refused with the reason", (_name, args, problem) => {
    const result = parseAnnotateArguments(args);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join()).toContain(problem);
  });
});

describe("withInstructionsSuffix", () => {
  test.each([
    ["no trailing whitespace", "Server text."],
    ["one newline", "Server text.\n"],
    ["three newlines", "Server text.\n\n\n"],
    ["spaces, tabs and CRLF", "Server text.  \t\r\n \r\n"],
  ])("exactly one blank line after the server's text (%s)", (_name, own) => {
    expect(withInstructionsSuffix(own)).toBe(`Server text.\n\n${INSTRUCTIONS_SUFFIX}`);
  });

  test("the server's text is otherwise unchanged (leading and inner whitespace kept)", () => {
    expect(withInstructionsSuffix("  Line one.\n\n  Line two.\n")).toBe(
      `  Line one.\n\n  Line two.\n\n${INSTRUCTIONS_SUFFIX}`,
    );
  });

  test.each([[undefined], [null], [""], [" \n "], [42]])("ours alone when the server has none (%j)", (own) => {
    expect(withInstructionsSuffix(own)).toBe(INSTRUCTIONS_SUFFIX);
  });
});
