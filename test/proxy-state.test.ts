// Unit tests for src/proxy/proxy-state.ts: serverLinesPassUnchanged, which lets a server line stream through before its newline (cut-through), must be false whenever an answer the proxy rewrites may come.

import { describe, expect, test } from "bun:test";
import {
  createProxyState,
  failPending,
  serverLinesPassUnchanged,
  sweepPending,
  type ProxyState,
} from "../src/proxy/transform.ts";
import { client, server } from "./support/transform-driver.ts";

const request = (id: number, method: string, params: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
});
const answer = (id: number, result: unknown = {}) => ({ jsonrpc: "2.0", id, result });
const fresh = (): ProxyState => createProxyState({ includeReportTool: false });
const TTL = 15 * 60_000;

describe("serverLinesPassUnchanged", () => {
  test("false exactly while an initialize, server/discover or tools/list awaits its answer", () => {
    const state = fresh();
    expect(serverLinesPassUnchanged(state)).toBe(true);
    client(state, request(1, "tools/call", { name: "echo" }));
    client(state, request(2, "resources/read", { uri: "x://y" }));
    expect(serverLinesPassUnchanged(state)).toBe(true);
    for (const [id, method] of [
      [3, "initialize"],
      [4, "server/discover"],
      [5, "tools/list"],
    ] as const) {
      client(state, request(id, method));
      expect(serverLinesPassUnchanged(state)).toBe(false);
    }
    server(state, answer(3, { protocolVersion: "2025-06-18", capabilities: { tools: {} } }));
    server(state, answer(4, { capabilities: { tools: {} } }));
    expect(serverLinesPassUnchanged(state)).toBe(false);
    server(state, answer(5, { tools: [] }));
    expect(serverLinesPassUnchanged(state)).toBe(true);
  });

  test("a JSON-RPC error ends the wait as an answer does", () => {
    const state = fresh();
    client(state, request(1, "tools/list"));
    server(state, { jsonrpc: "2.0", id: 1, error: { code: -32000, message: "no" } });
    expect(serverLinesPassUnchanged(state)).toBe(true);
  });

  test("a client reusing a tools/list's id for another request: the listing is no longer awaited; and the reverse", () => {
    const state = fresh();
    client(state, request(1, "tools/list"));
    client(state, request(1, "tools/call", { name: "echo" }));
    expect(serverLinesPassUnchanged(state)).toBe(true);
    client(state, request(1, "tools/list"));
    expect(serverLinesPassUnchanged(state)).toBe(false);
  });

  test("an evicted listing is no longer awaited, and its late answer does not hide the next one", () => {
    const state = fresh();
    client(state, request(1, "tools/list"), 0);
    sweepPending(state, TTL);
    expect(serverLinesPassUnchanged(state)).toBe(true);
    server(state, answer(1, { tools: [] }), TTL + 1); // late: forwarded, nothing owed
    client(state, request(2, "tools/list"), TTL + 2);
    expect(serverLinesPassUnchanged(state)).toBe(false);
  });

  test("after the server exits nothing is awaited; a listing of the next session is", () => {
    const state = fresh();
    client(state, request(1, "initialize"));
    client(state, request(2, "tools/list"));
    failPending(state, "upstream_exit", "gone", 1);
    expect(serverLinesPassUnchanged(state)).toBe(true);
    client(state, request(3, "tools/list"));
    expect(serverLinesPassUnchanged(state)).toBe(false);
  });

  test("a tools/list the proxy answers itself (a server without tools) is not awaited from the server", () => {
    const state = fresh();
    client(state, request(1, "initialize"));
    server(state, answer(1, { protocolVersion: "2025-06-18", capabilities: {} }));
    client(state, request(2, "tools/list"));
    expect(serverLinesPassUnchanged(state)).toBe(true);
  });
});
