// `--url` against a real SDK v2 server (createMcpHandler): a 2026-07-28 `subscriptions/listen` stream stays open however long it is quiet.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { startProxy, tempDir } from "./support/proxy-process.ts";
import { startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";

let server: RemoteServer;

beforeAll(async () => {
  server = await startRemoteFixture([], "modern-http");
});

afterAll(async () => {
  await server.stop();
});

const modernMeta = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name: "listening-client", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

test("a quiet subscriptions/listen stream is not the server's timeout: it stays open past BATON_UPSTREAM_TIMEOUT, as the SDK client expects (it never re-listens)", async () => {
  const dir = tempDir();
  const events = join(dir, "e.jsonl");
  const proxy = await startProxy([], {
    args: ["--url", server.url],
    env: { BATON_EVENT_SINK: `file://${events}`, BATON_UPSTREAM_TIMEOUT: "0.4" },
  });
  proxy.send({
    jsonrpc: "2.0",
    id: 1,
    method: "subscriptions/listen",
    params: { _meta: modernMeta, notifications: { toolsListChanged: true } },
  });
  const ack = await proxy.next((m) => m?.method === "notifications/subscriptions/acknowledged");
  expect(ack.params.notifications).toEqual({ toolsListChanged: true });
  // Three of the proxy's idle deadlines: directly, the stream is still open (the server sends nothing more).
  await Bun.sleep(1_200);
  const sum = await proxy.request(2, "tools/call", { name: "add", arguments: { a: 2, b: 3 }, _meta: modernMeta });
  expect(sum.result.content[0].text).toBe("5");
  const answersToListen = proxy.lines.filter((line) => {
    const message = JSON.parse(line);
    return message.id === 1 && !("method" in message);
  });
  expect(answersToListen).toEqual([]);
  await proxy.close();
  const errors = readValidatedEvents(events).filter((e) => e.event_type === "tool_call_error");
  expect(errors).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});
