// Black-box: a POST whose upstream has not sent its answer's head when the drain's deadline comes gets a JSON-RPC error per request it carried (−32603, "shutting down … try again") and the answers the proxy gave itself, as one clean 200 JSON answer, not a reset connection that loses both (README, Hosted mode: SIGTERM).

import { expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { startServe } from "./support/serve-process.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-03-26",
};

/** An upstream that answers the handshake and notifications, and never starts an answer to anything else. */
function startSilentUpstream() {
  const waiting: ((response: Response) => void)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      const body = (await request.json()) as { id?: number; method?: string } | { id?: number }[];
      if (!Array.isArray(body) && body.method === "initialize")
        return Response.json({
          jsonrpc: "2.0",
          id: body.id,
          result: {
            protocolVersion: "2025-03-26",
            capabilities: { tools: {} },
            serverInfo: { name: "s", version: "1" },
          },
        });
      if (!Array.isArray(body) && body.id === undefined) return new Response(null, { status: 202 });
      return new Promise<Response>((resolve) => waiting.push(resolve));
    },
  });
  return { server, waiting };
}

test.each([
  ["a lone call", false],
  ["a batch with a call of the proxy's own tool", true],
] as const)("at the drain's deadline, %s still waiting for the upstream's head is answered", async (_, batch) => {
  const upstream = startSilentUpstream();
  const proxy = await startServe([
    "--upstream",
    `http://127.0.0.1:${upstream.server.port}/mcp`,
    "--drain-timeout-ms",
    "400",
  ]);
  try {
    const post = (body: unknown) => fetch(proxy.url, { method: "POST", headers: HEADERS, body: JSON.stringify(body) });
    await (
      await post({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "drainer", version: "1" } },
      })
    ).text();
    await (await post({ jsonrpc: "2.0", method: "notifications/initialized" })).text();
    const call = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "slow", arguments: {} } };
    const own = {
      jsonrpc: "2.0",
      id: 8,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "note while draining", signal_type: "friction" } },
    };
    const pending = post(batch ? [call, own] : call);
    while (upstream.waiting.length === 0) await Bun.sleep(5);
    proxy.process.kill("SIGTERM");
    const response = await pending;
    expect(response.status).toBe(200);
    const answer = (await response.json()) as Record<string, any> | Record<string, any>[];
    const members = Array.isArray(answer) ? answer : [answer];
    expect(Array.isArray(answer)).toBe(batch);
    const forwarded = members.find((m) => m.id === 7);
    expect(forwarded?.error?.code).toBe(-32603);
    expect(String(forwarded?.error?.message)).toContain("shutting down");
    if (batch) expect(members.find((m) => m.id === 8)?.result?.isError).not.toBe(true);
    if (batch) expect(members.find((m) => m.id === 8)?.result).toBeDefined();
    expect(await proxy.process.exited).toBe(0);
    const events = readValidatedEvents(proxy.eventsFile);
    expect(
      events.filter((e) => e.event_type === "tool_call_error").map((e) => [e.payload.tool_name, e.payload.error_type]),
    ).toEqual([["slow", "proxy_shutdown"]]);
  } finally {
    for (const resolve of upstream.waiting) resolve(new Response(null, { status: 503 }));
    await proxy.stop();
    upstream.server.stop(true);
  }
});
