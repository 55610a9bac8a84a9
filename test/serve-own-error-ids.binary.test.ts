// Black-box: serve's own error answers (502 for an upstream gone, −32603 at the drain's deadline, on a JSON body or an
// event stream) carry each request's id exactly as the client wrote it (1.0, 1E2, -0, integers beyond 2^53): a
// JSON-RPC client matches answers by id, and JSON.parse would write those back otherwise.

import { expect, test } from "bun:test";
import { createServer } from "node:net";
import { freePort } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-03-26",
};

const IDS = ["9007199254740993", "1.0", "1E2", "-0"] as const;

const call = (id: string, name = "slow") =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{}}}`;

/** The `"id":` texts of a body, in order. */
const idsIn = (body: string) => [...body.matchAll(/"id":(-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);

test.each(IDS)("an upstream gone: the 502 answers id %s as written", async (id) => {
  const proxy = await startServe(["--upstream", `http://127.0.0.1:${await freePort()}/mcp`]);
  try {
    const body = `{"jsonrpc":"2.0","id":${id},"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`;
    const response = await fetch(proxy.url, { method: "POST", headers: HEADERS, body });
    expect(response.status).toBe(502);
    expect(idsIn(await response.text())).toEqual([id]);
  } finally {
    await proxy.stop();
  }
});

/** An upstream that answers the handshake and notifications; other requests wait, for a JSON head or (`sse`) after an event stream's head. */
function startSilentUpstream(sse: boolean) {
  const waiting: (() => void)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      const text = await request.text();
      if (text.includes('"initialize"'))
        return Response.json({
          jsonrpc: "2.0",
          id: 1,
          result: {
            protocolVersion: "2025-03-26",
            capabilities: { tools: {} },
            serverInfo: { name: "s", version: "1" },
          },
        });
      if (!text.includes('"id"')) return new Response(null, { status: 202 });
      if (!sse)
        return new Promise<Response>((resolve) => waiting.push(() => resolve(new Response(null, { status: 503 }))));
      let close: () => void = () => undefined;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(": open\n\n"));
          close = () => {
            try {
              controller.close();
            } catch {} // the proxy cut it already
          };
        },
      });
      waiting.push(() => close());
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { server, waiting };
}

/** serve (a 400 ms drain) in front of a silent upstream, with a session open; `post` sends a raw body, `stop` ends both. */
async function drainingSession(sse: boolean) {
  const upstream = startSilentUpstream(sse);
  const proxy = await startServe([
    "--upstream",
    `http://127.0.0.1:${upstream.server.port}/mcp`,
    "--drain-timeout-ms",
    "400",
  ]);
  const post = (body: string) => fetch(proxy.url, { method: "POST", headers: HEADERS, body });
  const stop = async () => {
    for (const release of upstream.waiting) release();
    await proxy.stop();
    upstream.server.stop(true);
  };
  try {
    await (
      await post(
        '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"d","version":"1"}}}',
      )
    ).text();
    await (await post('{"jsonrpc":"2.0","method":"notifications/initialized"}')).text();
  } catch (error) {
    await stop();
    throw error;
  }
  return { upstream, proxy, post, stop };
}

test.each([
  ["a JSON answer's head", false],
  ["an event stream's answer", true],
] as const)(
  "at the drain's deadline, calls still waiting for %s are answered with their ids as written",
  async (_, sse) => {
    const { upstream, proxy, post, stop } = await drainingSession(sse);
    try {
      const pending = post(`[${IDS.map((id) => call(id)).join(",")}]`);
      while (upstream.waiting.length === 0) await Bun.sleep(5);
      // An event stream's head is relayed at once; a JSON answer's never comes.
      const text = sse ? (await pending).text() : pending.then((response) => response.text());
      await Bun.sleep(50);
      proxy.process.kill("SIGTERM");
      const answer = await text;
      expect(answer).toContain("shutting down");
      expect(idsIn(answer)).toEqual([...IDS]);
      expect(await proxy.process.exited).toBe(0);
    } finally {
      await stop();
    }
  },
);

/** An upstream whose event stream answers `answered` (its text as the server writes it) and then breaks (its socket destroyed). */
async function startBreakingUpstream(answered: string): Promise<{ port: number; stop(): void }> {
  const server = createServer((socket) => {
    let read = "";
    socket.on("data", (chunk) => {
      read += chunk.toString("utf8");
      const head = read.indexOf("\r\n\r\n");
      const length = Number(/content-length: *(\d+)/i.exec(read)?.[1] ?? 0);
      if (head < 0 || read.length < head + 4 + length) return;
      const body = read.slice(head + 4, head + 4 + length);
      read = read.slice(head + 4 + length);
      const reply = (type: string, status: string, text: string) =>
        socket.write(
          `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
        );
      if (body.includes('"initialize"'))
        return reply(
          "application/json",
          "200 OK",
          '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}}',
        );
      if (!body.includes('"id"')) return reply("text/plain", "202 Accepted", "");
      const event = `data: {"jsonrpc":"2.0","id":${answered},"result":{"content":[]}}\n\n`;
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`,
      );
      setTimeout(() => socket.destroy(), 200);
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { port: typeof address === "object" && address !== null ? address.port : 0, stop: () => server.close() };
}

test.each([
  ["2", "1"],
  ["1", "1.0"],
  ["1.0", "1"],
  ["9007199254740993", "9007199254740992"],
])(
  "two calls %s and %s in one POST, one answered before the stream breaks: the other gets its error, and its events end then",
  async (first, second) => {
    const upstream = await startBreakingUpstream(second);
    const proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
    try {
      const post = (body: string) => fetch(proxy.url, { method: "POST", headers: HEADERS, body });
      await (
        await post(
          '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}',
        )
      ).text();
      await (await post('{"jsonrpc":"2.0","method":"notifications/initialized"}')).text();
      const response = await post(`[${call(first, "a")},${call(second, "b")}]`);
      const answer = await response.text();
      expect(idsIn(answer)).toEqual([second, first]);
      expect(answer).toContain("unavailable");
      const ends = () =>
        proxy
          .events()
          .filter((e) => String(e.event_type).startsWith("tool_call_e"))
          .map((e) => `${e.event_type} ${(e.payload as Record<string, unknown>).tool_name}`);
      for (let i = 0; i < 100 && ends().length < 2; i++) await Bun.sleep(20);
      expect(ends().sort()).toEqual(["tool_call_end b", "tool_call_error a"]);
    } finally {
      await proxy.stop();
      upstream.stop();
    }
  },
);

test("at the drain's deadline, a batch's call of the proxy's own tool with id 1.0 keeps its own answer only", async () => {
  const { upstream, proxy, post, stop } = await drainingSession(false);
  try {
    const own =
      '{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"x","signal_type":"friction"}}}';
    const pending = post(`[${own},${call("2")}]`).then((response) => response.text());
    while (upstream.waiting.length === 0) await Bun.sleep(5);
    proxy.process.kill("SIGTERM");
    expect(idsIn(await pending)).toEqual(["1.0", "2"]);
    expect(await proxy.process.exited).toBe(0);
  } finally {
    await stop();
  }
});

test.each([
  ["1", "1.0"],
  ["9007199254740993", "9007199254740992"],
])(
  "at the drain's deadline, calls %s and %s of one POST still waiting for a head each get their error",
  async (first, second) => {
    const { upstream, proxy, post, stop } = await drainingSession(false);
    try {
      const pending = post(`[${call(first, "a")},${call(second, "b")}]`).then((response) => response.text());
      while (upstream.waiting.length === 0) await Bun.sleep(5);
      proxy.process.kill("SIGTERM");
      expect(idsIn(await pending)).toEqual([first, second]);
      expect(await proxy.process.exited).toBe(0);
      const errors = proxy
        .events()
        .filter((e) => e.event_type === "tool_call_error")
        .map(
          (e) =>
            `${(e.payload as Record<string, unknown>).tool_name} ${(e.payload as Record<string, unknown>).error_type}`,
        );
      expect(errors.sort()).toEqual(["a proxy_shutdown", "b proxy_shutdown"]);
    } finally {
      await stop();
    }
  },
);
