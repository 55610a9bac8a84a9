// Black-box: serve's own error answers (502 for an upstream gone, −32603 at the drain's deadline, on a JSON body or an
// event stream) carry each request's id exactly as the client wrote it (1.0, 1E2, -0, integers beyond 2^53): a
// JSON-RPC client matches answers by id, and JSON.parse would write those back otherwise.

import { expect, test } from "bun:test";
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

test.each([
  ["a JSON answer's head", false],
  ["an event stream's answer", true],
] as const)(
  "at the drain's deadline, calls still waiting for %s are answered with their ids as written",
  async (_, sse) => {
    const upstream = startSilentUpstream(sse);
    const proxy = await startServe([
      "--upstream",
      `http://127.0.0.1:${upstream.server.port}/mcp`,
      "--drain-timeout-ms",
      "400",
    ]);
    try {
      const post = (body: string) => fetch(proxy.url, { method: "POST", headers: HEADERS, body });
      await (
        await post(
          '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"d","version":"1"}}}',
        )
      ).text();
      await (await post('{"jsonrpc":"2.0","method":"notifications/initialized"}')).text();
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
      for (const release of upstream.waiting) release();
      await proxy.stop();
      upstream.server.stop(true);
    }
  },
);
