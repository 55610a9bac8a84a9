// Unit: an upstream JSON answer over the inspection cap goes through serve's POST exchange as it arrives (the proxy holds a bounded part of it), unchanged, and still closes its call.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SessionExchange } from "../src/serve/exchange.ts";
import type { McpRouteDeps } from "../src/serve/mcp-relay.ts";
import { localAnswersFirst, relayLong } from "../src/serve/long-answer.ts";
import { exchangePost } from "../src/serve/mcp-post-exchange.ts";
import { createServeMetrics } from "../src/serve/serve-metrics.ts";
import type { SessionEntry } from "../src/serve/session-table.ts";
import { MAX_LINE_BYTES, type LineEdges } from "../src/wire/framing.ts";
import { classifyLine, encodeUtf8, type JsonRpcId, type Message } from "../src/wire/jsonrpc.ts";
import { createUpstreamDownLog } from "../src/serve/upstream-down-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const MiB = 1024 * 1024;
const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
const PIECES = 384; // 96 MiB of result text
const HEAD = encodeUtf8('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"');
const TAIL = encodeUtf8('"}]}}');
const SIZE = HEAD.length + PIECES * PIECE.length + TAIL.length;
const SSE_HEAD = encodeUtf8(`event: message\ndata: ${new TextDecoder().decode(HEAD)}`);
const SSE_TAIL = encodeUtf8(`${new TextDecoder().decode(TAIL)}\n\n`);

/** Bytes the upstream has handed to its socket so far, for the answer being sent. */
let produced = 0;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      produced = 0;
      let sent = -1;
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            const piece =
              sent === -1
                ? sse
                  ? SSE_HEAD
                  : HEAD
                : sent < PIECES
                  ? PIECE
                  : sent === PIECES
                    ? sse
                      ? SSE_TAIL
                      : TAIL
                    : undefined;
            sent++;
            // The SSE upstream then breaks its stream, once its answer is out.
            if (piece === undefined && sse) {
              await Bun.sleep(200);
              return controller.error(new Error("the upstream broke"));
            }
            if (piece === undefined) return controller.close();
            produced += piece.length;
            controller.enqueue(piece);
          },
        },
        { highWaterMark: 0 },
      );
      const headers: Record<string, string> = {
        "content-type": new URL(request.url).searchParams.has("sse") ? "text/event-stream" : "application/json",
      };
      // With a Content-Length (the HTTP/1.1 client streams bodies announced over 256 KiB) and chunked.
      const query = new URL(request.url).searchParams;
      const sse = query.has("sse");
      if (query.has("length")) headers["content-length"] = String(SIZE);
      // An error status with a JSON body (the 2026-07-28 era's protocol errors come so): read to see whether it is one.
      return new Response(body, { headers, status: query.has("error") ? 400 : 200 });
    },
  });
});

afterAll(() => upstream.stop(true));

function setup(query: string) {
  const ended: string[] = [];
  const longLines: LineEdges[] = [];
  const exchange: SessionExchange = {
    fromClient: (body) => ({ forward: body, answers: [] }),
    fromServer: () => undefined,
    fromServerLongLine: (edges) => void longLines.push(edges),
    upstreamFailed: (ids, _reason, kind) => void ended.push(`${ids.join(",")}:${kind}`),
    close: () => undefined,
    sweep: () => undefined,
    forPost: () => exchange,
  };
  const metrics = createServeMetrics({ sessionsOpen: () => 0, draining: () => false, eventsBySink: () => [] });
  const deps = {
    config: { upstream: new URL(`http://127.0.0.1:${upstream.port}/mcp${query}`), upstreamViaFetch: false },
    metrics,
    logger: createMemoryLogger(),
    downLog: createUpstreamDownLog(createMemoryLogger()),
    now: () => 5,
    streams: { add: () => () => undefined },
    answers: { add: () => () => undefined },
    keepOpen: () => undefined,
  } as unknown as McpRouteDeps;
  const entry: SessionEntry = { exchange, openedAt: 0, lastUsedAt: 0, active: 0, shared: false };
  const body = encodeUtf8(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "big", arguments: {} } }),
  );
  const line = classifyLine(body);
  const checked = {
    body,
    line,
    messages: line.kind === "message" ? [line.message as Message] : [],
    requestIds: [1 as JsonRpcId],
  };
  const request = new Request(`http://127.0.0.1/mcp${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body,
  });
  const hop = { remoteAddress: "127.0.0.1", proto: "http", host: "127.0.0.1" };
  const context = { remoteAddress: "127.0.0.1", consentToken: undefined, principal: undefined };
  const post = () => exchangePost(request, hop, deps, entry, checked, context, false);
  return { post, ended, longLines, entry, rendered: () => metrics.registry.render() };
}

describe("serve: a JSON answer over the inspection cap", () => {
  test.each([
    ["chunked", ""],
    ["with a Content-Length", "?length"],
  ])(
    "%s streams through with a bounded part of it held, unchanged, and its call closed from its edges",
    async (_name, query) => {
      const { post, ended, longLines, entry, rendered } = setup(query);
      const response = await post();
      expect(response.status).toBe(200);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let received = 0;
      let held = produced;
      let first: Uint8Array | undefined;
      let last: Uint8Array = new Uint8Array(0);
      let xs = 0;
      for (;;) {
        // What the upstream sent and the client has not yet had: in the proxy (and the sockets' buffers).
        held = Math.max(held, produced - received);
        const { value, done } = await reader.read();
        if (done) break;
        first ??= value.slice(0, HEAD.length);
        for (let i = 0; i < value.length; i++) if (value[i] === 0x78) xs++;
        last = value.slice(Math.max(0, value.length - TAIL.length));
        received += value.length;
      }
      expect(received).toBe(SIZE);
      expect(first).toEqual(HEAD);
      expect(last).toEqual(TAIL);
      expect(xs).toBe(PIECES * PIECE.length + 2); // and the x of "text" twice
      // The cap and the sockets' buffers, never the whole answer.
      expect(held).toBeLessThan(MAX_LINE_BYTES + 16 * MiB);
      expect(longLines.map((edges) => edges.size)).toEqual([SIZE]);
      expect(new TextDecoder().decode(longLines[0]?.head.subarray(0, 30))).toBe('{"jsonrpc":"2.0","id":1,"resul');
      expect(new TextDecoder().decode(longLines[0]?.tail)).toEndWith('xx"}]}}');
      // Ids the edges did not close are closed too (the exchange skips those already closed).
      expect(ended).toEqual(["1:evicted"]);
      expect(entry.active).toBe(0);
      // Counted as the engine reads it from the edges: a result.
      expect(rendered()).toContain('baton_tool_calls_total{outcome="ok"} 1');
    },
  );

  test("with an error status: passed on as it arrives, a bounded part of it held, the call ended as the status", async () => {
    const { post, ended, longLines } = setup("?error");
    const response = await post();
    expect(response.status).toBe(400);
    let received = 0;
    let held = produced;
    for await (const chunk of response.body as ReadableStream<Uint8Array>) {
      held = Math.max(held, produced - received);
      received += chunk.length;
    }
    expect(received).toBe(SIZE);
    expect(held).toBeLessThan(MAX_LINE_BYTES + 16 * MiB);
    expect(longLines).toEqual([]);
    expect(ended).toEqual(["1:upstream_http_400"]);
  });
});

test("an SSE answer over the cap closes its call from its edges; a stream that then breaks owes the client no error for it", async () => {
  const { post, ended, longLines, rendered } = setup("?sse");
  const response = await post();
  // The break reaches the client as a broken stream (nothing is owed): what came before it is the answer.
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as ReadableStream<Uint8Array>)
      text += decoder.decode(chunk, { stream: true });
  } catch {
    // the upstream's break, passed on
  }
  expect(text.length).toBe(SSE_HEAD.length + PIECES * PIECE.length + SSE_TAIL.length);
  expect(text).toEndWith('xx"}]}}\n\n'); // and no error event after it
  expect(longLines.map((edges) => new TextDecoder().decode(edges.head.subarray(0, 24)))).toEqual([
    '{"jsonrpc":"2.0","id":1,',
  ]);
  expect(ended).toEqual([]);
  expect(rendered()).toContain('baton_tool_calls_total{outcome="ok"} 1');
});

describe("the proxy's own answers to a batch whose upstream answer is over the cap", () => {
  const relayed = async (pieces: string[], local: unknown[]) => {
    const read = pieces.slice(0, 1).map(encodeUtf8);
    const rest = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces.slice(1)) controller.enqueue(encodeUtf8(piece));
        controller.close();
      },
    }).getReader();
    const frame = localAnswersFirst(read, local);
    const ends: LineEdges[] = [];
    const body = relayLong(read, rest, (_outcome, edges) => void ends.push(edges), frame);
    return { text: await new Response(body).text(), frame, ends };
  };

  test("come first in the JSON array: before one answer, or in the upstream's batch; its bytes otherwise untouched", async () => {
    const mine = { jsonrpc: "2.0", id: 9, result: {} };
    const one = await relayed(['\ufeff {"jsonrpc":"2.0",', '"id":1,"result":{}}'], [mine]);
    expect(JSON.parse(one.text)).toEqual([mine, { jsonrpc: "2.0", id: 1, result: {} }]);
    expect(one.text).toEndWith(',{"jsonrpc":"2.0","id":1,"result":{}}]');
    const batch = await relayed([' [{"id":1,"result":1},', '{"id":2,"result":2}]'], [mine]);
    expect(JSON.parse(batch.text)).toEqual([mine, { id: 1, result: 1 }, { id: 2, result: 2 }]);
    // The edges are the upstream's own bytes, whatever was put around them.
    expect(one.ends.map((edges) => edges.size)).toEqual([
      encodeUtf8('\ufeff {"jsonrpc":"2.0","id":1,"result":{}}').length,
    ]);
    // Neither an object nor an array: nothing to merge into, passed as it came.
    const odd = await relayed(["nonsense", "!"], [mine]);
    expect([odd.frame, odd.text]).toEqual([undefined, "nonsense!"]);
  });
});
