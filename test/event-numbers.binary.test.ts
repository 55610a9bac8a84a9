// Black-box: numbers JSON.parse would change (integers past 2^53, `1.0`, `-0`, `1E2`) reach the events as the client and server wrote them, on the plain path and on the one that strips intent params, and a card number written as a long integer is still redacted.

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { fixture, type ProxyProcess, startProxy, tempDir } from "./support/proxy-process.ts";

/** What the fixture writes into its answers (big-number-server.ts), as text. */
const SERVER_NUMBERS = `{"snowflake":18446744073709551615,"price":1.10,"zero":-0,"e":1E2}`;
/** Arguments a client writes: a Discord-style id past 2^53, a price with its trailing zero. */
const CLIENT_ARGS = `{"order":12345678901234567890,"price":1.10,"neg":-0}`;

let proxy: ProxyProcess | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function session(calls: readonly string[]): Promise<string[]> {
  const events = join(tempDir(), "events.jsonl");
  proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await proxy.request(0, "initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "numbers", version: "1" },
  });
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await proxy.request("list", "tools/list");
  calls.forEach((call, i) => proxy?.send(`{"jsonrpc":"2.0","id":${i + 1},"method":"tools/call","params":${call}}\n`));
  for (let i = 1; i <= calls.length; i++) await proxy.next((m) => m?.id === i);
  expect(await proxy.close()).toBe(0);
  proxy = undefined;
  readValidatedEvents(events); // every line still valid JSON and schema-valid
  return readFileSync(events, "utf8")
    .split("\n")
    .filter((line) => line.includes('"tool_call_'));
}

describe("event payloads keep numbers as written", () => {
  test("a plain call's params and its result (the path that reads lines without parsing them)", async () => {
    const [start, end] = await session([`{"name":"big","arguments":${CLIENT_ARGS}}`]);
    expect(start).toContain(`"params":${CLIENT_ARGS}`);
    expect(end).toContain(`"_meta":${SERVER_NUMBERS}`);
  });

  test("an answer too long for the byte scan (the path that parses it)", async () => {
    const [, end] = await session([`{"name":"bigpad","arguments":{}}`]);
    expect(end).toContain(`"_meta":${SERVER_NUMBERS}`);
  });

  test("a call whose intent params are stripped, and a JSON-RPC error's data", async () => {
    const args = `{"order":12345678901234567890,"user_goal":"find the order","price":1.10,"neg":-0}`;
    const [start, error] = await session([`{"name":"bigerr","arguments":${args}}`]);
    expect(start).toContain(`"params":${CLIENT_ARGS}`);
    expect(error).toContain(`"error_type":"jsonrpc_-32000"`);
    expect(JSON.parse(error as string).payload.error_body).toBe(`no (data: ${SERVER_NUMBERS})`);
  });

  test("a baton_annotate note's context", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    const context = '{"order":12345678901234567890,"ratio":0.50,"list":[1.0,2]}';
    proxy.send(
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"find an order","context":${context}}}}\n`,
    );
    await proxy.next((m) => m?.id === 1);
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    const [note] = readFileSync(events, "utf8")
      .split("\n")
      .filter((line) => line.includes('"annotation"'));
    expect(note).toContain(`"context":${context}`);
  });

  test("a resources/read's params", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    proxy.send(
      `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x://a","page":12345678901234567890}}\n`,
    );
    await proxy.next((m) => m?.id === 1);
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    readValidatedEvents(events);
    expect(readFileSync(events, "utf8")).toContain('"params":{"uri":"x://a","page":12345678901234567890}');
  });

  test("a JSON-RPC error's data in a resources/read's and a prompts/get's error event", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    proxy.send(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"x://err"}}\n`);
    proxy.send(`{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"bigerr"}}\n`);
    await proxy.next((m) => m?.id === 1);
    await proxy.next((m) => m?.id === 2);
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    readValidatedEvents(events);
    const errors = readFileSync(events, "utf8")
      .split("\n")
      .filter((line) => line.includes('"resource_read_error"') || line.includes('"prompt_get_error"'));
    expect(errors).toHaveLength(2);
    for (const line of errors) expect(JSON.parse(line).payload.error_body).toBe(`no (data: ${SERVER_NUMBERS})`);
  });

  test("a followed task's result, from its tasks/result answer and from a completed status notification", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    proxy.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bigtask","arguments":{},"task":{}}}\n`);
    await proxy.next((m) => m?.id === 1);
    proxy.send(`{"jsonrpc":"2.0","id":2,"method":"tasks/result","params":{"taskId":"T1"}}\n`);
    await proxy.next((m) => m?.id === 2);
    proxy.send(
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"bigtask2","arguments":{},"task":{}}}\n`,
    );
    await proxy.next((m) => m?.method === "notifications/tasks/status");
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    readValidatedEvents(events);
    const ends = readFileSync(events, "utf8")
      .split("\n")
      .filter((line) => line.includes('"tool_call_end"'));
    expect(ends).toHaveLength(2);
    for (const end of ends) expect(end).toContain(`"_meta":${SERVER_NUMBERS}`);
  });

  test("a card number written as an integer past 2^53 is redacted, not kept", async () => {
    const [start] = await session([`{"name":"big","arguments":{"card":4000000000000000006}}`]);
    expect(start).not.toContain("4000000000000000006");
    expect(start).not.toContain("400000000000000000"); // nor its rounded digits
    expect(JSON.parse(start as string).payload.params.card).toBe("[card]");
  });
});

describe("the proxy's own answers carry the client's id as written", () => {
  test("baton_annotate and baton_session_report called with ids 1.0, 1E2 and -0 (alone and in a batch)", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    const call = (idText: string, name: string) =>
      `{"jsonrpc":"2.0","id":${idText},"method":"tools/call","params":{"name":"${name}","arguments":{"intent":"x"}}}`;
    proxy.send(`${call("1.0", "baton_annotate")}\n`);
    proxy.send(`${call("1E2", "baton_session_report")}\n`);
    proxy.send(`[${call("2.0", "baton_annotate")},${call("-0", "baton_annotate")}]\n`);
    await proxy.next((m) => m?.id === 1);
    await proxy.next((m) => m?.id === 100);
    await proxy.next((m) => m?.id === 2);
    await proxy.next((m) => Object.is(m?.id, -0));
    const lines = proxy.lines.join("\n");
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    expect(lines.match(/"id":[^,]*/g)).toEqual(['"id":1.0', '"id":1E2', '"id":2.0', '"id":-0']);
  });
});

describe("requests whose ids one number stands for are kept apart", () => {
  test("calls 9007199254740993 and 9007199254740992 in flight together each end once (none evicted as a reused id)", async () => {
    const events = join(tempDir(), "events.jsonl");
    proxy = await startProxy(fixture("big-number"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    for (const id of ["9007199254740993", "9007199254740992", "1.0", "1"])
      proxy.send(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"big","arguments":{}}}\n`);
    // The fixture writes ids back as JavaScript does (rounded, 1.0 as 1): four answers, two ids.
    for (let k = 0; k < 4; k++) await proxy.next((m) => m?.id === 9007199254740992 || m?.id === 1);
    expect(await proxy.close()).toBe(0);
    proxy = undefined;
    const types = readValidatedEvents(events)
      .map((e) => e.event_type)
      .filter((t) => t.startsWith("tool_call_"));
    expect(types.toSorted()).toEqual([...Array(4).fill("tool_call_end"), ...Array(4).fill("tool_call_start")]);
  });
});
