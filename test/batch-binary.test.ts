// Black-box: JSON-RPC batches from the server through the compiled proxy: a batch of answers and a server→client batch of requests, byte for byte.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { SERVER_BATCH } from "./fixtures/servers/batch-server.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

test("server→client batches pass byte for byte both ways, and calls answered in a batch are observed", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("batch"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await p.request(1, "initialize", INIT_PARAMS);
  p.send({ jsonrpc: "2.0", method: "notifications/initialized" });

  // A batch of two calls: the server answers both in one unusually spaced batch line, relayed untouched.
  p.send([
    { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: { text: "first" } } },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { text: "second" } } },
  ]);
  const answers = await p.next<unknown[]>((m) => Array.isArray(m));
  expect(answers).toHaveLength(2);
  const reply = (id: number, text: string) =>
    JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } });
  expect(p.lines).toContain(`[ ${reply(2, "first")} , ${reply(3, "second")} ]`);

  // The server sends the client a batch (a request and a notification); the client answers in a batch.
  p.send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "ask_batch", arguments: {} } });
  await p.next((m) => Array.isArray(m) && m.some((member: { id?: unknown }) => member.id === "s-1"));
  expect(p.lines).toContain(SERVER_BATCH);
  const clientAnswer = '[{"jsonrpc":"2.0","id":"s-1","result":{}}]';
  p.send(`${clientAnswer}\n`);
  const asked = await p.next((m) => m.id === 4);
  expect(asked.result.content[0].text).toBe(clientAnswer); // what the server read, byte for byte

  expect(await p.close()).toBe(0);
  const all = readValidatedEvents(events);
  checkCallPairs(all);
  expect(all.map((e) => [e.event_type, e.payload.tool_name])).toEqual([
    ["tool_call_start", "echo"],
    ["tool_call_start", "echo"],
    ["tool_call_end", "echo"],
    ["tool_call_end", "echo"],
    ["tool_call_start", "ask_batch"],
    ["tool_call_end", "ask_batch"],
  ]);
});
