// Unit tests for src/proxy/server-message.ts: a listing's start answered "method not found" (a server without tools) gets the proxy's own tools; other errors and other pages pass as they are; a status of a task no call turned into does nothing.

import { describe, expect, test } from "bun:test";
import { createProxyState, type Action } from "../src/proxy/transform.ts";
import { client, server } from "./support/transform-driver.ts";

const sent = (actions: Action[]) =>
  actions.flatMap((a) => (a.type === "send" ? [a.message as Record<string, unknown>] : []));
const forwarded = (actions: Action[]) => actions.filter((a) => a.type === "forward").length;
const list = (id: number, cursor?: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/list",
  params: cursor === undefined ? {} : { cursor },
});
const failed = (id: number, code: number) => ({ jsonrpc: "2.0", id, error: { code, message: "no" } });

describe("a tools/list answered with an error", () => {
  test("method not found (-32601) for a listing's start: the client gets the proxy's own tools instead", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, list(1));
    const actions = server(state, failed(1, -32601));
    expect(sent(actions)).toEqual([
      { jsonrpc: "2.0", id: 1, result: { tools: [expect.objectContaining({ name: "baton_annotate" })] } },
    ]);
    expect(forwarded(actions)).toBe(0);
  });

  test.each([
    ["another error (-32602) for a listing's start", undefined, -32602],
    ["method not found for a later page (a cursor)", "c2", -32601],
  ])("%s: forwarded as the server sent it", (_name, cursor, code) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, list(1, cursor));
    const actions = server(state, failed(1, code));
    expect(sent(actions)).toEqual([]);
    expect(forwarded(actions)).toBe(1);
  });
});

describe("a tools/list answer without a tools array", () => {
  test.each([
    ["tools is a string", { tools: "none today" }],
    ["no tools key", { nextCursor: "x" }],
  ])("%s: forwarded as the server sent it, not rewritten (nothing to add to)", (_name, result) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, list(1));
    const actions = server(state, { jsonrpc: "2.0", id: 1, result });
    expect(sent(actions)).toEqual([]);
    expect(forwarded(actions)).toBe(1);
  });
});

describe("task status notifications", () => {
  test("a status of a task no call turned into is forwarded, and nothing else is done", () => {
    const state = createProxyState({ includeReportTool: false });
    const status = {
      jsonrpc: "2.0",
      method: "notifications/tasks/status",
      params: { taskId: "unknown", status: "completed" },
    };
    const actions = server(state, status);
    expect(actions.map((a) => a.type)).toEqual(["forward"]);
  });
});
