// Unit tests for src/proxy/pending.ts: what an answered request leaves behind (nothing), progress tokens, and the bound on evicted ids.

import { describe, expect, test } from "bun:test";
import { tracksProgress } from "../src/proxy/pending.ts";
import {
  createProxyState,
  failPending,
  failRequests,
  fromServerLongLine,
  type Action,
} from "../src/proxy/transform.ts";
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
    expect(state.pending.size).toBe(0);
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

describe("requests are known by their id as written: ids one number stands for stay apart", () => {
  const line = (id: string, name: string) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`;
  /** Event type and tool name (and error type) of each draft. */
  const seen = (actions: Action[]) =>
    drafts(actions).map((d) => {
      const payload = d.payload as { tool_name?: string; error_type?: string };
      return [d.event_type, payload.tool_name, payload.error_type].filter((v) => v !== undefined);
    });
  const reply = (id: string) => `{"jsonrpc":"2.0","id":${id},"result":{"content":[]}}`;

  test.each([
    ["beyond 2^53", "9007199254740993", "9007199254740992"],
    ["1.0 and 1", "1.0", "1"],
    ["-0 and 0", "-0", "0"],
    ["1E2 and 100", "1E2", "100"],
    ['"\\u0000#1.0" (a string) and 1.0', '"\\u0000#1.0"', "1.0"],
  ])("%s: each answer closes its own call; none is evicted", (_name, first, second) => {
    const state = createProxyState({ includeReportTool: false });
    const started = [...client(state, line(first, "one"), 0), ...client(state, line(second, "two"), 1)];
    expect(drafts(started).map((d) => d.event_type)).toEqual(["tool_call_start", "tool_call_start"]);
    expect(seen(server(state, reply(second), 5))).toEqual([["tool_call_end", "two"]]);
    expect(seen(server(state, reply(first), 6))).toEqual([["tool_call_end", "one"]]);
    expect(state.pending.size).toBe(0);
  });

  test("a server exit answers each on its id as written; a cancellation ends only the call it names", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("9007199254740993", "one"));
    client(state, line("9007199254740992", "two"));
    client(state, line("1.0", "three"));
    const cancel = (id: string) => `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${id}}}`;
    expect(seen(client(state, cancel("9007199254740992")))).toEqual([["tool_call_error", "two", "cancelled"]]);
    const exit = failPending(state, "upstream_exit", "gone", 9);
    expect(
      exit.flatMap((a) => (a.type === "send" ? [JSON.stringify(a.message).match(/"id":[^,]*/)?.[0]] : [])),
    ).toEqual(['"id":9007199254740993', '"id":1.0']);
    expect(seen(exit)).toEqual([
      ["tool_call_error", "one", "upstream_exit"],
      ["tool_call_error", "three", "upstream_exit"],
    ]);
  });
});

describe("an answer whose id the server wrote back otherwise still closes its request, by value", () => {
  const line = (id: string, name: string) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`;
  const reply = (id: string) => `{"jsonrpc":"2.0","id":${id},"result":{"content":[]}}`;
  const ended = (actions: Action[]) =>
    drafts(actions).map((d) => `${d.event_type} ${(d.payload as { tool_name?: string }).tool_name}`);

  test.each([
    ["1.0 answered as 1 (JavaScript writes it so)", "1.0", "1"],
    ["digits beyond 2^53 answered rounded", "9007199254740993", "9007199254740992"],
    ["1 answered as 1.0", "1", "1.0"],
  ])("%s", (_name, asked, answered) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line(asked, "one"));
    expect(ended(server(state, reply(answered)))).toEqual(["tool_call_end one"]);
    expect(state.pending.size).toBe(0);
  });

  test("two ids one number stands for, both answered rounded: each call ends once", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("9007199254740993", "one"));
    client(state, line("9007199254740992", "two"));
    expect(ended(server(state, reply("9007199254740992")))).toEqual(["tool_call_end two"]);
    expect(ended(server(state, reply("9007199254740992")))).toEqual(["tool_call_end one"]);
    expect(state.pending.size).toBe(0);
  });

  test("a failure named by value (--url, serve) ends the request and answers it on its id as written", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("1.0", "one"));
    const actions = failRequests(state, [1], "upstream_unreachable", "down", 5);
    expect(ended(actions)).toEqual(["tool_call_error one"]);
    expect(
      actions.flatMap((a) => (a.type === "send" ? [JSON.stringify(a.message).match(/"id":[^,]*/)?.[0]] : [])),
    ).toEqual(['"id":1.0']);
  });

  test("a long answer's edges too", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("1.0", "one"));
    const actions = fromServerLongLine(
      state,
      '{"jsonrpc":"2.0","id":1,"result":{"content":[{"text":"xx',
      'xx"}]}}',
      9 * MiB,
      3,
    );
    expect(ended(actions)).toEqual(["tool_call_end one"]);
  });
});

describe("a server answer with neither result nor error (not JSON-RPC) ends its request at once", () => {
  const line = (id: string, name: string) =>
    `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`;

  test.each([
    ["a number id", "7", '{"jsonrpc":"2.0","id":7}'],
    ["a string id, other members", '"a"', '{"jsonrpc":"2.0","id":"a","outcome":{"content":[]}}'],
    ["an id written 1.0", "1.0", '{"id":1.0,"jsonrpc":"2.0"}'],
  ])("%s: a jsonrpc_invalid error, the bytes forwarded unchanged", (_name, id, answer) => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line(id, "one"));
    const actions = server(state, answer, 4);
    const [error] = drafts(actions);
    expect(error?.event_type).toBe("tool_call_error");
    expect(error?.payload).toMatchObject({
      tool_name: "one",
      error_type: "jsonrpc_invalid",
      error_body: "the server's answer has neither result nor error (not JSON-RPC); forwarded unchanged",
      duration_ms: 4,
    });
    const forwarded = actions.flatMap((a) => (a.type === "forward" ? [new TextDecoder().decode(a.bytes)] : []));
    expect(forwarded).toEqual([answer]);
    expect(state.pending.size).toBe(0);
  });

  test("nor one whose id no request awaits, a server request or other JSON", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("7", "one"));
    for (const junk of ['{"jsonrpc":"2.0","id":8}', '{"jsonrpc":"2.0","id":7,"method":7}', "[7]", '"x"', "{"])
      expect(drafts(server(state, junk, 4))).toEqual([]);
    expect(state.pending.size).toBe(1);
  });

  test("a batch member too", () => {
    const state = createProxyState({ includeReportTool: false });
    client(state, line("7", "one"));
    client(state, line("8", "two"));
    const actions = server(state, '[{"jsonrpc":"2.0","id":7},{"jsonrpc":"2.0","id":8,"result":{"content":[]}}]', 4);
    expect(drafts(actions).map((d) => d.event_type)).toEqual(["tool_call_error", "tool_call_end"]);
  });
});
