// `--url` against server-everything (streamableHttp): while the server waits for the client's own answer (elicitation, sampling), the call's silent stream is not the server's timeout.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { startProxy, tempDir } from "./support/proxy-process.ts";
import { startEverythingHttp, type RemoteServer } from "./support/remote-server.ts";

let everything: RemoteServer;

beforeAll(async () => {
  everything = await startEverythingHttp();
});

afterAll(async () => {
  await everything.stop();
});

test("a user who takes longer than BATON_UPSTREAM_TIMEOUT to answer an elicitation or a sampling request still gets the tool's result", async () => {
  const dir = tempDir();
  const events = join(dir, "e.jsonl");
  const proxy = await startProxy([], {
    args: ["--url", everything.url],
    env: { BATON_EVENT_SINK: `file://${events}`, BATON_UPSTREAM_TIMEOUT: "0.4" },
  });
  await proxy.request(0, "initialize", {
    protocolVersion: "2025-11-25",
    capabilities: { elicitation: { form: {} }, sampling: {} },
    clientInfo: { name: "slow-human", version: "1.0.0" },
  });
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await proxy.request(1, "tools/list");

  // The server's request arrives on the call's stream; the person answers after 3 of the proxy's timeouts.
  proxy.send({
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "trigger-elicitation-request", arguments: {} },
  });
  const elicitation = await proxy.next((m) => m?.method === "elicitation/create");
  await Bun.sleep(1_200);
  proxy.send({ jsonrpc: "2.0", id: elicitation.id, result: { action: "decline" } });
  const elicited = await proxy.next((m) => m?.id === 2 && !("method" in m));
  expect(elicited.error).toBeUndefined();
  expect(JSON.stringify(elicited.result)).toContain("decline");

  proxy.send({
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "trigger-sampling-request", arguments: { prompt: "p", maxTokens: 5 } },
  });
  const sampling = await proxy.next((m) => m?.method === "sampling/createMessage");
  await Bun.sleep(1_200);
  proxy.send({
    jsonrpc: "2.0",
    id: sampling.id,
    result: { role: "assistant", model: "m", stopReason: "endTurn", content: { type: "text", text: "approved late" } },
  });
  const sampled = await proxy.next((m) => m?.id === 3 && !("method" in m));
  expect(sampled.error).toBeUndefined();
  expect(JSON.stringify(sampled.result)).toContain("approved late");

  expect(await proxy.close()).toBe(0);
  const all = readValidatedEvents(events);
  checkCallPairs(all);
  expect(all.filter((e) => e.event_type === "tool_call_end").map((e) => e.payload.tool_name)).toEqual([
    "trigger-elicitation-request",
    "trigger-sampling-request",
  ]);
  rmSync(dir, { recursive: true, force: true });
});

test("a call whose stream stays silent past BATON_UPSTREAM_TIMEOUT gets one error answer, not two", async () => {
  const dir = tempDir();
  const events = join(dir, "e.jsonl");
  const proxy = await startProxy([], {
    args: ["--url", everything.url],
    env: { BATON_EVENT_SINK: `file://${events}`, BATON_UPSTREAM_TIMEOUT: "0.4" },
  });
  await proxy.request(0, "initialize", {
    protocolVersion: "2025-11-25",
    capabilities: {},
    clientInfo: { name: "impatient", version: "1.0.0" },
  });
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  // No progress token: the server says nothing on the call's stream for 2 s.
  const silent = await proxy.request(5, "tools/call", {
    name: "trigger-long-running-operation",
    arguments: { duration: 2, steps: 1 },
  });
  expect(silent.error.data["baton/error_type"]).toBe("upstream_timeout");
  // A round trip after the first answer: a second answer to id 5 would have come before this one.
  await proxy.request(6, "ping");
  const answersTo5 = proxy.lines.filter((line) => {
    const message = JSON.parse(line);
    return message.id === 5 && !("method" in message);
  });
  expect(answersTo5).toHaveLength(1);
  expect(await proxy.close()).toBe(0);
  const errors = readValidatedEvents(events).filter((e) => e.event_type === "tool_call_error");
  expect(errors.map((e) => e.payload.error_type)).toEqual(["upstream_timeout"]);
  rmSync(dir, { recursive: true, force: true });
});
