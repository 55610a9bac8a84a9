// Unit: `--url`'s server→client lines wait for the client: a server flooding its GET stream while the client reads nothing must not grow our memory.

import { describe, expect, test } from "bun:test";
import { MAX_IN_FLIGHT, MAX_QUEUED_OUTPUT_BYTES } from "../src/remote/http-upstream.ts";
import { createTestUpstream } from "./support/remote-upstream.ts";

const encoder = new TextEncoder();
const ORIGIN = "http://127.0.0.1:9";

/** An SSE event of a notification, about 4 KiB. */
const EVENT = encoder.encode(
  `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "z".repeat(4000) } })}\n\n`,
);

/** A server whose GET stream never ends (each pull gives one event) and counts what was taken from it. */
function floodingServer() {
  const taken = { bytes: 0 };
  const fetch = (async (_url: unknown, init?: RequestInit) => {
    const headers = { "mcp-session-id": "s1" };
    if (init?.method === "GET") {
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            await new Promise((resolve) => setImmediate(resolve)); // one event per turn, like a socket
            taken.bytes += EVENT.length;
            controller.enqueue(EVENT);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { ...headers, "content-type": "text/event-stream" } });
    }
    const message = JSON.parse(new TextDecoder().decode(init?.body as Uint8Array));
    if (message.id === undefined) return new Response(null, { status: 202, headers });
    const result = { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "s", version: "1" } };
    return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers });
  }) as typeof globalThis.fetch;
  return { fetch, taken };
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("--url output backpressure", () => {
  test("a GET stream flooding a client that reads nothing is read only while the client's queue has room", async () => {
    const server = floodingServer();
    const upstream = createTestUpstream(ORIGIN, server.fetch);
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } };
    upstream.input.write(encoder.encode(`${JSON.stringify(initialize)}\n`));
    upstream.input.write(
      encoder.encode(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`),
    );
    await turns(3000); // nothing reads upstream.output meanwhile
    const bound = MAX_QUEUED_OUTPUT_BYTES + 2 * EVENT.length;
    expect(server.taken.bytes).toBeGreaterThan(0); // the stream did open
    expect(server.taken.bytes).toBeLessThanOrEqual(bound);
    // Once the client reads, the stream goes on.
    const reader = upstream.output.getReader();
    for (let read = 0; read < MAX_QUEUED_OUTPUT_BYTES * 2; ) read += (await reader.read()).value?.length ?? 0;
    await turns(50);
    expect(server.taken.bytes).toBeGreaterThan(bound);
    reader.releaseLock();
    upstream.close();
    await upstream.release();
  });

  test("JSON answers to a client that reads nothing: the client's requests stop being read once MAX_IN_FLIGHT answers wait", async () => {
    const answer = { bytes: 0 };
    const text = "w".repeat(10_000);
    const fetch = (async (_url: unknown, init?: RequestInit) => {
      const headers = { "mcp-session-id": "s1" };
      if (init?.method !== "POST") return new Response(null, { status: 405, headers });
      const message = JSON.parse(new TextDecoder().decode(init?.body as Uint8Array));
      if (message.id === undefined) return new Response(null, { status: 202, headers });
      const body = JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text }] } });
      answer.bytes += body.length;
      return new Response(body, { headers: { ...headers, "content-type": "application/json" } });
    }) as typeof globalThis.fetch;
    const upstream = createTestUpstream(ORIGIN, fetch);
    const calls = 5000;
    let accepted = 0;
    // As the session's client pump does: write a line, then wait for flush() before reading on.
    for (; accepted < calls; accepted++) {
      const call = { jsonrpc: "2.0", id: accepted, method: "tools/call", params: { name: "t", arguments: {} } };
      upstream.input.write(encoder.encode(`${JSON.stringify(call)}\n`));
      const wait = upstream.input.flush();
      if (typeof wait === "number") continue;
      const outcome = await Promise.race([wait.then(() => "room"), turns(200).then(() => "blocked")]);
      if (outcome === "blocked") break;
    }
    expect(accepted).toBeLessThan(calls);
    expect(answer.bytes).toBeLessThanOrEqual(MAX_QUEUED_OUTPUT_BYTES + (MAX_IN_FLIGHT + 1) * 10_100);
    upstream.close();
    const reader = upstream.output.getReader(); // the close waits for nothing of ours
    void reader.cancel();
    await upstream.release();
  });
});
