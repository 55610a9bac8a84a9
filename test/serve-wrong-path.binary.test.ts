// Black-box: a client configured with another path than serve's MCP path reaches the upstream unobserved; the log says so once.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { INIT_PARAMS } from "./support/proxy-process.ts";
import { startServe } from "./support/serve-process.ts";

let upstream: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  // Answers JSON-RPC on every path, as a server mounted at / (or a catch-all router) does.
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const message = (await request.json()) as { id?: number };
      const result = {
        protocolVersion: "2025-06-18",
        capabilities: {},
        serverInfo: { name: "any-path", version: "1" },
      };
      return Response.json({ jsonrpc: "2.0", id: message.id ?? null, result });
    },
  });
});
afterAll(() => {
  upstream.stop(true);
});

test("an MCP POST on a path other than the MCP path is passed on, and the log says once that it was not observed and which path is", async () => {
  const serve = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
  try {
    const post = async (path: string) => {
      const response = await fetch(`${serve.origin}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS }),
      });
      return (await response.json()) as { result?: { serverInfo?: { name?: string } } };
    };
    // OAuth's dynamic registration POSTs JSON too, but is no MCP client: no warning for it.
    const register = await fetch(`${serve.origin}/register`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:1/callback"] }),
    });
    await register.text();
    expect(serve.log.filter((line) => line.includes("not the MCP path")).length).toBe(0);
    expect((await post("/")).result?.serverInfo?.name).toBe("any-path");
    expect((await post("/v1/mcp")).result?.serverInfo?.name).toBe("any-path");
    const warnings = serve.log.filter((line) => line.includes("not the MCP path"));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain("not the MCP path /mcp");
    expect(warnings[0]).toContain("no events");
    // The MCP path itself: observed, no such warning.
    await post("/mcp");
    expect(serve.log.filter((line) => line.includes("not the MCP path")).length).toBe(1);
  } finally {
    await serve.stop();
  }
});
