import { describe, expect, test } from "bun:test";
import { createProxyState } from "../src/proxy/transform.ts";
import { client, drafts, server } from "./support/transform-driver.ts";

/** A JSON value nested `depth` objects deep, as text (JSON.parse reads it; recursive walks overflow the stack). */
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const DEPTH = 100_000;

const call = (id: number, method = "tools/call", params: unknown = { name: "t", arguments: {} }) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
});
const outcomes = (actions: ReturnType<typeof server>) =>
  drafts(actions).map((d) => [d.event_type, (d.payload as Record<string, unknown>).error_type ?? null]);

describe("answers nested deeper than the stack", () => {
  test("a JSON-RPC error whose data is nested 100 000 deep still ends its call with tool_call_error", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1));
    const actions = server(
      state,
      `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nope","data":${deep(DEPTH)}}}`,
    );
    expect(outcomes(actions)).toEqual([["tool_call_error", "jsonrpc_-32000"]]);
    const body = String((drafts(actions)[0]?.payload as Record<string, unknown> | undefined)?.error_body);
    expect(body.startsWith("nope")).toBe(true);
  });

  test("an isError result whose content is nested 100 000 deep still ends its call with tool_call_error", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1));
    const actions = server(state, `{"jsonrpc":"2.0","id":1,"result":{"isError":true,"content":${deep(DEPTH)}}}`);
    expect(outcomes(actions)).toEqual([["tool_call_error", "tool_error"]]);
  });

  test("a resources/read error whose data is nested 100 000 deep still ends its read with resource_read_error", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, "resources/read", { uri: "file:///x" }));
    const actions = server(
      state,
      `{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"gone","data":${deep(DEPTH)}}}`,
    );
    expect(outcomes(actions)).toEqual([["resource_read_error", "jsonrpc_-32002"]]);
  });
});

describe("handshake and tools/list answers nested deeper than the proxy rewrites", () => {
  const HANDSHAKE = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18" } };
  /** `extra` goes inside `result`; 1.5 makes the parse keep numbers as written (the reviver's walk). */
  const handshake = (extra = "") =>
    `{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"deep","version":"1"},"instructions":"hi","f":1.5${extra}}}`;
  const listing = (id: number, extra = "") =>
    `{"jsonrpc":"2.0","id":${id},"result":{"tools":[{"name":"t","inputSchema":{"type":"object","f":1.5${extra}}}]}}`;
  const arrays = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
  const logs = (actions: ReturnType<typeof server>) =>
    actions.flatMap((a) => (a.type === "log" ? [`${a.level}: ${a.text}`] : []));
  const forwarded = (actions: ReturnType<typeof server>) =>
    actions.flatMap((a) => (a.type === "forward" ? [new TextDecoder().decode(a.bytes)] : []));
  const snapshots = (actions: ReturnType<typeof server>) =>
    drafts(actions).filter((d) => d.event_type === "surface_snapshot");

  test("a handshake 100 000 levels deep goes as it came, said plainly; no listing is snapshotted without its facts", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, HANDSHAKE);
    const text = handshake(`,"x":${arrays(DEPTH)}`);
    const actions = server(state, text);
    expect(forwarded(actions)).toEqual([text]);
    expect(logs(actions)).toEqual([
      "warn: the server's initialize answer nests deeper than 1000 levels: passed on as it came, without the proxy's additions, and no surface snapshot taken from it (further ones are not logged)",
    ]);
    client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(snapshots(server(state, listing(1)))).toEqual([]);
  });

  test("a listing 100 000 levels deep goes as it came, logged once; the next plain listing is snapshotted as usual", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, HANDSHAKE);
    server(state, handshake());
    const deepList = listing(1, `,"x":${arrays(DEPTH)}`);
    client(state, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const first = server(state, deepList);
    expect(forwarded(first)).toEqual([deepList]);
    expect(logs(first)).toHaveLength(1);
    expect(logs(first)[0]).toContain("tools/list answer nests deeper than 1000 levels: passed on as it came");
    expect(snapshots(first)).toEqual([]);
    client(state, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    const again = server(state, listing(2, `,"x":${arrays(DEPTH)}`));
    expect(logs(again)).toEqual([]);
    client(state, { jsonrpc: "2.0", id: 3, method: "tools/list" });
    const plain = snapshots(server(state, listing(3, `,"x":${arrays(900)}`)));
    expect(plain).toHaveLength(1);
    expect((plain[0]?.payload as Record<string, unknown> | undefined)?.server_info).toEqual({
      name: "deep",
      version: "1",
    });
  });
});
