// serve relays an SSE answer's head as soon as the upstream sends it, not only with the first event (Bun withholds a head until its body's first bytes).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

let upstream: Server;
let proxy: ServeHandle;
/** The upstream's open stream sockets, in arrival order: the test writes their events. */
const held: Socket[] = [];

beforeAll(async () => {
  // A raw HTTP/1.1 upstream: every request gets an SSE head at once (as SDK servers flushHeaders a GET stream) and no event until the test writes one.
  upstream = createServer((socket) => {
    // The proxy drops a stream whose client left: a reset here is expected.
    socket.on("error", () => undefined);
    socket.once("data", () => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      held.push(socket);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const port = (upstream.address() as { port: number }).port;
  proxy = await startServe(["--upstream", `http://127.0.0.1:${port}/mcp`]);
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  expect(await proxy.stop()).toBe(0);
  await new Promise((resolve) => upstream.close(resolve));
});

/** Sends `head` to the proxy; resolves with the socket once the whole response head has arrived, and the bytes after it. */
function openUntilHead(head: string): Promise<{ socket: Socket; after: () => string }> {
  const url = new URL(proxy.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let text = "";
    let found = false;
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (!found && end !== -1) {
        found = true;
        resolve({ socket, after: () => text.slice(end + 4) });
      }
    });
    socket.on("error", reject);
    socket.write(head);
  });
}

const event =
  'id: 1\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n\n';

/** The payload of a chunked body received so far (whole chunks only). */
function dechunk(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf("\r\n", at);
    if (lineEnd === -1) return out;
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (!(size > 0) || text.length < lineEnd + 2 + size) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 4 + size;
  }
}

test.each([
  ["GET stream", "GET /mcp HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nmcp-session-id: s1\r\n\r\n"],
  [
    "POST answered as SSE",
    (() => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow" } });
      return `POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    })(),
  ],
])("%s: the client gets the head while the upstream has sent no event yet, then the event", async (_name, head) => {
  const before = held.length;
  // Resolves only if the head arrives while the upstream still holds its first event (it waits for this test).
  const { socket, after } = await openUntilHead(head);
  expect(held.length).toBe(before + 1);
  const upstreamSocket = held[before] as Socket;
  upstreamSocket.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
  const deadline = Date.now() + 5000;
  while (!dechunk(after()).includes(event) && Date.now() < deadline) await Bun.sleep(20);
  // Before the event, only an SSE comment, which every SSE parser skips.
  expect(dechunk(after())).toBe(`:\n\n${event}`);
  socket.destroy();
  upstreamSocket.end("0\r\n\r\n");
});
