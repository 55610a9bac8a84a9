// Unit tests for src/proxy/pending.ts: what an answered request leaves behind (nothing), progress tokens, and the bound on evicted ids.

import { describe, expect, test } from "bun:test";
import { tracksProgress } from "../src/proxy/pending.ts";
import { createProxyState, failPending, type Action } from "../src/proxy/transform.ts";
import { client, drafts, server } from "./support/transform-driver.ts";

const MiB = 1024 * 1024;
const call = (id: unknown, meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "echo", arguments: {}, ...(meta === undefined ? {} : { _meta: meta }) },
});
const answer = (id: unknown) => ({ jsonrpc: "2.0", id, result: { content: [] } });
const evictions = (actions: Action[]) =>
  drafts(actions).filter((d) => (d.payload as { error_type?: string }).error_type === "evicted").length;
const sentIds = (actions: Action[]) =>
  actions.flatMap((a) => (a.type === "send" ? [JSON.stringify((a.message as { id?: unknown }).id)] : []));

describe("an answered request leaves nothing behind", () => {
  test("its long id's characters are given back: 100 answered 1 MiB ids evict nothing, not even a call still waiting", () => {
    const state = createProxyState({ includeReportTool: false });
    let evicted = evictions(client(state, call("waiting")));
    for (let i = 0; i < 100; i++) {
      const id = `${"x".repeat(MiB)}${i}`;
      evicted += evictions(client(state, call(id)));
      server(state, answer(id));
    }
    expect(evicted).toBe(0);
    expect([...state.pending.keys()]).toEqual(["waiting"]);
  });

  test("its progress token no longer makes progress worth reading", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, { progressToken: "p" }));
    client(state, call(2));
    expect(tracksProgress(state)).toBe(true);
    server(state, answer(1));
    expect(tracksProgress(state)).toBe(false);
  });

  test("a token two requests share stays read until the one it names now is answered", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, call(1, { progressToken: "p" }));
    client(state, call(2, { progressToken: "p" }));
    server(state, answer(1));
    expect(tracksProgress(state)).toBe(true);
    server(state, answer(2));
    expect(tracksProgress(state)).toBe(false);
  });

  test("its id as written is forgotten: a later request of another spelling of that number is answered as it wrote it", () => {
    const state = createProxyState({ includeReportTool: false });
    const line = (id: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo"}}`;
    client(state, line("12345678901234567890"));
    server(state, '{"jsonrpc":"2.0","id":12345678901234567890,"result":{"content":[]}}');
    expect(state.idTexts.size).toBe(0);
    client(state, line("12345678901234567000")); // the same double, written as JavaScript writes it
    const sent = failPending(state, "upstream_exit", "gone", 1).flatMap((a) => (a.type === "send" ? [a.message] : []));
    expect(sent.map((message) => JSON.stringify(message))).toEqual([
      expect.stringContaining('"id":12345678901234567000,'),
    ]);
  });
});

describe("evicted ids still owed an answer", () => {
  test("are kept up to maxPending (the newest), and each gets its error when the server exits", () => {
    const state = createProxyState({ includeReportTool: false, maxPending: 2 });
    for (let i = 1; i <= 10; i++) client(state, call(i));
    expect([...state.pending.keys()]).toEqual([9, 10]);
    expect([...state.evictedIds.keys()]).toEqual([7, 8]);
    expect(sentIds(failPending(state, "upstream_exit", "gone", 1))).toEqual(["9", "10", "7", "8"]);
  });

  test("the log says so at the first eviction, then once per thousand (a stuck server must not flood it)", () => {
    const state = createProxyState({ includeReportTool: false, maxPending: 1 });
    const logs: string[] = [];
    for (let i = 0; i <= 2001; i++)
      for (const a of client(state, call(i))) if (a.type === "log" && a.level === "warn") logs.push(a.text);
    expect(logs).toEqual([
      "stopped tracking 1 request(s) so far: more than 1 requests awaiting the server",
      "stopped tracking 1000 request(s) so far: more than 1 requests awaiting the server",
      "stopped tracking 2000 request(s) so far: more than 1 requests awaiting the server",
    ]);
  });
});
