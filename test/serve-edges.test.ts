// serve's HTTP edges against the Node SDK v1 fixture: refusals that never reach the upstream, byte-for-byte pass-through, headers, faults.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { readValidatedEvents } from "./support/events.ts";
import {
  fixtureStats,
  freePort,
  startHttpFixture,
  waitFor,
  type Upstream,
  postOnSession,
} from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";
import { MAX_REQUEST_HEAD_BYTES } from "../src/serve/serve-flags.ts";

let upstream: Upstream;
let proxy: ServeHandle;
const MAX_BODY = 64 * 1024;

beforeAll(async () => {
  upstream = await startHttpFixture();
  proxy = await startServe(["--upstream", upstream.url, "--max-body-bytes", String(MAX_BODY)]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const initialize = (id = 0) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
  });

/** POSTs a body streamed in these pieces, without a Content-Length (chunked). */
function postInPieces(pieces: string[]): Promise<Response> {
  const chunks = pieces.map((piece) => new TextEncoder().encode(piece));
  return fetch(proxy.url, {
    method: "POST",
    headers: MCP_HEADERS,
    body: new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    }),
  });
}

/** Asserts the upstream saw no MCP request while `work` ran. */
async function neverReachesUpstream(work: () => Promise<void>): Promise<void> {
  const before = (await fixtureStats(upstream)).mcpRequests;
  await work();
  expect((await fixtureStats(upstream)).mcpRequests).toBe(before);
}

describe("refusals (clear answers; the upstream never sees them)", () => {
  test("a foreign Origin gets 403; a loopback Origin and no Origin pass", async () => {
    await neverReachesUpstream(async () => {
      const response = await fetch(proxy.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, origin: "https://evil.example" },
        body: initialize(),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain("Origin");
    });
    const ok = await fetch(proxy.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, origin: "http://localhost:6274" },
      body: initialize(),
    });
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });

  test("wrong content type gets 415, malformed JSON 400 (parse error), JSON that is not JSON-RPC 400", async () => {
    await neverReachesUpstream(async () => {
      const wrongType = await fetch(proxy.url, {
        method: "POST",
        headers: { "content-type": "text/plain", accept: MCP_HEADERS.accept },
        body: initialize(),
      });
      expect(wrongType.status).toBe(415);
      const malformed = await fetch(proxy.url, { method: "POST", headers: MCP_HEADERS, body: '{"jsonrpc":"2.0",' });
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: { code: number } }).error.code).toBe(-32700);
      const notRpc = await fetch(proxy.url, { method: "POST", headers: MCP_HEADERS, body: '{"hello":"world"}' });
      expect(notRpc.status).toBe(400);
      expect(await notRpc.text()).toContain("not a JSON-RPC");
    });
  });

  test("an oversized body gets a readable 413 (declared or streamed without length)", async () => {
    await neverReachesUpstream(async () => {
      const big = "x".repeat(MAX_BODY + 1);
      const declared = await fetch(proxy.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { big } }),
      });
      expect(declared.status).toBe(413);
      expect(await declared.text()).toContain(`larger than ${MAX_BODY} bytes`);
      const streamed = await postInPieces([
        '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"',
        "y".repeat(MAX_BODY * 2),
        '"}}',
      ]);
      expect(streamed.status).toBe(413);
      expect(await streamed.text()).toContain("larger than");
    });
  });

  test("a body streamed without a length, within the bound, reaches the upstream whole", async () => {
    const text = initialize(7);
    const response = await postInPieces([text.slice(0, 10), text.slice(10, 40), text.slice(40)]);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('"id":7');
    expect(body).toContain("protocolVersion");
  });

  test("Origin is checked on the MCP path only: other paths keep the upstream's own policy", async () => {
    const response = await fetch(`${proxy.origin}/echo-headers`, { headers: { origin: "https://app.example" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { headers: Record<string, string> }).headers.origin).toBe("https://app.example");
  });

  test("the MCP path in another case or with a trailing slash (which an Express upstream serves as its MCP endpoint), or percent-escaped (which Hono, Go and Python upstreams decode), gets the same Origin check", async () => {
    for (const path of ["/MCP", "/mcp/", "/Mcp/", "/%6dcp", "/mc%70", "/%6D%63%70/"]) {
      await neverReachesUpstream(async () => {
        const response = await fetch(`${proxy.origin}${path}`, {
          method: "POST",
          headers: { ...MCP_HEADERS, origin: "https://evil.example" },
          body: initialize(),
        });
        expect(response.status, path).toBe(403);
        await response.body?.cancel();
      });
    }
    // Without a foreign Origin such a path still passes through as before.
    const plain = await fetch(`${proxy.origin}/mcp/`, { method: "POST", headers: MCP_HEADERS, body: initialize() });
    expect(plain.status).toBe(200);
    await plain.body?.cancel();
  });

  test("other methods on the MCP path get 405 with Allow, which lists OPTIONS (passed to the upstream for CORS preflights)", async () => {
    const response = await fetch(proxy.url, { method: "PUT", headers: MCP_HEADERS, body: "{}" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST, DELETE, OPTIONS");
  });

  test("a missing session id on a sessionful upstream: forwarded, and the upstream's own 400 passes unchanged", async () => {
    const ask = (url: string) =>
      fetch(url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/list" }),
      });
    const [viaProxy, direct] = await Promise.all([ask(proxy.url), ask(upstream.url)]);
    expect(viaProxy.status).toBe(direct.status);
    expect(await viaProxy.text()).toBe(await direct.text());
  });

  test("an unknown session id is forwarded (another replica may know it) and the upstream's 404 passes unchanged", async () => {
    const response = await fetch(proxy.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "mcp-session-id": "not-a-session" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "lost-call", arguments: {} },
      }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32001, message: "Session not found" },
    });
    // The call got no JSON-RPC answer: its events end it with the upstream's HTTP status (no client name: no handshake seen).
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(proxy.eventsFile).filter((e) => e.payload?.tool_name === "lost-call");
      return events.length >= 2;
    }, "the lost call's events");
    expect(events.map((e) => [e.event_type, e.payload.error_type ?? null, e.agent_runtime])).toEqual([
      ["tool_call_start", null, "unknown"],
      ["tool_call_error", "upstream_http_404", "unknown"],
    ]);
  });

  test("a session the upstream answers 404 for is forgotten: made-up session ids do not pile up engines", async () => {
    const open = async () =>
      Number(/baton_sessions_open (\d+)/.exec(await (await fetch(`${proxy.adminUrl}/metrics`)).text())?.[1]);
    const before = await open();
    for (let i = 0; i < 5; i++) {
      const headers = { "mcp-session-id": `made-up-${i}`, "mcp-protocol-version": "2025-06-18" };
      const post = await postOnSession(proxy.url, `made-up-${i}`, { jsonrpc: "2.0", id: i, method: "tools/list" });
      const get = await fetch(proxy.url, { headers: { ...headers, accept: "text/event-stream" } });
      expect([post.status, get.status]).toEqual([404, 404]);
      await Promise.all([post.arrayBuffer(), get.arrayBuffer()]);
    }
    expect(await open()).toBe(before);
  });
});

describe("pass-through of every other path, byte for byte", () => {
  const both = async (path: string, init: RequestInit = {}) => {
    const options = { redirect: "manual", decompress: false, ...init } as RequestInit;
    const [direct, viaProxy] = await Promise.all([
      fetch(`http://127.0.0.1:${upstream.port}${path}`, options),
      fetch(`${proxy.origin}${path}`, options),
    ]);
    return {
      direct,
      viaProxy,
      directBody: new Uint8Array(await direct.arrayBuffer()),
      proxyBody: new Uint8Array(await viaProxy.arrayBuffer()),
    };
  };

  test("a gzip body stays compressed and identical", async () => {
    const { viaProxy, directBody, proxyBody } = await both("/gzip", { headers: { "accept-encoding": "gzip" } });
    expect(viaProxy.headers.get("content-encoding")).toBe("gzip");
    expect(proxyBody).toEqual(directBody);
    expect(new TextDecoder().decode(Bun.gunzipSync(proxyBody))).toBe("compressed body\n");
  });

  test("redirects are not followed; status, Location, Set-Cookie and custom headers pass", async () => {
    const redirect = await both("/redirect");
    expect(redirect.viaProxy.status).toBe(302);
    expect(redirect.viaProxy.headers.get("location")).toBe("/elsewhere?x=1");
    const cookies = await both("/cookies");
    expect(cookies.viaProxy.status).toBe(418);
    expect(cookies.viaProxy.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(cookies.viaProxy.headers.get("x-custom")).toBe("kept");
    expect(cookies.proxyBody).toEqual(cookies.directBody);
    expect(cookies.viaProxy.headers.get("via")).toBe("1.1 baton-proxy");
  });

  test("request headers: Authorization forwarded, consent header and hop-by-hop removed, Via and X-Forwarded-* added; body and query intact", async () => {
    const response = await fetch(`${proxy.origin}/echo-headers?q=1&r=%20`, {
      method: "POST",
      headers: {
        authorization: "Bearer tok",
        "baton-consent-token": "ct_must_not_leak",
        "x-drop-me": "1",
        connection: "x-drop-me",
        "content-type": "text/plain",
      },
      body: "raw body bytes",
    });
    const seen = (await response.json()) as { url: string; body: string; headers: Record<string, string> };
    expect(seen.url).toBe("/echo-headers?q=1&r=%20");
    expect(seen.body).toBe("raw body bytes");
    expect(seen.headers.authorization).toBe("Bearer tok");
    expect(seen.headers["baton-consent-token"]).toBeUndefined();
    expect(seen.headers["x-drop-me"]).toBeUndefined();
    expect(seen.headers.via).toBe("1.1 baton-proxy");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe(new URL(proxy.origin).host);
    expect(seen.headers.host).toBe(`127.0.0.1:${upstream.port}`);
  });

  test("the consent header never reaches the upstream on the MCP path either", async () => {
    const response = await fetch(proxy.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, "baton-consent-token": "ct_must_not_leak" },
      body: initialize(),
    });
    await response.body?.cancel();
    const stats = await fixtureStats(upstream);
    expect(stats.lastHeaders["baton-consent-token"]).toBeUndefined();
    expect(stats.lastHeaders.via).toBe("1.1 baton-proxy");
  });
});

describe("faults", () => {
  test("a client that disconnects mid-stream aborts the upstream request", async () => {
    const client = new Client({ name: "quitter", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
    const before = (await fixtureStats(upstream)).aborted;
    const aborter = new AbortController();
    const response = await postOnSession(
      proxy.url,
      transport.sessionId as string,
      {
        jsonrpc: "2.0",
        id: 77,
        method: "tools/call",
        params: { name: "slow", arguments: { steps: 50, ms: 100 }, _meta: { progressToken: "p" } },
      },
      {},
      aborter.signal,
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("notifications/progress");
    aborter.abort();
    await waitFor(
      async () => (await fixtureStats(upstream)).aborted > before,
      "the upstream to see its response stream closed",
    );
    await client.close();
    // The client left: its call ends as cancelled by the client, not as the upstream being unreachable.
    let ended: Record<string, any>[] = [];
    await waitFor(() => {
      ended = readValidatedEvents(proxy.eventsFile).filter(
        (e) => e.agent_runtime === "quitter" && e.event_type === "tool_call_error",
      );
      return ended.length > 0;
    }, "the abandoned call's end");
    expect(ended.map((e) => e.payload.error_type)).toEqual(["cancelled"]);
  });

  test("an upstream killed mid-SSE ends the client's stream promptly (no hang) and the call fails", async () => {
    const doomed = await startHttpFixture();
    const local = await startServe(["--upstream", doomed.url]);
    const client = new Client({ name: "victim", version: "1" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(local.url), {
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 10,
          maxReconnectionDelay: 10,
          reconnectionDelayGrowFactor: 1,
        },
      }),
    );
    let progressed = false;
    const call = client.callTool({ name: "slow", arguments: { steps: 100, ms: 50 } }, undefined, {
      onprogress: () => void (progressed = true),
      timeout: 20_000,
    });
    await waitFor(() => progressed, "the first progress event");
    doomed.process.kill("SIGKILL");
    const started = performance.now();
    const outcome = await call.then(
      () => "resolved",
      (error: unknown) => String(error),
    );
    expect(outcome).not.toBe("resolved");
    expect(performance.now() - started).toBeLessThan(10_000);
    await client.close().catch(() => undefined);
    expect(await local.stop()).toBe(0);
    await doomed.stop();
  });

  test("calls an upstream's broken SSE stream leaves unanswered are counted in /metrics, as calls it never answered are (upstream_unreachable)", async () => {
    const doomed = await startHttpFixture();
    const local = await startServe(["--upstream", doomed.url]);
    try {
      const client = new Client({ name: "counted", version: "1" });
      const transport = new StreamableHTTPClientTransport(new URL(local.url));
      await client.connect(transport);
      const response = await postOnSession(local.url, transport.sessionId as string, {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "slow", arguments: { steps: 100, ms: 50 }, _meta: { progressToken: 7 } },
      });
      const reader = response.body!.getReader();
      await reader.read();
      doomed.process.kill("SIGKILL");
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain('"id":7');
      const metrics = await (await fetch(`${local.adminUrl}/metrics`)).text();
      expect(metrics).toContain('baton_tool_calls_total{outcome="upstream_unreachable"} 1');
      expect(metrics).toContain(
        'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="upstream_unreachable"} 1',
      );
      await client.close().catch(() => undefined);
    } finally {
      expect(await local.stop()).toBe(0);
      await doomed.stop();
    }
  });

  test("upstream down: a prompt 502 with a JSON-RPC error naming no internal address; the log names the upstream and the reason", async () => {
    const port = await freePort();
    const local = await startServe(["--upstream", `http://127.0.0.1:${port}/mcp`]);
    const response = await fetch(local.url, { method: "POST", headers: MCP_HEADERS, body: initialize(5) });
    expect(response.status).toBe(502);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ jsonrpc: "2.0", id: 5, error: { code: -32001 } });
    expect(body).toContain("upstream MCP server is unavailable");
    expect(body).not.toContain(String(port));
    expect(body).not.toContain("127.0.0.1");
    await waitFor(
      () => local.log.join("\n").includes(`upstream http://127.0.0.1:${port} unreachable`),
      "the log line naming the upstream",
    );
    // SDK clients fail to connect (no fake handshake).
    const client = new Client({ name: "hopeful", version: "1" });
    expect(
      await client.connect(new StreamableHTTPClientTransport(new URL(local.url))).then(
        () => "connected",
        () => "failed",
      ),
    ).toBe("failed");
    const pass = await fetch(`${local.origin}/.well-known/oauth-protected-resource`);
    expect(pass.status).toBe(502);
    // A client flood while it is down: every request answered 502 and counted, the log not flooded
    // (one line for the reason; the rest are told in a summary at most every 10 s).
    for (let i = 0; i < 40; i++) {
      const again = await fetch(local.url, { method: "POST", headers: MCP_HEADERS, body: initialize(i) });
      expect(again.status).toBe(502);
      await again.arrayBuffer();
    }
    const metrics = await (await fetch(`${local.adminUrl}/metrics`)).text();
    const failures = [...metrics.matchAll(/^baton_upstream_failures_total\{[^}]*\} (\d+)$/gm)];
    expect(failures.reduce((sum, match) => sum + Number(match[1]), 0)).toBeGreaterThanOrEqual(42);
    const lines = local.log.filter((line) => line.includes("unreachable"));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("further ones are summarised at most every 10 s");
    expect(await local.stop()).toBe(0);
    // The stop tells the 502s not yet told: each request once, in the first line or a count.
    const told = local.log
      .filter((line) => line.includes("unreachable"))
      .map((line) => Number(/: (\d+) more request\(s\) answered 502/.exec(line)?.[1] ?? 1));
    expect(told.length).toBe(2);
    expect(told.reduce((a, b) => a + b, 0)).toBe(failures.reduce((sum, match) => sum + Number(match[1]), 0));
  });
});

describe("pooled connections and a Node upstream's keep-alive timeout", () => {
  test("requests sent just as the upstream closes idle connections never fail", async () => {
    // Node closes idle keep-alive sockets after keepAliveTimeout (5 s by default; 300 ms here to
    // provoke the race many times): requests land right before, at, and after the close.
    const node = await startHttpFixture(["--keep-alive-ms", "300"]);
    const local = await startServe(["--upstream", node.url]);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${local.origin}/echo-headers`);
      statuses.push(response.status);
      await response.arrayBuffer();
      await Bun.sleep(270 + (i % 7) * 10);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(local.log.join("\n")).not.toContain("unreachable");
    expect(await local.stop()).toBe(0);
    await node.stop();
  }, 30_000);
});

describe("a batch the proxy answers in part", () => {
  test("a call to an injected tool batched with a notification: the upstream's 202 for the notification does not lose the proxy's answer", async () => {
    const forwarded: string[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = await request.text();
        forwarded.push(body);
        if (!body.includes('"initialize"')) return new Response(null, { status: 202 });
        const result = {
          protocolVersion: "2025-03-26",
          capabilities: { tools: {} },
          serverInfo: { name: "u", version: "1" },
        };
        return Response.json({ jsonrpc: "2.0", id: 0, result }, { headers: { "mcp-session-id": "batch-session" } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`]);
    try {
      const opened = await fetch(local.url, { method: "POST", headers: MCP_HEADERS, body: initialize() });
      expect(opened.status).toBe(200);
      await opened.arrayBuffer();
      const annotate = {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { signal_type: "friction", text: "batched" } },
      };
      const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } };
      const response = await postOnSession(local.url, "batch-session", [annotate, progress]);
      expect(forwarded.at(-1)).not.toContain("baton_annotate");
      expect(response.status).toBe(200);
      const answered = (await response.json()) as unknown;
      const answers = (Array.isArray(answered) ? answered : [answered]) as { id: number; result?: unknown }[];
      expect(answers.map((a) => a.id)).toEqual([3]);
      expect(answers[0]?.result).toBeDefined();
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("JSON bodies that start with a byte order mark", () => {
  test("the upstream's answers are read past it (tools injected, the call closed, merged with the proxy's own answers); an unchanged one is forwarded with its mark", async () => {
    const BOM = [0xef, 0xbb, 0xbf];
    const resultOf = (method: string): unknown =>
      method === "initialize"
        ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "bom", version: "1" } }
        : method === "tools/list"
          ? { tools: [{ name: "echo", inputSchema: { type: "object" } }] }
          : { content: [{ type: "text", text: "hi" }] };
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = (await request.json()) as { id?: number; method: string } | { id?: number; method: string }[];
        const answers = (Array.isArray(body) ? body : [body])
          .filter((m) => m.id !== undefined)
          .map((m) => ({ jsonrpc: "2.0", id: m.id, result: resultOf(m.method) }));
        if (answers.length === 0) return new Response(null, { status: 202 });
        const json = new TextEncoder().encode(JSON.stringify(Array.isArray(body) ? answers : answers[0]));
        return new Response(new Uint8Array([...BOM, ...json]), {
          headers: { "content-type": "application/json", "mcp-session-id": "bom-session" },
        });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`]);
    try {
      const opened = await fetch(local.url, { method: "POST", headers: MCP_HEADERS, body: initialize() });
      expect(((await opened.json()) as { result: { instructions?: string } }).result.instructions).toBeString();
      const listed = await postOnSession(local.url, "bom-session", { jsonrpc: "2.0", id: 1, method: "tools/list" });
      const names = ((await listed.json()) as { result: { tools: { name: string }[] } }).result.tools.map(
        (t) => t.name,
      );
      expect(names).toEqual(["echo", "baton_annotate", "baton_session_report"]);
      const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {} } };
      const answered = new Uint8Array(await (await postOnSession(local.url, "bom-session", call)).arrayBuffer());
      expect([...answered.subarray(0, 3)]).toEqual(BOM);
      await waitFor(() => local.events().some((e) => e.event_type === "tool_call_end"), "the call's end event");
      const annotate = {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { signal_type: "friction", text: "batched" } },
      };
      const batch = await postOnSession(local.url, "bom-session", [annotate, { ...call, id: 4 }]);
      expect(((await batch.json()) as { id: number }[]).map((a) => a.id).sort()).toEqual([3, 4]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });

  test("a client's body is read past it, as SDK servers read it: answered, not refused; forwarded without it", async () => {
    const received: string[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const text = await request.text();
        received.push(text);
        const body = JSON.parse(text) as { id: number };
        return Response.json({ jsonrpc: "2.0", id: body.id, result: {} });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`]);
    try {
      const ping = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}');
      const answer = await fetch(local.url, {
        method: "POST",
        headers: MCP_HEADERS,
        body: new Uint8Array([0xef, 0xbb, 0xbf, ...ping]),
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
      expect(received).toEqual(['{"jsonrpc":"2.0","id":1,"method":"ping"}']);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("the idle timeout is about silent clients, not a slow upstream", () => {
  test("an event stream on another path (a legacy HTTP+SSE /sse endpoint) is an open stream: exempt while it lasts", async () => {
    const encoder = new TextEncoder();
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(encoder.encode("event: endpoint\ndata: /messages?sessionId=1\n\n"));
              await Bun.sleep(4_500); // quiet for several idle timeouts
              controller.enqueue(encoder.encode("event: message\ndata: {}\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`, "--idle-timeout-ms", "1000"]);
    try {
      const response = await fetch(`${local.origin}/sse`);
      let text = "";
      for await (const chunk of response.body as ReadableStream<Uint8Array>) text += new TextDecoder().decode(chunk);
      expect(text).toBe("event: endpoint\ndata: /messages?sessionId=1\n\nevent: message\ndata: {}\n\n");
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  }, 30_000);

  test("a GET whose upstream answers after several idle timeouts is answered; the connection is closed once idle again", async () => {
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 30,
      fetch: async () => {
        await Bun.sleep(4_500);
        return new Response("slow page");
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`, "--idle-timeout-ms", "1000"]);
    try {
      const { connect } = await import("node:net");
      const { port } = new URL(local.url);
      const socket = connect(Number(port), "127.0.0.1");
      let received = "";
      let closed = false;
      socket.on("data", (chunk) => (received += chunk.toString("latin1")));
      socket.on("close", () => (closed = true));
      socket.on("error", () => undefined);
      socket.write("GET /slow-page HTTP/1.1\r\nHost: proxy\r\n\r\n");
      await waitFor(() => closed || received.endsWith("slow page"), "the answer or the close", 15_000);
      expect(received).toStartWith("HTTP/1.1 200");
      expect(received).toEndWith("slow page");
      // Kept alive after the answer, the silent connection is closed again by the idle timeout (no exemption left behind).
      await waitFor(() => closed, "the idle connection closed", 15_000);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  }, 30_000);
});

describe("bounds: slow clients, large heads, many sessions", () => {
  /** An upstream counting what reaches it, and the proxy in front of it with `args`. */
  async function counted(args: string[]) {
    let hits = 0;
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        hits++;
        await request.arrayBuffer();
        return new Response("{}", { headers: { "content-type": "application/json" } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`, ...args]);
    return {
      local,
      hits: () => hits,
      stop: async () => {
        expect(await local.stop()).toBe(0);
        raw.stop(true);
      },
    };
  }

  /** Writes `head`, then drips `drip` one byte every 200 ms; resolves with what came back once the connection closes. */
  async function drip(url: string, head: string, drip: string): Promise<string> {
    const { connect } = await import("node:net");
    const socket = connect(Number(new URL(url).port), "127.0.0.1");
    let received = "";
    let closed = false;
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => (closed = true));
    socket.on("error", () => undefined);
    socket.write(head);
    for (const byte of drip) {
      if (closed) break;
      await Bun.sleep(200);
      socket.write(byte);
    }
    await waitFor(() => closed, "the connection closed", 15_000);
    return received;
  }

  test("a body dripped a byte at a time gets 408 after --body-timeout-ms and the connection closes (MCP path, fixed length; other path, chunked)", async () => {
    const proxy = await counted(["--body-timeout-ms", "1500", "--idle-timeout-ms", "30000"]);
    try {
      const body = initialize(3);
      const mcp = await drip(
        proxy.local.url,
        `POST /mcp HTTP/1.1\r\nHost: p\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
        body,
      );
      expect(mcp).toStartWith("HTTP/1.1 408");
      expect(mcp).toContain("--body-timeout-ms");
      const other = await drip(
        proxy.local.url,
        "POST /token HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n",
        "1\r\na\r\n".repeat(40),
      );
      expect(other).toStartWith("HTTP/1.1 408");
      expect(proxy.hits()).toBe(0);
      const metrics = await (await fetch(`${proxy.local.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/baton_http_requests_refused_total\{reason="body_timeout"\} 2/);
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  test(`request heads: about ${MAX_REQUEST_HEAD_BYTES} bytes is Bun's fixed bound (431 above it, the upstream never asked)`, async () => {
    const proxy = await counted([]);
    try {
      const head = (size: number) => {
        const start = "GET /page HTTP/1.1\r\nHost: p\r\nX-Big: ";
        return `${start}${"a".repeat(size - start.length - 4)}\r\n\r\n`;
      };
      const below = await drip(
        proxy.local.url,
        `${head(MAX_REQUEST_HEAD_BYTES - 512).replace("HTTP/1.1", "HTTP/1.0")}`,
        "",
      );
      expect(below).toStartWith("HTTP/1.1 200");
      expect(proxy.hits()).toBe(1);
      const above = await drip(proxy.local.url, head(MAX_REQUEST_HEAD_BYTES + 1), "");
      expect(above).toStartWith("HTTP/1.1 431");
      expect(proxy.hits()).toBe(1);
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  test("--max-sessions: a session past the cap evicts the least recently used idle one, counted in /metrics; its next request is still forwarded", async () => {
    const proxy = await counted(["--max-sessions", "1"]);
    try {
      const post = (sessionId: string, id: number) =>
        fetch(proxy.local.url, {
          method: "POST",
          headers: { ...MCP_HEADERS, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
          body: JSON.stringify({ jsonrpc: "2.0", id, method: "ping" }),
        });
      for (const [i, sid] of ["s1", "s2", "s1"].entries()) expect((await post(sid, i)).status).toBe(200);
      expect(proxy.hits()).toBe(3);
      const metrics = await (await fetch(`${proxy.local.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^baton_sessions_evicted_total 2$/m);
      expect(metrics).toMatch(/^baton_sessions_open 1$/m);
    } finally {
      await proxy.stop();
    }
  }, 30_000);
});

describe("the upstream URL's query string", () => {
  test("is kept on the MCP path (POST, GET, DELETE, preflight) with the client's query appended; other paths take the client's only", async () => {
    const seen: string[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        const url = new URL(request.url);
        seen.push(`${request.method} ${url.pathname}${url.search}`);
        return new Response("{}", { headers: { "content-type": "application/json" } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp?api_key=K&v=2`]);
    try {
      const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
      const session = { "mcp-session-id": "s1", "mcp-protocol-version": "2025-11-25" };
      await fetch(`${local.url}?x=1&y=%2F`, { method: "POST", headers: { ...MCP_HEADERS, ...session }, body: ping });
      await fetch(local.url, { method: "POST", headers: { ...MCP_HEADERS, ...session }, body: ping });
      await fetch(`${local.url}?z=3`, { headers: { ...session, accept: "text/event-stream" } });
      await fetch(`${local.url}?w=4`, { method: "DELETE", headers: session });
      await fetch(local.url, { method: "OPTIONS", headers: { origin: "http://localhost:1" } });
      await fetch(`${local.origin}/.well-known/oauth-protected-resource?q=5`);
      expect(seen).toEqual([
        "POST /mcp?api_key=K&v=2&x=1&y=%2F",
        "POST /mcp?api_key=K&v=2",
        "GET /mcp?api_key=K&v=2&z=3",
        "DELETE /mcp?api_key=K&v=2&w=4",
        "OPTIONS /mcp?api_key=K&v=2",
        "GET /.well-known/oauth-protected-resource?q=5",
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("DELETE", () => {
  test("ends the proxy's session only when the upstream ended it (2xx) or does not know it (404); a 401 or 405 leaves it open", async () => {
    let deleteStatus = 401;
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) =>
        request.method === "DELETE"
          ? new Response(null, { status: deleteStatus })
          : new Response("{}", { headers: { "content-type": "application/json" } }),
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`]);
    const open = async () => {
      const metrics = await (await fetch(`${local.adminUrl}/metrics`)).text();
      return Number(/^baton_sessions_open (\d+)$/m.exec(metrics)?.[1]);
    };
    try {
      const session = (id: string) => ({ "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" });
      const ping = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" });
      await fetch(local.url, { method: "POST", headers: { ...MCP_HEADERS, ...session("s1") }, body: ping });
      expect(await open()).toBe(1);
      for (const status of [401, 405, 403]) {
        deleteStatus = status;
        expect((await fetch(local.url, { method: "DELETE", headers: session("s1") })).status).toBe(status);
        expect(await open()).toBe(1);
      }
      deleteStatus = 204;
      expect((await fetch(local.url, { method: "DELETE", headers: session("s1") })).status).toBe(204);
      expect(await open()).toBe(0);
      await fetch(local.url, { method: "POST", headers: { ...MCP_HEADERS, ...session("s2") }, body: ping });
      deleteStatus = 404;
      expect((await fetch(local.url, { method: "DELETE", headers: session("s2") })).status).toBe(404);
      expect(await open()).toBe(0);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});
