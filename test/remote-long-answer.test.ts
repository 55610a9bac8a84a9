// Unit: `--url` passes a JSON answer over the inspection cap to the client's side as one line as it arrives (the proxy holds a bounded part of it), and knows its request answered.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { LongEventData } from "../src/wire/long-event.ts";
import { MAX_LINE_BYTES } from "../src/wire/framing.ts";
import { encodeUtf8 } from "../src/wire/jsonrpc.ts";
import { createTestUpstream } from "./support/remote-upstream.ts";

const MiB = 1024 * 1024;
const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
const PIECES = 384; // 96 MiB of result text
// Pretty-printed, as some servers write JSON: its line ends become spaces in the line.
const HEAD = encodeUtf8('{\n  "jsonrpc": "2.0",\n  "id": 1,\n  "result": {"content": [{"type": "text", "text": "');
const TAIL = encodeUtf8('"}]}\n}\n');
// An SSE event whose data runs over two data lines (joined by the spec with LF: a space in the line), CRLF line ends.
const SSE_HEAD = encodeUtf8(
  'event: message\r\nid: e-1\r\ndata: {"jsonrpc":"2.0","id":1,\r\ndata:"result": {"content": [{"type": "text", "text": "',
);
const SSE_TAIL = encodeUtf8('"}]}}\r\n\r\n');
const SMALL = '{"jsonrpc":"2.0","id":2,"result":{}}';

let produced = 0;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const message = (await request.json()) as { id: number; params: { name: string } };
      // Another request's answer arrives while the long one is going out: it must not land inside it.
      if (message.id === 2) return new Response(SMALL, { headers: { "content-type": "application/json" } });
      const sse = message.params.name === "sse";
      produced = 0;
      let sent = -1;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
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
            if (piece === undefined) return controller.close();
            produced += piece.length;
            controller.enqueue(piece);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
    },
  });
});

afterAll(() => upstream.stop(true));

test.each([
  ["a 96 MiB JSON answer", "json"],
  ["a 96 MiB SSE event", "sse"],
])(
  "%s becomes one line as it arrives, a bounded part of it held; a line of another answer waits for its end; its request is not failed",
  async (_name, tool) => {
    const origin = `http://127.0.0.1:${upstream.port}`;
    const remote = createTestUpstream(origin);
    const failures: unknown[] = [];
    remote.onRequestFailed?.((failure) => failures.push(failure));
    const call = (id: number) =>
      encodeUtf8(
        `${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: {} } })}\n`,
      );
    remote.input.write(call(1));
    const reader = remote.output.getReader();
    let received = 0;
    let held = 0;
    const lines: { size: number; head: string; tail: string }[] = [];
    let current = { size: 0, head: "", tail: "" };
    let sentSecond = false;
    while (lines.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      // What the upstream had sent when this piece came, less what the client had before it: held by the proxy (or the sockets).
      held = Math.max(held, produced - received);
      received += value.length;
      if (!sentSecond && received > 16 * MiB) {
        sentSecond = true;
        remote.input.write(call(2));
        await Bun.sleep(50); // its answer is back and waiting meanwhile
      }
      let from = 0;
      for (let nl = value.indexOf(0x0a); nl !== -1; nl = value.indexOf(0x0a, from)) {
        add(current, value.subarray(from, nl));
        lines.push(current);
        current = { size: 0, head: "", tail: "" };
        from = nl + 1;
      }
      add(current, value.subarray(from));
    }
    remote.close();
    await remote.release();
    // The cap and the sockets' buffers, never the whole answer.
    expect(held).toBeLessThan(MAX_LINE_BYTES + 16 * MiB);
    if (tool === "json") {
      // Every byte of the body, its line ends made spaces, then the line's own newline.
      expect(lines[0]?.size).toBe(HEAD.length + PIECES * PIECE.length + TAIL.length);
      expect(lines[0]?.head).toStartWith('{   "jsonrpc": "2.0",   "id": 1,');
      expect(lines[0]?.tail).toEndWith('xx"}]} } ');
    } else {
      // The data, its two lines joined by a space; no field, no line end of the event.
      const data = '{"jsonrpc":"2.0","id":1, "result": {"content": [{"type": "text", "text": "';
      expect(lines[0]?.size).toBe(data.length + PIECES * PIECE.length + '"}]}}'.length);
      expect(lines[0]?.head).toStartWith(data);
      expect(lines[0]?.tail).toEndWith('xx"}]}}');
    }
    expect(lines[1]).toEqual({ size: SMALL.length, head: SMALL, tail: SMALL });
    expect(failures).toEqual([]);
  },
);

function add(line: { size: number; head: string; tail: string }, piece: Uint8Array): void {
  line.size += piece.length;
  if (line.head.length < 64) line.head += new TextDecoder().decode(piece.subarray(0, 64));
  line.tail = (line.tail + new TextDecoder().decode(piece.subarray(Math.max(0, piece.length - 64)))).slice(-64);
}

test("a long event's data is read the same however its bytes are cut: fields skipped, one space dropped, data lines joined, any line ends; another type is dropped", () => {
  const cases: [string, string, boolean][] = [
    ['event: message\r\nid: 7\r\ndata: {"a":\r\ndata:1}\r\n\r\n', '{"a": 1}', false],
    ['id: 7\ndata:{"a":1}\n: comment\nretry: 5\n\n', '{"a":1}', false],
    ['data: {"a"\rdata:  :1}\r\r', '{"a"  :1}', false],
    ["event: progress\ndata: {}\n\n", "{}", true],
  ];
  for (const [event, data, dropped] of cases) {
    for (const size of [1, 2, 5, event.length]) {
      const reader = new LongEventData();
      let out = "";
      for (let i = 0; i < event.length; i += size)
        for (const bytes of reader.take(encodeUtf8(event.slice(i, i + size)))) out += new TextDecoder().decode(bytes);
      expect([out, reader.dropped]).toEqual([data, dropped]);
    }
  }
});

test("a 96 MiB event on the server's GET stream becomes one line as it arrives, a bounded part of it held", async () => {
  let streamed = 0;
  let gets = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method === "DELETE") return new Response(null);
      if (request.method === "GET") {
        if (gets++ > 0) return new Response(null, { status: 405 });
        let sent = -1;
        const head = encodeUtf8(
          'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"',
        );
        const body = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              const piece =
                sent === -1 ? head : sent < PIECES ? PIECE : sent === PIECES ? encodeUtf8('"}}\n\n') : undefined;
              sent++;
              if (piece === undefined) return controller.close();
              streamed += piece.length;
              controller.enqueue(piece);
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      const message = (await request.json()) as { id?: number };
      if (message.id === undefined) return new Response(null, { status: 202 });
      const result = { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "s", version: "1" } };
      return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s-1" } });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const remote = createTestUpstream(origin);
  const line = (message: unknown) => encodeUtf8(`${JSON.stringify(message)}\n`);
  remote.input.write(line({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} }));
  const reader = remote.output.getReader();
  let received = 0;
  let held = 0;
  let newlines = 0;
  let initialized = false;
  while (newlines < 2) {
    const { value, done } = await reader.read();
    if (done) break;
    held = Math.max(held, streamed - received);
    received += value.length;
    for (let at = value.indexOf(0x0a); at !== -1; at = value.indexOf(0x0a, at + 1)) newlines++;
    if (!initialized) {
      initialized = true;
      remote.input.write(line({ jsonrpc: "2.0", method: "notifications/initialized" }));
    }
  }
  remote.close();
  await remote.release();
  server.stop(true);
  expect(held).toBeLessThan(MAX_LINE_BYTES + 16 * MiB);
  expect(streamed).toBeGreaterThan(PIECES * PIECE.length);
  expect(newlines).toBe(2); // the handshake's answer, then the notification's line
});

test("old HTTP+SSE transport: a 96 MiB answer event becomes one line as it arrives, a bounded part of it held", async () => {
  let streamed = 0;
  let answer: ((id: number) => void) | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method === "GET" && path === "/mcp") {
        // The old transport: the endpoint first, then each answer as an event on this stream.
        const queue: Uint8Array[] = [encodeUtf8("event: endpoint\ndata: /messages\n\n")];
        let wake: (() => void) | undefined;
        answer = (id) => {
          const head = `event: message\ndata: {"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"`;
          queue.push(encodeUtf8(head));
          for (let i = 0; i < PIECES; i++) queue.push(PIECE);
          queue.push(encodeUtf8('"}]}}\n\n'));
          wake?.();
        };
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
              const piece = queue.shift() as Uint8Array;
              streamed += piece.length;
              controller.enqueue(piece);
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      if (path === "/mcp") return new Response(null, { status: 405 }); // no Streamable HTTP here
      const message = (await request.json()) as { id?: number };
      if (message.id !== undefined) answer?.(message.id);
      return new Response(null, { status: 202 });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const remote = createTestUpstream(origin);
  remote.input.write(encodeUtf8(`${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} })}\n`));
  const reader = remote.output.getReader();
  let received = 0;
  let held = 0;
  let newline = false;
  let head = "";
  while (!newline) {
    const { value, done } = await reader.read();
    if (done) break;
    held = Math.max(held, streamed - received);
    received += value.length;
    if (head.length < 40) head += new TextDecoder().decode(value.subarray(0, 40));
    newline = value.indexOf(0x0a) !== -1;
  }
  remote.close();
  await remote.release();
  server.stop(true);
  expect(head).toStartWith('{"jsonrpc":"2.0","id":0,"result"');
  expect(received).toBeGreaterThan(PIECES * PIECE.length);
  expect(held).toBeLessThan(MAX_LINE_BYTES + 16 * MiB);
});

test("a client side that stops reading midway (its stream cancelled) leaves no long answer waiting on it: the exchange finishes", async () => {
  const origin = `http://127.0.0.1:${upstream.port}`;
  const remote = createTestUpstream(origin);
  const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "json", arguments: {} } };
  remote.input.write(encodeUtf8(`${JSON.stringify(call)}\n`));
  const reader = remote.output.getReader();
  let received = 0;
  while (received < 16 * MiB) received += (await reader.read()).value?.length ?? Number.POSITIVE_INFINITY;
  await reader.cancel();
  // The rest of the answer is read and let go (nobody to write it to), and the POST ends.
  const size = HEAD.length + PIECES * PIECE.length + TAIL.length;
  while (produced < size) await Bun.sleep(10);
  remote.close();
  await remote.release();
  expect(produced).toBe(size);
});

test.each([
  ["a JSON answer", false],
  ["an SSE event without an event id", true],
])(
  "%s over the cap that breaks midway: its request's failure is reported before its line ends (the stdio side closes the call at the line's end)",
  async (_name, sse) => {
    // The break waits until the line is going out (the proxy read past the cap): the connection reset
    // that ends the body drops whatever the proxy had not read yet, and on a busy machine that could be
    // most of the 12 MiB, leaving a body broken under the cap (no line at all: a different case).
    let lineStarted!: () => void;
    const started = new Promise<void>((resolve) => (lineStarted = resolve));
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      async fetch(request) {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        let sent = -1;
        const head = `${sse ? "event: message\ndata: " : ""}{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"`;
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              sent++;
              if (sent === 0) controller.enqueue(encodeUtf8(head));
              else if (sent <= 48)
                controller.enqueue(PIECE); // 12 MiB: past the cap, the line is going out
              else {
                await started;
                controller.error(new Error("the server fell over"));
              }
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(body, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
      },
      error: () => new Response(null, { status: 500 }),
    });
    const origin = `http://127.0.0.1:${server.port}`;
    const remote = createTestUpstream(origin);
    const failures: { id: unknown; errorType: string }[] = [];
    remote.onRequestFailed?.((failure) => failures.push(failure));
    const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: {} } };
    remote.input.write(encodeUtf8(`${JSON.stringify(call)}\n`));
    const reader = remote.output.getReader();
    let failedAtLineEnd: unknown[] | undefined;
    while (failedAtLineEnd === undefined) {
      const { value, done } = await reader.read();
      if (done) break;
      lineStarted();
      // Read at once, as the stdio side reads: what it knows when the line's end reaches it.
      if (value.includes(0x0a)) failedAtLineEnd = failures.map((f) => f.id);
    }
    remote.close();
    await remote.release();
    server.stop(true);
    expect(failedAtLineEnd).toEqual([1]);
    expect(failures.map((f) => [f.id, f.errorType])).toEqual([
      [1, sse ? "upstream_stream_lost" : "upstream_unreachable"],
    ]);
  },
);
