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
