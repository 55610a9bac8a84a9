// `--url`: a client that cancels a request and at once reuses its id (MCP forbids it, clients do it) still gets the new request answered.

import { expect, test } from "bun:test";
import { startProxy } from "./support/proxy-process.ts";

test("cancel id 5, then a new request id 5 before the cancellation's POST is accepted: the new one is answered", async () => {
  let calls = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (request): Promise<Response> => {
      if (request.method !== "POST") return new Response(null, { status: 405 }); // no GET stream; DELETE
      const message = (await request.json()) as { id?: number; method: string };
      const answer = (result: unknown) =>
        Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s-1" } });
      if (message.method === "initialize")
        return answer({
          protocolVersion: "2025-06-18",
          capabilities: { tools: {} },
          serverInfo: { name: "slow", version: "1" },
        });
      if (message.method === "notifications/cancelled") {
        await Bun.sleep(300); // the cancellation is accepted after the new request went out
        return new Response(null, { status: 202 });
      }
      if (message.method === "notifications/initialized") return new Response(null, { status: 202 });
      if (++calls === 1) {
        // The cancelled call: never answered, until its POST is let go.
        const { promise, resolve } = Promise.withResolvers<Response>();
        request.signal.addEventListener("abort", () => resolve(new Response(null, { status: 499 })));
        return promise;
      }
      await Bun.sleep(600); // the new call is answered after the cancellation was accepted
      return answer({ content: [{ type: "text", text: "second" }] });
    },
  });
  const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
  try {
    const init = await proxy.request(0, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "reusing-client", version: "1.0.0" },
    });
    expect(init.result.serverInfo.name).toBe("slow");
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const call = (text: string) => ({
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "echo", arguments: { text } },
    });
    proxy.send(call("first"));
    await Bun.sleep(100);
    proxy.send({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 5, reason: "changed my mind" },
    });
    proxy.send(call("second"));
    const second = await proxy.next((m) => m?.id === 5 && !("method" in m));
    expect(second.result.content[0].text).toBe("second");
    expect(calls).toBe(2);
  } finally {
    await proxy.close();
    server.stop(true);
  }
});
