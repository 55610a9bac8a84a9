import { describe, expect, test } from "bun:test";
import { judgeConsent, metaConsentToken, stripConsentMeta } from "../src/serve/consent.ts";

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
