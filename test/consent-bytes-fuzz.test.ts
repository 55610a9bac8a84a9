// Differential, seeded: cutting the `_meta` consent token from a generated message or batch's bytes leaves what stripping it from the parsed value leaves (an emptied `_meta` gone too), and every other byte as it was.

import { describe, expect, test } from "bun:test";
import { CONSENT_META_KEY, stripConsentMeta } from "../src/serve/consent.ts";
import { withoutMetaMember } from "../src/serve/consent-bytes.ts";
import { isObject } from "../src/wire/jsonrpc.ts";
import { jsonRpcLine, picker, stringLiteral, type Pick } from "./support/jsonrpc-fuzz.ts";

const CASES = 3000;

/** A message whose params._meta often holds the token (spelt with escapes, twice, first or last, alone or not). */
function messageWithToken(pick: Pick): string {
  const line = jsonRpcLine(pick);
  if (pick.chance(0.2)) return line;
  const token = `${stringLiteral(pick, CONSENT_META_KEY)}:${stringLiteral(pick, "ct_abcdefgh")}`;
  const others = ['"progressToken":1.0', '"a":{"_meta":{"baton/consent_token":"nested"}}', '"x":"}{"'].filter(() =>
    pick.chance(0.4),
  );
  const members = [...others];
  members.splice(pick.int(members.length + 1), 0, token);
  if (pick.chance(0.1)) members.splice(pick.int(members.length + 1), 0, token);
  const meta = `${stringLiteral(pick, "_meta")} : { ${members.join(pick.one([",", " , ", ",\n"]))} }`;
  const params = line.match(/"params"\s*:\s*\{/);
  if (params === null || params.index === undefined || !pick.chance(0.8))
    return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t",${meta}}}`;
  const at = params.index + params[0].length;
  const rest = line.slice(at).trimStart();
  return `${line.slice(0, at)}${meta}${rest.startsWith("}") ? "" : ","}${rest}`;
}

function body(pick: Pick): string {
  if (!pick.chance(0.2)) return messageWithToken(pick);
  const members = Array.from({ length: 1 + pick.int(3) }, () =>
    pick.chance(0.8) ? messageWithToken(pick) : pick.one(["1", '"x"', "[]", "null"]),
  );
  return `[${members.join(pick.one([",", " , "]))}]`;
}

/** The parsed body with the token stripped from each object's params._meta, as the route strips the parsed messages. */
function stripped(text: string): unknown {
  const value: unknown = JSON.parse(text);
  for (const message of Array.isArray(value) ? value : [value]) if (isObject(message)) stripConsentMeta(message);
  return value;
}

/** True when `part` is `whole` with some bytes left out (the rest in order, untouched). */
function isSubsequence(part: Uint8Array, whole: Uint8Array): boolean {
  let k = 0;
  for (let i = 0; i < whole.length && k < part.length; i++) if (whole[i] === part[k]) k++;
  return k === part.length;
}

describe("withoutMetaMember against stripping the parsed value", () => {
  test("generated messages and batches: the cut bytes parse to the stripped value, other bytes untouched", () => {
    const pick = picker(8128);
    let cut = 0;
    for (let n = 0; n < CASES; n++) {
      const text = body(pick);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue; // the route cuts only bodies that parse
      }
      const input = new TextEncoder().encode(text);
      const output = withoutMetaMember(input, CONSENT_META_KEY);
      if (output.length < input.length) cut++;
      const after = new TextDecoder().decode(output);
      // Key order aside (a key given twice keeps its first place in JSON.parse's object).
      expect({ text, after: JSON.parse(after) }).toEqual({ text, after: stripped(text) });
      expect({ text, kept: isSubsequence(output, input) }).toEqual({ text, kept: true });
      expect(parsed).toBeDefined();
    }
    expect(cut).toBeGreaterThan(CASES / 2);
  });
});
