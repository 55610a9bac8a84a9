// Differential, seeded: every fact scanLineFacts reports for a generated or mutated JSON-RPC line is what JSON.parse reads from it, and it steps back ("unsure" or undefined) where it cannot be sure.

import { describe, expect, test } from "bun:test";
import { FACT, scanLineFacts, type LineFacts } from "../src/wire/line-facts.ts";
import { classifyLine, classifyText, type Classified } from "../src/wire/jsonrpc.ts";
import { decodeUtf8 } from "../src/wire/utf8.ts";
import { jsonRpcLine, mutate, picker } from "./support/jsonrpc-fuzz.ts";

const CASES = 3000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
type Parsed = Record<string, unknown>;
const isObject = (value: unknown): value is Parsed =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const has = (value: Parsed | undefined, key: string): boolean => value !== undefined && Object.hasOwn(value, key);

/** JSON.parse's reading of `text`, with the top-level id's source text; undefined when it throws. */
function parse(text: string): { value: unknown; idSource: string | undefined } | undefined {
  const sources = new Map<unknown, string>(); // holder → the source of its "id"
  try {
    const value: unknown = JSON.parse(text, function (this: unknown, key, value, context?: { source?: string }) {
      if (key === "id" && context?.source !== undefined) sources.set(this, context.source);
      return value;
    });
    return { value, idSource: sources.get(value) };
  } catch {
    return undefined;
  }
}

/** Each disagreement between the scan's facts and the parse, as text (empty: they agree). */
function disagreements(body: Uint8Array): string[] {
  const facts = scanLineFacts(body);
  if (facts === undefined) return [];
  const parsed = parse(decodeUtf8(body));
  if (parsed === undefined) return ["facts for a line JSON.parse refuses"];
  const { value, idSource } = parsed;
  if (!isObject(value)) return ["facts for a line that is not one object"];
  const wrong: string[] = [];
  const same = (what: string, scanned: unknown, expected: unknown): void => {
    if (!Object.is(scanned, expected)) wrong.push(`${what}: scanned ${String(scanned)}, parsed ${String(expected)}`);
  };
  same("id", facts.id, value.id);
  if (typeof facts.id === "number" && idSource !== undefined && idSource !== "-0")
    same("id text", String(facts.id), idSource);
  same("method", facts.method, value.method);
  same("hasResult", facts.hasResult, has(value, "result"));
  same("hasError", facts.hasError, has(value, "error"));
  same("resultIsObject", facts.resultIsObject, isObject(value.result));
  // Flags that only send a line down the full path may be set in doubt, never missed.
  const params = isObject(value.params) ? value.params : undefined;
  const result = isObject(value.result) ? value.result : undefined;
  const flag = (bit: number): boolean => (facts.flags & bit) !== 0;
  if (has(value, "params") && params === undefined && !flag(FACT.PARAMS_NOT_OBJECT))
    wrong.push("PARAMS_NOT_OBJECT missed");
  if (flag(FACT.UNSURE)) return wrong;
  same("name", facts.name, typeof params?.name === "string" ? params.name : undefined);
  same("PARAMS_META", flag(FACT.PARAMS_META), has(params, "_meta"));
  if ((has(params, "requestState") || has(params, "inputResponses")) && !flag(FACT.PARAMS_ROUND))
    wrong.push("PARAMS_ROUND missed");
  if (
    (has(result, "task") || (has(result, "resultType") && result?.resultType !== "complete")) &&
    !flag(FACT.RESULT_SPECIAL)
  )
    wrong.push("RESULT_SPECIAL missed");
  same("IS_ERROR_TRUE", flag(FACT.IS_ERROR_TRUE), result?.isError === true);
  same("RESULT_META", flag(FACT.RESULT_META), has(result, "_meta"));
  // The ranges the fast path cuts out and parses alone hold exactly the parsed values.
  const at = (start: number, end: number): string => {
    if (start < 0) return "absent";
    const range = parse(decodeUtf8(body.subarray(start, end)));
    return range === undefined ? "<not JSON>" : JSON.stringify(range.value);
  };
  const was = (holder: Parsed | undefined, key: string): string =>
    has(holder, key) ? JSON.stringify(holder?.[key]) : "absent";
  same("arguments", at(facts.argumentsAt, facts.argumentsEnd), was(params, "arguments"));
  same("argumentsIsObject", facts.argumentsIsObject, isObject(params?.arguments));
  same("_meta", at(facts.metaAt, facts.metaEnd), was(params, "_meta"));
  same("metaIsObject", facts.metaIsObject, isObject(params?._meta));
  same("result", at(facts.resultAt, facts.resultEnd), result === undefined ? "absent" : JSON.stringify(result));
  same("content", at(facts.contentAt, facts.contentEnd), was(result, "content"));
  same("contentIsArray", facts.contentIsArray, Array.isArray(result?.content));
  return wrong;
}

/** A classification as plain data (its value read, so a scanned message's lazy parse runs too). */
function plain(classified: Classified): unknown {
  if (classified.kind !== "message") return classified;
  const { message } = classified;
  return { ...message, value: message.value };
}

function check(body: Uint8Array): LineFacts | undefined {
  const line = decodeUtf8(body);
  const wrong = disagreements(body);
  if (wrong.length > 0) expect({ line, wrong }).toEqual({ line, wrong: [] });
  // The scanned path of classifyLine makes the message the full parse makes (kind, id, method, idText).
  expect({ line, classified: plain(classifyLine(body)) }).toEqual({ line, classified: plain(classifyText(line)) });
  return scanLineFacts(body);
}

describe("scanLineFacts against JSON.parse", () => {
  test("generated lines: every fact it reports is the parse's", () => {
    const pick = picker(20261202);
    let read = 0;
    for (let n = 0; n < CASES; n++) if (check(bytes(jsonRpcLine(pick))) !== undefined) read++;
    expect(read).toBeGreaterThan(CASES / 4); // it reads many itself, not only gives up
  });

  test("mutated lines (bytes dropped, inserted, replaced, cut, repeated): never facts for junk, never wrong facts", () => {
    const pick = picker(7);
    let read = 0;
    for (let n = 0; n < CASES; n++) if (check(mutate(pick, bytes(jsonRpcLine(pick)))) !== undefined) read++;
    expect(read).toBeGreaterThan(CASES / 20);
  });
});
