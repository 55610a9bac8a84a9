// Unit: `--url`, lines of other answers that wait behind a long line being written are bounded: a server flooding a slow client does not grow the proxy's memory.

import { expect, test } from "bun:test";
import { encodeUtf8 } from "../src/wire/jsonrpc.ts";
import { createTestUpstream } from "./support/remote-upstream.ts";

const MiB = 1024 * 1024;
const LONG_PIECES = 256; // a 64 MiB answer, over the 8 MiB cap
const PIECE = new Uint8Array(256 * 1024).fill(0x78);
const HEAD = encodeUtf8('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"');
const TAIL = encodeUtf8('"}]}}');
const FLOOD_EVENTS = 64 * 1024; // 1 KiB progress notifications of call 2: 64 MiB in all
const note = (n: number) =>
  encodeUtf8(
    `data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":${n},"message":"${"p".repeat(960)}"}}\n\n`,
  );

test("while a slow client reads a long line, the server's other streams are not read on once 1 MiB of lines waits behind it", async () => {
  let flooded = 0;
  const ANSWER = '{"jsonrpc":"2.0","id":2,"result":{}}';
  let lineBytes = HEAD.length + LONG_PIECES * PIECE.length + TAIL.length + 1 + ANSWER.length + 1;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const message = (await request.json()) as { id: number };
      let sent = -1;
      if (message.id === 1) {
        const body = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              const piece = sent === -1 ? HEAD : sent < LONG_PIECES ? PIECE : sent === LONG_PIECES ? TAIL : undefined;
              sent++;
              if (piece === undefined) return controller.close();
              controller.enqueue(piece);
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(body, { headers: { "content-type": "application/json" } });
      }
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            sent++;
            if (sent === FLOOD_EVENTS) return controller.enqueue(encodeUtf8(`data: ${ANSWER}\n\n`));
            if (sent > FLOOD_EVENTS) return controller.close();
            const piece = note(sent);
            flooded += piece.length;
            lineBytes += piece.length - "data: ".length - 1; // its line: the data and one newline
            controller.enqueue(piece);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const remote = createTestUpstream(origin);
  const failures: unknown[] = [];
  remote.onRequestFailed?.((failure) => failures.push(failure));
  const call = (id: number) =>
    encodeUtf8(
      `${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "t", arguments: {} } })}\n`,
    );
  remote.input.write(call(1));
  const reader = remote.output.getReader();
  let received = 0;
  let first = await reader.read();
  received += first.value?.length ?? 0;
  while (received < 9 * MiB) {
    first = await reader.read();
    received += first.value?.length ?? 0;
  }
  // The long line is being written; the client reads it on (slowly: one piece at a time) while call 2's stream floods.
  remote.input.write(call(2));
  let newlines = 0;
  let floodedDuringLongLine = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const before = newlines;
    for (let at = value.indexOf(0x0a); at !== -1; at = value.indexOf(0x0a, at + 1)) newlines++;
    if (before === 0 && newlines > 0) floodedDuringLongLine = flooded;
    else if (newlines === 0) await Bun.sleep(1);
    received += value.length;
    if (newlines === FLOOD_EVENTS + 2) break;
  }
  remote.close();
  await remote.release();
  server.stop(true);
  // 1 MiB of waiting lines and the sockets' buffers, not the whole 64 MiB flood (read whole before the
  // bound: 70.7 MB). The loopback socket's receive buffer alone may grow to tcp_rmem's maximum (32 MiB
  // on the development machine; 16.1 MiB was seen once under load), so the margin is that, not less.
  expect(floodedDuringLongLine).toBeLessThan(40 * MiB);
  // The long line, every notification and call 2's answer.
  expect(newlines).toBe(FLOOD_EVENTS + 2);
  expect(received).toBe(lineBytes);
  expect(failures).toEqual([]);
});
