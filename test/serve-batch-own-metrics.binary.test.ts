// Black-box: a 2025-03-26 batch that calls one of the proxy's own tools beside a server tool: both calls are answered, so /metrics counts both (baton_tool_calls_total), whether the upstream answers the rest as JSON (merged) or as an SSE stream (ours ahead of its events).

import { expect, test } from "bun:test";
import { startServe } from "./support/serve-process.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-03-26",
};

async function okCalls(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return Number(/^baton_tool_calls_total\{outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

test.each(["json", "sse"])(
  "our tool's call in a batch the upstream answers as %s is counted with the server tool's",
  async (shape) => {
    const upstream = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const body = (await request.json()) as { id?: number; method?: string } | { id?: number }[];
        const messages = Array.isArray(body) ? body : [body];
        const answers = messages
          .filter((m) => m.id !== undefined)
          .map((m) => ({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "ok" }] } }));
        if (answers.length === 0) return new Response(null, { status: 202 });
        const text = JSON.stringify(Array.isArray(body) ? answers : answers[0]);
        return shape === "json"
          ? new Response(text, { headers: { "content-type": "application/json" } })
          : new Response(`event: message\ndata: ${text}\n\n`, { headers: { "content-type": "text/event-stream" } });
      },
    });
    const proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
    try {
      const post = (body: unknown) =>
        fetch(proxy.url, { method: "POST", headers: HEADERS, body: JSON.stringify(body) }).then((r) => r.text());
      await post({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "batcher", version: "1" } },
      });
      await post({ jsonrpc: "2.0", method: "notifications/initialized" });
      const before = await okCalls(proxy.adminUrl);
      const answer = await post([
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "alpha", arguments: {} } },
        {
          jsonrpc: "2.0",
          id: 3,
          method: "tools/call",
          params: { name: "baton_annotate", arguments: { intent: "batched note", signal_type: "friction" } },
        },
      ]);
      // Both answers reached the client.
      expect(answer).toContain('"id":2');
      expect(answer).toContain('"id":3');
      expect((await okCalls(proxy.adminUrl)) - before).toBe(2);
    } finally {
      await proxy.stop();
      upstream.stop(true);
    }
  },
);
