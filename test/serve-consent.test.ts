import { describe, expect, test } from "bun:test";
import { judgeConsent, mayCarryMetaToken, metaConsentToken, stripConsentMeta } from "../src/serve/consent.ts";

describe("judgeConsent", () => {
  test.each([
    ["absent", null, undefined, false, { kind: "absent" }],
    ["header", "ct_live_12345678", undefined, true, { kind: "token", token: "ct_live_12345678" }],
    ["header wins over _meta", "ct_header_1", "ct_meta_123", true, { kind: "token", token: "ct_header_1" }],
    ["_meta", null, "ct_meta_123", true, { kind: "token", token: "ct_meta_123" }],
    ["too short", "short", undefined, true, { kind: "rejected", reason: "malformed" }],
    ["too long", "x".repeat(513), undefined, true, { kind: "rejected", reason: "malformed" }],
    ["512 is fine", "x".repeat(512), undefined, true, { kind: "token", token: "x".repeat(512) }],
    ["space inside", "ct with space", undefined, true, { kind: "rejected", reason: "malformed" }],
    ["non-ASCII", "ct_tökén_123", undefined, true, { kind: "rejected", reason: "malformed" }],
    ["non-string _meta", null, 12345678, true, { kind: "rejected", reason: "malformed" }],
    ["placeholder with a remote sink", "local", undefined, true, { kind: "rejected", reason: "placeholder" }],
    ["placeholder with local sinks only", "local", undefined, false, { kind: "token", token: "local" }],
  ])("%s", (_name, header, meta, remote, expected) => {
    expect(judgeConsent(header as string | null, meta, remote as boolean)).toEqual(expected as never);
  });
});

describe("stripConsentMeta", () => {
  test("removes the key, and an emptied _meta; leaves other keys", () => {
    const only = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "x", _meta: { "baton/consent_token": "ct_12345678" } },
    };
    expect(metaConsentToken(only)).toBe("ct_12345678");
    expect(stripConsentMeta(only)).toBe(true);
    expect(only.params).toEqual({ name: "x" } as never);
    const mixed = {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { _meta: { progressToken: 7, "baton/consent_token": "ct_12345678" } },
    };
    expect(stripConsentMeta(mixed)).toBe(true);
    expect(mixed.params._meta).toEqual({ progressToken: 7 } as never);
    expect(stripConsentMeta({ jsonrpc: "2.0", method: "ping" })).toBe(false);
  });
});

describe("mayCarryMetaToken", () => {
  const body = (text: string) => new TextEncoder().encode(text);
  const bodies: readonly [string, string][] = [
    ["a plain call", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}'],
    ["other _meta keys", '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":7}}}'],
    ["the key", '{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"baton/consent_token":"ct_12345678"}}}'],
    [
      "the key, slash escaped",
      '{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"baton\\/consent_token":"ct_12345678"}}}',
    ],
    [
      "the key, spelt in \\u escapes",
      '{"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"baton/\\u0063onsent_token":"ct_12345678"}}}',
    ],
    [
      "a batch holding the key",
      '[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"method":"x","params":{"_meta":{"baton/consent_token":"ct_12345678"}}}]',
    ],
  ];
  test.each(bodies)("%s: false only when no message can carry a _meta token", (_name, text) => {
    const parsed: unknown = JSON.parse(text);
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    const carries = messages.some((m) => metaConsentToken(m) !== undefined);
    expect(mayCarryMetaToken(body(text))).toBe(carries);
  });
  test("reads only its own view of a larger buffer", () => {
    const whole = body('{"a":1}{"consent_token":1}');
    expect(mayCarryMetaToken(whole.subarray(0, 7))).toBe(false);
    expect(mayCarryMetaToken(whole.subarray(7))).toBe(true);
  });
});
