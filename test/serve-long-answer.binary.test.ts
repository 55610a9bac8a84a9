// Black-box: a tool result far over the inspection cap through `serve` reaches the client unchanged while the proxy's memory stays bounded, and its call still gets its end event.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { waitFor } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const MiB = 1024 * 1024;
const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
const PIECES = 1024; // 256 MiB of result text
const encode = (text: string) => new TextEncoder().encode(text);
const head = (id: number) => encode(`{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"`);
const TAIL = encode('"}]}}');

let upstream: ReturnType<typeof Bun.serve>;
let proxy: ServeHandle;

/** The big answer, produced as the socket takes it. */
function bigAnswer(id: number): Response {
  let sent = -1;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const piece = sent === -1 ? head(id) : sent < PIECES ? PIECE : sent === PIECES ? TAIL : undefined;
        sent++;
        if (piece === undefined) controller.close();
        else controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { "content-type": "application/json" } });
}

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const message = (await request.json()) as { id?: number; method: string };
      if (message.id === undefined) return new Response(null, { status: 202 });
      if (message.method === "tools/call") return bigAnswer(message.id);
      const result = {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: "big", version: "1" },
      };
      return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s1" } });
    },
  });
  proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`], {
    BATON_CONSENT_TOKEN: "ct_big_answer_01",
  });
});

afterAll(async () => {
  await proxy.stop();
  upstream.stop(true);
});

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

/** The proxy's peak resident memory so far (Linux: VmHWM). */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return Number(line?.[1]) * 1024;
}

test("a 256 MiB tools/call answer in JSON: unchanged for the client, the proxy's peak memory far below it, the call ended from the answer's edges", async () => {
  const opened = await post({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });
  const session = opened.headers.get("mcp-session-id") ?? undefined;
  await opened.json();
  expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).status).toBe(202);
  const before = peakRss(proxy.process.pid);
  const answer = await post(
    { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "dump", arguments: {} } },
    session,
  );
  expect(answer.status).toBe(200);
  let size = 0;
  let first = "";
  let last = "";
  for await (const chunk of answer.body as ReadableStream<Uint8Array>) {
    if (first.length < 40) first += new TextDecoder().decode(chunk.subarray(0, 40));
    last = (last + new TextDecoder().decode(chunk.subarray(Math.max(0, chunk.length - 8)))).slice(-8);
    size += chunk.length;
  }
  expect(size).toBe(head(7).length + PIECES * PIECE.length + TAIL.length);
  expect(first).toStartWith('{"jsonrpc":"2.0","id":7,"result"');
  expect(last).toBe('xxx"}]}}');
  // Held whole it took 1.3 GB more (the answer and its copies); relayed, what the garbage collector leaves behind (~60 MiB).
  expect(peakRss(proxy.process.pid) - before).toBeLessThan(128 * MiB);
  await waitFor(() => proxy.events().some((e) => e.event_type === "tool_call_end"), "the call's end event");
  const events = readValidatedEvents(proxy.eventsFile);
  checkCallPairs(events);
  const ends = events.filter((e) => e.event_type === "tool_call_end");
  expect(ends.map((e) => e.payload.tool_name)).toEqual(["dump"]);
  expect(JSON.stringify(ends[0]?.payload.result)).toContain(
    "over the inspection limit; forwarded unchanged, not inspected",
  );
});
