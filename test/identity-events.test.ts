import { describe, expect, test } from "bun:test";
import { hashUserId } from "../src/identity/user-id.ts";
import {
  createProxyState,
  fromClient,
  fromServer,
  type Action,
  type ProxyState,
  type RequestFacts,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";

const enc = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const client = (state: ProxyState, message: unknown, facts?: RequestFacts) => {
  const raw = enc(message);
  return fromClient(state, raw, classifyLine(raw), 0, facts);
};
const server = (state: ProxyState, message: unknown) => {
  const raw = enc(message);
  return fromServer(state, raw, classifyLine(raw), 0);
};
const drafts = (actions: Action[]) =>
  actions.filter((a): a is Extract<Action, { type: "emit" }> => a.type === "emit").map((a) => a.draft);
const call = (id: number, name: string, args: unknown = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const hashPrincipal: TransformOptions["hashPrincipal"] = (p) => hashUserId(p, "acme", "tenant-secret-key");

describe("user_id on events", () => {
  test("stdio: the session principal hashed on tool_call_* and annotation events, never raw", () => {
    const state = createProxyState({ includeReportTool: false, hashPrincipal, defaultPrincipal: { id: "U123" } });
    const actions = [
      ...client(state, call(1, "a", { user_goal: "g" })),
      ...server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } }),
      ...client(state, call(2, "baton_annotate", { intent: "x" })),
    ];
    expect(drafts(actions).map((d) => [d.event_type, d.user_id])).toEqual([
      ["annotation", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
      ["tool_call_start", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
      ["tool_call_end", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
      ["annotation", "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a"],
    ]);
    expect(JSON.stringify(actions)).not.toContain("U123");
  });

  test("hosted: each request's own principal wins; the end carries its start's user", () => {
    const state = createProxyState({ includeReportTool: false, hashPrincipal, defaultPrincipal: { id: "fallback" } });
    client(state, call(1, "a"), { principal: { id: "u123" } });
    client(state, call(2, "a"), { principal: { id: "other" } });
    const ends = [
      ...server(state, { jsonrpc: "2.0", id: 2, result: { content: [] } }),
      ...server(state, { jsonrpc: "2.0", id: 1, result: { content: [] } }),
    ];
    expect(drafts(ends).map((d) => d.user_id)).toEqual([
      hashUserId({ id: "other" }, "acme", "tenant-secret-key"),
      "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a",
    ]);
  });

  test("no key: no user_id, and per-request principals are noted in the log once", () => {
    const state = createProxyState({ includeReportTool: false });
    const actions = [
      ...client(state, call(1, "a"), { principal: { id: "u" } }),
      ...client(state, call(2, "a"), { principal: { id: "u" } }),
    ];
    expect(drafts(actions).map((d) => d.user_id)).toEqual([null, null]);
    expect(actions.filter((a) => a.type === "log")).toHaveLength(1);
  });
});
