// What JSON.parse reads from a line, for differential tests of the byte scans: the parse with its top-level id's source, every number kept as written, and each way scanLineFacts' facts differ from it.

import { parseEventValue } from "../../src/proxy/canonical-json.ts";
import { FACT, type LineFacts } from "../../src/wire/line-facts.ts";
import { decodeUtf8 } from "../../src/wire/utf8.ts";

export type Parsed = Record<string, unknown>;
export const isObject = (value: unknown): value is Parsed =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const has = (value: Parsed | undefined, key: string): boolean => value !== undefined && Object.hasOwn(value, key);
const RawJson = JSON as unknown as { rawJSON(text: string): unknown };

/** JSON.parse's reading of `text` (with the top-level id's source), or undefined when it throws. */
export function parse(text: string): { value: unknown; idSource: string | undefined } | undefined {
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

/** Every number kept as written when JSON.parse would write it back differently: what an event must record. */
export function asWritten(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined && String(value) !== context.source
      ? RawJson.rawJSON(context.source)
      : value,
  );
}

/**
 * Each way `facts`, scanLineFacts' reading of `body` (whose text is `text`), differ from the parse
 * (empty: they agree). Flags that only send a line down the full path may be set in doubt, never
 * missed; the ranges the fast path cuts out and parses alone must hold exactly the parsed values,
 * numbers as written.
 */
export function factDisagreements(body: Uint8Array, text: string, facts: LineFacts): string[] {
  const parsed = parse(text);
  if (parsed === undefined || !isObject(parsed.value)) return ["facts for a line that is no JSON object"];
  const { value, idSource } = parsed;
  const wrong: string[] = [];
  const same = (what: string, scanned: unknown, expected: unknown): void => {
    if (!Object.is(scanned, expected)) wrong.push(`${what}: scanned ${String(scanned)}, parsed ${String(expected)}`);
  };
  same("id", facts.id, value.id);
  if (typeof facts.id === "number" && idSource !== "-0") same("id text", String(facts.id), idSource);
  same("method", facts.method, value.method);
  same("hasResult", facts.hasResult, has(value, "result"));
  same("hasError", facts.hasError, has(value, "error"));
  same("resultIsObject", facts.resultIsObject, isObject(value.result));
  const params = isObject(value.params) ? value.params : undefined;
  const result = isObject(value.result) ? value.result : undefined;
  const flag = (bit: number): boolean => (facts.flags & bit) !== 0;
  if (has(value, "params") && params === undefined && !flag(FACT.PARAMS_NOT_OBJECT))
    wrong.push("PARAMS_NOT_OBJECT missed");
  if (flag(FACT.UNSURE)) return wrong; // the rest is not read when unsure
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
  const at = (start: number, end: number): string => {
    if (start < 0) return "absent";
    const range = body.subarray(start, end);
    return parse(decodeUtf8(range)) === undefined ? "<not JSON>" : JSON.stringify(parseEventValue(range));
  };
  const exact = asWritten(text) as Parsed;
  const exactParams = params === undefined ? undefined : (exact.params as Parsed);
  const exactResult = result === undefined ? undefined : (exact.result as Parsed);
  const was = (holder: Parsed | undefined, key: string): string =>
    has(holder, key) ? JSON.stringify(holder?.[key]) : "absent";
  same("arguments", at(facts.argumentsAt, facts.argumentsEnd), was(exactParams, "arguments"));
  same("argumentsIsObject", facts.argumentsIsObject, isObject(params?.arguments));
  same("_meta", at(facts.metaAt, facts.metaEnd), was(exactParams, "_meta"));
  same("metaIsObject", facts.metaIsObject, isObject(params?._meta));
  same(
    "result",
    at(facts.resultAt, facts.resultEnd),
    exactResult === undefined ? "absent" : JSON.stringify(exactResult),
  );
  same("content", at(facts.contentAt, facts.contentEnd), was(exactResult, "content"));
  same("contentIsArray", facts.contentIsArray, Array.isArray(result?.content));
  return wrong;
}
