// The _meta consent token cut from a body's bytes: every other byte as the client wrote it.

import { describe, expect, test } from "bun:test";
import { withoutMetaMember } from "../src/serve/consent-bytes.ts";

const KEY = "baton/consent_token";
const cut = (text: string) => new TextDecoder().decode(withoutMetaMember(new TextEncoder().encode(text), KEY));

describe("withoutMetaMember", () => {
  test.each([
    [
      "numbers and escapes kept as written",
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{"n":1.0,"big":12345678901234567890,"s":"caf\\u00e9"},"_meta":{"progressToken":1,"baton/consent_token":"ct_abcdefgh"}}}',
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":{"n":1.0,"big":12345678901234567890,"s":"caf\\u00e9"},"_meta":{"progressToken":1}}}',
    ],
    [
      "the key first, with spaces",
      '{ "id": 1, "method": "x", "params": { "_meta": { "baton/consent_token" : "ct_abcdefgh" , "a" : 1e2 } } }',
      '{ "id": 1, "method": "x", "params": { "_meta": { "a" : 1e2 } } }',
    ],
    [
      "an emptied _meta goes (first member)",
      '{"id":1,"method":"x","params":{"_meta":{"baton/consent_token":"ct_abcdefgh"},"n":1.50}}',
      '{"id":1,"method":"x","params":{"n":1.50}}',
    ],
    [
      "an emptied _meta goes (last member)",
      '{"id":1,"method":"x","params":{"n":1.50,"_meta":{"baton/consent_token":"ct_abcdefgh"}}}',
      '{"id":1,"method":"x","params":{"n":1.50}}',
    ],
    [
      "an emptied _meta that was all of params",
      '{"id":1,"method":"x","params":{"_meta":{"baton/consent_token":"ct_abcdefgh"}}}',
      '{"id":1,"method":"x","params":{}}',
    ],
    [
      "the key spelt with escapes, given twice (JSON.parse keeps the last: both go)",
      '{"id":1,"method":"x","params":{"_meta":{"baton\\/consent_token":"ct_1111111a","k":"}{","baton/\\u0063onsent_token":"ct_2222222b"}}}',
      '{"id":1,"method":"x","params":{"_meta":{"k":"}{"}}}',
    ],
    [
      "an _meta given twice, the last one emptied: the earlier one goes too (JSON.parse reads only the last)",
      '{"id":1,"method":"x","params":{"_meta":{"progressToken":1},"n":1.0,"_meta":{"baton/consent_token":"ct_abcdefgh"}}}',
      '{"id":1,"method":"x","params":{"n":1.0}}',
    ],
    [
      "a batch: each member cut, others untouched",
      '[{"jsonrpc":"2.0","method":"n","params":{"x":[1.0,{"_meta":{"baton/consent_token":"nested_is_kept"}}]}},{"id":2,"method":"x","params":{"_meta":{"p":2.0,"baton/consent_token":"ct_abcdefgh"}}}]',
      '[{"jsonrpc":"2.0","method":"n","params":{"x":[1.0,{"_meta":{"baton/consent_token":"nested_is_kept"}}]}},{"id":2,"method":"x","params":{"_meta":{"p":2.0}}}]',
    ],
    [
      "nothing to cut: the same bytes",
      '{"id":1,"method":"x","params":{"_meta":{"consent_token":"x"}}}',
      '{"id":1,"method":"x","params":{"_meta":{"consent_token":"x"}}}',
    ],
  ])("%s", (_name, body, expected) => {
    expect(cut(body)).toBe(expected);
    expect(JSON.parse(cut(body))).toEqual(JSON.parse(expected));
  });
});
