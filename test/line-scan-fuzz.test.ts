// Differential, seeded: whenever scanMethod reads a top-level method from a generated or mutated line that JSON.parse accepts, it is the parse's `method`, and the validating scan reads the same.

import { describe, expect, test } from "bun:test";
import { scanLineFacts } from "../src/wire/line-facts.ts";
import { scanMethod } from "../src/wire/line-scan.ts";
import { decodeUtf8 } from "../src/wire/utf8.ts";
import { jsonRpcLine, mutate, picker } from "./support/jsonrpc-fuzz.ts";

const CASES = 3000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What JSON.parse says the top-level method is: undefined for junk, a batch or a non-string method. */
function parsedMethod(body: Uint8Array): { parses: boolean; method: string | undefined } {
  try {
    const value: unknown = JSON.parse(decodeUtf8(body));
    const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
    const method = isObject ? (value as Record<string, unknown>).method : undefined;
    return { parses: true, method: typeof method === "string" ? method : undefined };
  } catch {
    return { parses: false, method: undefined };
  }
}

/** Counts the lines scanMethod answered for; fails on any answer a parse contradicts. */
function check(lines: Iterable<Uint8Array>): number {
  let answered = 0;
  for (const body of lines) {
    const scanned = scanMethod(body);
    if (scanned === undefined) continue;
    answered++;
    const line = decodeUtf8(body);
    const parsed = parsedMethod(body);
    // The scan does not validate (its callers only decide *when* to parse): junk lines may get an answer.
    if (parsed.parses) expect({ line, method: scanned }).toEqual({ line, method: parsed.method as string });
    const facts = scanLineFacts(body);
    if (facts !== undefined) expect({ line, method: scanned }).toEqual({ line, method: facts.method as string });
  }
  return answered;
}

function* generated(seed: number, mutated: boolean): Generator<Uint8Array> {
  const pick = picker(seed);
  for (let n = 0; n < CASES; n++) {
    const body = bytes(jsonRpcLine(pick));
    yield mutated ? mutate(pick, body) : body;
  }
}

describe("scanMethod against JSON.parse", () => {
  test("generated lines: any method it reads is the parse's", () => {
    expect(check(generated(11, false))).toBeGreaterThan(CASES / 4);
  });

  test("mutated lines: any method it reads from a line that parses is the parse's", () => {
    expect(check(generated(12, true))).toBeGreaterThan(CASES / 30);
  });
});
