// Black-box: the SDK v2 client in both protocol eras through `serve` to an SDK v2 dual-era HTTP server; stateless-era event grouping.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { readValidatedEvents } from "./support/events.ts";
import { startHttpV2Fixture, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

let upstream: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await startHttpV2Fixture();
  proxy = await startServe(["--upstream", upstream.url]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

describe("SDK v2 client -> serve -> SDK v2 dual-era HTTP server", () => {
  for (const mode of ["legacy", "auto"] as const) {
    test(`versionNegotiation ${mode}: era ${mode === "auto" ? "modern" : "legacy"}, instructions suffixed, injected tools answered, events schema-valid`, async () => {
      const name = `v2-${mode}-agent`;
      const client = new Client(
        { name, version: "2.0.0" },
        mode === "auto" ? { versionNegotiation: { mode: "auto" } } : {},
      );
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
      expect(client.getProtocolEra()).toBe(mode === "auto" ? "modern" : "legacy");
      expect(client.getInstructions()).toStartWith("v2 http instructions");
      expect(client.getInstructions()).toContain("baton_annotate");
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(["add", "baton_annotate", "baton_session_report"]);
      expect(JSON.stringify(await client.callTool({ name: "add", arguments: { a: 2, b: 40 } }))).toContain('"42"');
      expect(
        JSON.stringify(
          await client.callTool({
            name: "baton_annotate",
            arguments: { intent: `check ${mode}`, signal_type: "other" },
          }),
        ),
      ).toContain("Annotation recorded");
      await client.close();
      let mine: Record<string, any>[] = [];
      await waitFor(() => {
        mine = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === name);
        return mine.length >= 4;
      }, `${name}'s events`);
      // One surface snapshot per session (the server's tools as it listed them), then the call and the note.
      expect(mine.map((e) => e.event_type)).toEqual([
        "surface_snapshot",
        "tool_call_start",
        "tool_call_end",
        "annotation",
      ]);
      // One event session for the whole conversation, in both eras (modern: the stateless grouping rule).
      expect(new Set(mine.map((e) => e.session_id)).size).toBe(1);
    });
  }

  test("stateless era: requests group per client (name and version) and remote address; two clients get two event sessions", async () => {
    const meta = (name: string) => ({
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name, version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": {},
    });
    const call = async (name: string, id: number) => {
      const response = await fetch(proxy.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": "add",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method: "tools/call",
          params: { name: "add", arguments: { a: id, b: 1 }, _meta: meta(name) },
        }),
      });
      expect(await response.text()).toContain(String(id + 1));
    };
    await call("raw-modern-one", 1);
    await call("raw-modern-two", 2);
    await call("raw-modern-one", 3);
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(proxy.eventsFile).filter((e) => String(e.agent_runtime).startsWith("raw-modern"));
      return events.length >= 6;
    }, "the stateless calls' events");
    const sessions = (name: string) => new Set(events.filter((e) => e.agent_runtime === name).map((e) => e.session_id));
    expect(sessions("raw-modern-one").size).toBe(1);
    expect(sessions("raw-modern-two").size).toBe(1);
    expect([...sessions("raw-modern-one")][0]).not.toBe([...sessions("raw-modern-two")][0]);
    expect(events.filter((e) => e.agent_runtime === "raw-modern-one").map((e) => e.sequence_number)).toEqual([
      1, 2, 3, 4,
    ]);
  });

  test("stateless era: a call the upstream refuses with 400 + its JSON-RPC error (-32022) passes unchanged and ends as that error, as over stdio and --url", async () => {
    const name = "raw-modern-refused";
    const meta = {
      "io.modelcontextprotocol/protocolVersion": "2099-01-01",
      "io.modelcontextprotocol/clientInfo": { name, version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": {},
    };
    const post = (url: string) =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2099-01-01",
          "mcp-method": "tools/call",
          "mcp-name": "add",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 9,
          method: "tools/call",
          params: { name: "add", arguments: { a: 1, b: 2 }, _meta: meta },
        }),
      });
    const direct = await post(upstream.url);
    const proxied = await post(proxy.url);
    expect(proxied.status).toBe(400);
    expect(proxied.status).toBe(direct.status);
    const body = await proxied.text();
    expect(body).toBe(await direct.text());
    expect(JSON.parse(body).error.code).toBe(-32022);
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === name);
      return events.length >= 2;
    }, "the refused call's events");
    expect(events.map((e) => [e.event_type, e.payload.error_type ?? null])).toEqual([
      ["tool_call_start", null],
      ["tool_call_error", "jsonrpc_-32022"],
    ]);
    expect(events[1]?.payload.error_body).toContain("Unsupported protocol version");
  });
});

describe("calls of the proxy's own tools get the header checks the upstream makes on every other call", () => {
  const name = "raw-header-checks";
  const post = (url: string, tool: string, headers: Record<string, string>, modern = true) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: {
          name: tool,
          arguments: tool === "add" ? { a: 1, b: 2 } : { intent: "header check" },
          ...(modern
            ? {
                _meta: {
                  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientInfo": { name, version: "1.0.0" },
                  "io.modelcontextprotocol/clientCapabilities": {},
                },
              }
            : {}),
        },
      }),
    });
  const modern = (tool: string, overrides: Record<string, string> = {}) => ({
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": tool,
    ...overrides,
  });

  test("2026-07-28: Mcp-Name or MCP-Protocol-Version not the body's is 400 + -32020 (HeaderMismatch), as the upstream answers for its own tools", async () => {
    const cases: { proxied: Record<string, string>; direct: Record<string, string> }[] = [
      { proxied: { "mcp-name": "add" }, direct: { "mcp-name": "other" } },
      { proxied: { "mcp-protocol-version": "2025-11-25" }, direct: { "mcp-protocol-version": "2025-11-25" } },
    ];
    for (const { proxied: wrong, direct: wrongDirect } of cases) {
      const direct = await post(upstream.url, "add", modern("add", wrongDirect));
      expect(direct.status).toBe(400);
      expect(((await direct.json()) as { error: { code: number } }).error.code).toBe(-32020);
      const proxied = await post(proxy.url, "baton_annotate", modern("baton_annotate", wrong));
      expect(proxied.status).toBe(400);
      const body = (await proxied.json()) as { id: number; error: { code: number; message: string } };
      expect(body.id).toBe(7);
      expect(body.error.code).toBe(-32020);
      expect(body.error.message).toStartWith("baton-proxy: header mismatch");
    }
    const consistent = await post(proxy.url, "baton_annotate", modern("baton_annotate"));
    expect(consistent.status).toBe(200);
    expect(await consistent.text()).toContain("Annotation recorded");
    // Only the consistent call's note is recorded.
    let notes: Record<string, any>[] = [];
    await waitFor(() => {
      notes = readValidatedEvents(proxy.eventsFile).filter(
        (e) => e.event_type === "annotation" && e.payload.intent === "header check",
      );
      return notes.length >= 1;
    }, "the consistent call's note");
    expect(notes.length).toBe(1);
  });

  test("handshake era: an MCP-Protocol-Version that is no MCP version is 400, as the upstream answers (a known one is answered)", async () => {
    const direct = await post(upstream.url, "add", { "mcp-protocol-version": "bogus" }, false);
    expect(direct.status).toBe(400);
    const proxied = await post(proxy.url, "baton_session_report", { "mcp-protocol-version": "bogus" }, false);
    expect(proxied.status).toBe(400);
    expect(((await proxied.json()) as { error: { message: string } }).error.message).toContain("MCP-Protocol-Version");
    const known = await post(proxy.url, "baton_session_report", { "mcp-protocol-version": "2025-06-18" }, false);
    expect(known.status).toBe(200);
  });
});

describe("stateless-era clients of one group share a session: their paginated listings stay apart", () => {
  test("two walks at once through serve: each last page gets the proxy's tools only if its own pages lack them", async () => {
    const MODERN = "2026-07-28";
    // The server's list changed between the two walks: the first one's page 1 has its own baton_annotate.
    let firstPages = 0;
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id: number; method: string; params?: { cursor?: string } };
        const page = (names: string[], nextCursor?: string) =>
          Response.json({
            jsonrpc: "2.0",
            id: body.id,
            result: {
              tools: names.map((name) => ({ name, inputSchema: { type: "object" } })),
              ...(nextCursor === undefined ? {} : { nextCursor }),
              resultType: "complete",
            },
          });
        if (body.method !== "tools/list") return Response.json({ jsonrpc: "2.0", id: body.id, result: {} });
        if (body.params?.cursor === "p2") return page(["b"]);
        return firstPages++ === 0 ? page(["baton_annotate", "a"], "p2") : page(["x"], "p2");
      },
    });
    const serve = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`], {
      BATON_INTENT_PARAM: "off",
    });
    const list = async (id: number, cursor?: string): Promise<string[]> => {
      const response = await fetch(serve.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method: "tools/list",
          params: {
            ...(cursor === undefined ? {} : { cursor }),
            _meta: {
              "io.modelcontextprotocol/protocolVersion": MODERN,
              "io.modelcontextprotocol/clientCapabilities": {},
              "io.modelcontextprotocol/clientInfo": { name: "twin-agent", version: "1" },
            },
          },
        }),
      });
      const answer = (await response.json()) as { result: { tools: { name: string }[] } };
      return answer.result.tools.map((t) => t.name);
    };
    try {
      expect(await list(1)).toEqual(["baton_annotate", "a"]);
      expect(await list(2)).toEqual(["x"]);
      expect(await list(3, "p2")).toEqual(["b", "baton_session_report"]); // the server's own baton_annotate was on page 1
      expect(await list(4, "p2")).toEqual(["b", "baton_annotate", "baton_session_report"]);
    } finally {
      expect(await serve.stop()).toBe(0);
      upstream.stop(true);
    }
  });
});
