// `--url` against server-everything (streamableHttp): cancelling one request of a batch leaves the batch's other requests answered.

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

const longCall = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 2 } },
});

test("a batch of two calls, one cancelled: the other still gets its answer (its POST's stream is not let go) and ends as itself", async () => {
  const dir = tempDir();
  const events = join(dir, "e.jsonl");
  const proxy = await startProxy([], {
    args: ["--url", everything.url],
    env: { BATON_EVENT_SINK: `file://${events}` },
  });
  // 2025-03-26 is the last version with JSON-RPC batches; the SDK server answers a batch on one SSE stream.
  const init = await proxy.request(0, "initialize", {
    protocolVersion: "2025-03-26",
    capabilities: {},
    clientInfo: { name: "batching-client", version: "1.0.0" },
  });
  expect(init.result.protocolVersion).toBe("2025-03-26");
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  proxy.send([longCall(1), longCall(2)]);
  await Bun.sleep(200);
  proxy.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, reason: "only the first" } });
  const second = await proxy.next((m) => m?.id === 2 && !("method" in m));
  expect(second.result.content[0].text).toContain("Long running operation completed");
  // The cancelled request gets nothing: neither the server's answer nor an error of ours.
  expect(proxy.lines.some((line) => /"id":1[,}]/.test(line))).toBe(false);
  expect(await proxy.close()).toBe(0);
  const all = readValidatedEvents(events);
  checkCallPairs(all);
  const outcomes = all
    .filter((e) => e.event_type === "tool_call_end" || e.event_type === "tool_call_error")
    .map((e) => e.payload.error_type ?? "end");
  expect(outcomes.sort()).toEqual(["cancelled", "end"]);
  rmSync(dir, { recursive: true, force: true });
});
