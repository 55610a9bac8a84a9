// Differential, seeded: every fact scanLineFacts reports for a generated or mutated JSON-RPC line is what JSON.parse reads from it, and it steps back ("unsure" or undefined) where it cannot be sure.

import { describe, expect, test } from "bun:test";
import { scanLineFacts, type LineFacts } from "../src/wire/line-facts.ts";
import { classifyLine, classifyText, type Classified } from "../src/wire/jsonrpc.ts";
import { decodeUtf8 } from "../src/wire/utf8.ts";
import { jsonRpcLine, mutate, picker } from "./support/jsonrpc-fuzz.ts";
import { factDisagreements } from "./support/scan-oracle.ts";

const CASES = 3000;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** Each disagreement between the scan's facts and the parse, as text (empty: they agree). */
function disagreements(body: Uint8Array): string[] {
  const facts = scanLineFacts(body);
  return facts === undefined ? [] : factDisagreements(body, decodeUtf8(body), facts);
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
