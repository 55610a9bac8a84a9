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

/** The big answer, produced as the socket takes it: a JSON body, or one SSE event. */
function bigAnswer(id: number, sse: boolean): Response {
  const first = sse ? encode(`event: message\ndata: ${new TextDecoder().decode(head(id))}`) : head(id);
  const last = sse ? encode('"}]}}\n\n') : TAIL;
  let sent = -1;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const piece = sent === -1 ? first : sent < PIECES ? PIECE : sent === PIECES ? last : undefined;
        sent++;
        if (piece === undefined) controller.close();
        else controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
}

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const message = (await request.json()) as { id?: number; method: string; params?: { name?: string } };
      if (message.id === undefined) return new Response(null, { status: 202 });
      if (message.method === "tools/call") return bigAnswer(message.id, message.params?.name === "dump-sse");
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

let session: string | undefined;

test.each([
  ["JSON", "dump"],
  ["an SSE event", "dump-sse"],
])(
  "a 256 MiB tools/call answer as %s: unchanged for the client, the proxy's peak memory far below it, the call ended from the answer's edges",
  async (_name, tool) => {
    if (session === undefined) {
      const opened = await post({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
      });
      session = opened.headers.get("mcp-session-id") ?? undefined;
      await opened.json();
      expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).status).toBe(202);
    }
    const sse = tool === "dump-sse";
    const before = peakRss(proxy.process.pid);
    const answer = await post(
      { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: tool, arguments: {} } },
      session,
    );
    expect(answer.status).toBe(200);
    let size = 0;
    let first = "";
    let last = "";
    for await (const chunk of answer.body as ReadableStream<Uint8Array>) {
      if (first.length < 60) first += new TextDecoder().decode(chunk.subarray(0, 60));
      last = (last + new TextDecoder().decode(chunk.subarray(Math.max(0, chunk.length - 10)))).slice(-10);
      size += chunk.length;
    }
    // A stream whose first bytes are late gets the proxy's comment first (sse-relay.ts HEAD_COMMIT_MS).
    const comment = sse && first.startsWith(":\n\n") ? 3 : 0;
    const framing = sse ? "event: message\ndata: ".length + 2 : 0;
    expect(size - comment).toBe(head(7).length + PIECES * PIECE.length + TAIL.length + framing);
    expect(first.slice(comment)).toStartWith(`${sse ? "event: message\ndata: " : ""}{"jsonrpc":"2.0","id":7,"result"`);
    expect(last).toBe(`xxxxxxx"}]}}${sse ? "\n\n" : ""}`.slice(-10));
    // Held whole it took 1.3 GB more (the answer and its copies); relayed, what the garbage collector leaves behind (~60 MiB).
    expect(peakRss(proxy.process.pid) - before).toBeLessThan(128 * MiB);
    const ended = () => proxy.events().filter((e) => e.event_type === "tool_call_end");
    await waitFor(() => ended().some((e) => (e.payload as { tool_name: string }).tool_name === tool), "the call's end");
    const events = readValidatedEvents(proxy.eventsFile);
    checkCallPairs(events);
    const end = events.find((e) => e.event_type === "tool_call_end" && e.payload.tool_name === tool);
    expect(JSON.stringify(end?.payload.result)).toContain(
      "over the inspection limit; forwarded unchanged, not inspected",
    );
    expect(end?.runtime_meta["baton/truncated"]).toBe(1); // the placeholder is a cut, as in stdio and --url
  },
);
