// Black-box: a 2025-03-26 upstream answering a batch POST with one array over the 8 MiB inspection cap (a JSON body or one SSE event), through `serve` and `--url`: every call in it gets its own outcome from its own answer (none ends as evicted, proxy_shutdown or a second answer), and `/metrics` counts each once.

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { startProxy, tempDir } from "./support/proxy-process.ts";
import { waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const VERSION = "2025-03-26";
/** Over the cap, with braces and escaped quotes in its string (the member scan must not count them). */
const BIG = `{\\"}[${"h".repeat(9 * 1024 * 1024)}`;
const answer = (id: number, text: string, isError = false) =>
  `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${text}"}]${isError ? ',"isError":true' : ""}}}`;
const BATCH = [1, 2, 3].map((id) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: `t${id}`, arguments: {} },
}));
const ANSWERS = `[${answer(1, "small")},${answer(2, BIG)},${answer(3, "broke", true)}]`;

/** An upstream answering the handshake, and a batch with ANSWERS as a JSON body or one SSE event. */
function upstream(sse: boolean): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const body = (await request.json()) as { id?: number; method?: string } | unknown[];
      if (Array.isArray(body)) {
        const text = sse ? `event: message\ndata: ${ANSWERS}\n\n` : ANSWERS;
        return new Response(text, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
      }
      if (body.id === undefined) return new Response(null, { status: 202 });
      const result = { protocolVersion: VERSION, capabilities: { tools: {} }, serverInfo: { name: "b", version: "1" } };
      return Response.json({ jsonrpc: "2.0", id: body.id, result }, { headers: { "mcp-session-id": "s1" } });
    },
  });
}

/** Each call's outcome as its events give it, by tool name. */
function outcomes(events: ReturnType<typeof readValidatedEvents>): string[] {
  return events
    .filter((e) => e.event_type === "tool_call_end" || e.event_type === "tool_call_error")
    .map((e) => `${e.payload.tool_name}:${e.event_type === "tool_call_end" ? "end" : e.payload.error_type}`)
    .sort();
}

const EXPECTED = ["t1:end", "t2:end", "t3:tool_error"];
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe.each([
  ["a JSON body", false],
  ["one SSE event", true],
])("a batch answered over the inspection cap as %s", (_name, sse) => {
  test("serve: each call closed by its own answer, each counted once in /metrics", async () => {
    const server = upstream(sse);
    cleanup.push(async () => void server.stop(true));
    const proxy = await startServe(["--upstream", `http://127.0.0.1:${server.port}/mcp`]);
    cleanup.push(async () => void (await proxy.stop()));
    const post = (message: unknown, session?: string) =>
      fetch(proxy.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(session === undefined ? {} : { "mcp-session-id": session }),
        },
        body: JSON.stringify(message),
      });
    const params = { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: "raw", version: "1" } };
    const opened = await post({ jsonrpc: "2.0", id: 0, method: "initialize", params });
    const session = opened.headers.get("mcp-session-id") ?? undefined;
    await opened.text();
    await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).text();
    const answered = await post(BATCH, session);
    expect(answered.status).toBe(200);
    const text = await answered.text();
    expect(text).toContain(ANSWERS); // unchanged
    await waitFor(() => outcomes(readValidatedEvents(proxy.eventsFile)).length >= 3, "three outcomes");
    const events = readValidatedEvents(proxy.eventsFile);
    checkCallPairs(events);
    expect(outcomes(events)).toEqual(EXPECTED);
    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    const calls = metrics.split("\n").filter((line) => line.startsWith("baton_tool_calls_total{"));
    expect(calls.sort()).toEqual([
      'baton_tool_calls_total{outcome="ok"} 2',
      'baton_tool_calls_total{outcome="tool_error"} 1',
    ]);
  }, 30_000);

  test("--url: each call closed by its own answer, none answered a second time", async () => {
    const server = upstream(sse);
    cleanup.push(async () => void server.stop(true));
    const dir = tempDir();
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const eventsFile = join(dir, "events.jsonl");
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${eventsFile}` },
    });
    cleanup.push(async () => {
      proxy.proc.kill();
      await proxy.proc.exited;
    });
    await proxy.request(0, "initialize", {
      protocolVersion: VERSION,
      capabilities: {},
      clientInfo: { name: "c", version: "1" },
    });
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    proxy.send(BATCH);
    const got = await proxy.next((message) => Array.isArray(message), 20_000);
    expect(got.map((m: { id: number }) => m.id)).toEqual([1, 2, 3]);
    expect(await proxy.close()).toBe(0);
    // Nothing but the handshake's answer and the batch reached the client (no error for an id of the batch).
    expect(proxy.lines.filter((line) => line.trim() !== "").length).toBe(2);
    const events = readValidatedEvents(eventsFile);
    checkCallPairs(events);
    expect(outcomes(events)).toEqual(EXPECTED);
  }, 30_000);
});
