// Black-box: `baton-proxy --url` against an SDK v1 Streamable HTTP server on loopback, driven with raw JSON-RPC on stdio.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { INIT_PARAMS, runBinary, startProxy, tempDir, type ProxyProcess } from "./support/proxy-process.ts";
import { startOtlpReceiver } from "./support/otlp-receiver.ts";
import { freePort, startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";

const SECRET = "sk-test-4f9a8b7c6d5e";

type RpcBody = { id?: number; method: string };

/**
 * A scripted remote server on loopback for the tests below: notifications get 202 and `initialize`
 * a handshake result (with `Mcp-Session-Id: s-1` when `session` is set, whose DELETE is then
 * accepted); other POSTs go to `call`, other methods (GET) to `other` (405 without one).
 */
function scriptedRemote(script: {
  name: string;
  protocolVersion?: string;
  session?: boolean;
  call: (body: RpcBody) => Response | Promise<Response>;
  other?: (request: Request) => Response;
  seen?: (request: Request) => void;
}) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      script.seen?.(request);
      if (request.method === "DELETE" && script.session === true) return new Response(null);
      if (request.method !== "POST") return script.other?.(request) ?? new Response(null, { status: 405 });
      const body = (await request.json()) as RpcBody;
      if (body.id === undefined) return new Response(null, { status: 202 });
      if (body.method !== "initialize") return script.call(body);
      const result = {
        protocolVersion: script.protocolVersion ?? "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: script.name, version: "1" },
      };
      const headers: Record<string, string> = script.session === true ? { "mcp-session-id": "s-1" } : {};
      return Response.json({ jsonrpc: "2.0", id: body.id, result }, { headers });
    },
  });
}

async function handshake(proxy: ProxyProcess): Promise<Record<string, any>> {
  const init = await proxy.request(0, "initialize", { ...INIT_PARAMS, capabilities: { roots: {} } });
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  return init;
}

const call = (id: number | string, name: string, args: Record<string, unknown>, meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args, ...(meta === undefined ? {} : { _meta: meta }) },
});

describe("baton-proxy --url → SDK Streamable HTTP server", () => {
  let server: RemoteServer;
  let proxy: ProxyProcess;
  const dir = tempDir();
  const events = join(dir, "events.jsonl");

  beforeAll(async () => {
    server = await startRemoteFixture();
    proxy = await startProxy([], {
      args: ["--url", server.url, "--header", "X-Api-Key: ${MY_KEY}"],
      env: { MY_KEY: SECRET, BATON_EVENT_SINK: `file://${events}` },
    });
  });

  afterAll(async () => {
    proxy.proc.kill();
    await proxy.proc.exited;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the handshake is the server's, with the proxy's tools added; identifying headers are sent", async () => {
    const init = await handshake(proxy);
    expect(init.result.serverInfo.name).toBe("remote-fixture");
    const list = await proxy.request(1, "tools/list");
    const names = list.result.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "slow", "ask-client", "baton_annotate"]));
    const stats = await server.stats();
    expect(stats.userAgents).toEqual([expect.stringMatching(/^baton-proxy\/\d+\.\d+\.\d+/)]);
    expect(stats.customHeaders).toContain(SECRET);
    expect(stats.protocolVersions).toEqual([init.result.protocolVersion]);
    // The server offers a GET stream: it is opened after notifications/initialized.
    for (let i = 0; i < 200 && (await server.stats()).gets === 0; i++) await Bun.sleep(10);
    expect((await server.stats()).gets).toBeGreaterThanOrEqual(1);
  });

  test("progress arrives before the result, on the call's SSE stream", async () => {
    proxy.send(call(2, "slow", { ms: 300, steps: 3 }, { progressToken: "p2" }));
    const result = await proxy.next((m) => m.id === 2);
    expect(result.result.content[0].text).toBe("slept 300 ms");
    const indexOf = (predicate: (m: any) => boolean) => proxy.lines.findIndex((l) => predicate(JSON.parse(l)));
    const progress = indexOf((m) => m.method === "notifications/progress" && m.params.progressToken === "p2");
    expect(progress).toBeGreaterThanOrEqual(0);
    expect(progress).toBeLessThan(indexOf((m) => m.id === 2 && "result" in m));
  });

  test("100 calls in flight at once are each answered to their own id", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => 1000 + i);
    for (const id of ids) proxy.send(call(id, i2(id) ? "slow" : "echo", i2(id) ? { ms: 200 } : { text: `n${id}` }));
    const answers = await Promise.all(ids.map((id) => proxy.next((m) => m.id === id, 20_000)));
    for (const [i, answer] of answers.entries()) {
      const id = ids[i] as number;
      expect(answer.result.content[0].text).toBe(i2(id) ? "slept 200 ms" : `echo: n${id}`);
    }
    // The server really had many requests at once: the bridge does not serialise.
    expect((await server.stats()).maxInFlight).toBeGreaterThanOrEqual(20);
  });

  test("a server→client request on a call's stream reaches the client, and its answer goes back", async () => {
    proxy.send(call(3, "ask-client", {}));
    const request = await proxy.next((m) => m.method === "roots/list");
    proxy.send({
      jsonrpc: "2.0",
      id: request.id,
      result: { roots: [{ uri: "file:///tmp/remote-root", name: "root" }] },
    });
    const result = await proxy.next((m) => m.id === 3);
    expect(result.result.content[0].text).toBe("roots: file:///tmp/remote-root");
    // A 202 for the client's answer is not an unanswered request (upstream's bug).
    expect(proxy.lines.some((l) => l.includes(`"id":${JSON.stringify(request.id)},"error"`))).toBe(false);
  });

  test("notifications/cancelled overtakes the call it cancels", async () => {
    const before = (await server.stats()).cancelled;
    proxy.send(call(4, "slow", { ms: 2000, steps: 20 }, { progressToken: "p4" }));
    await proxy.next((m) => m.method === "notifications/progress" && m.params.progressToken === "p4");
    proxy.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 4, reason: "user stop" } });
    for (let i = 0; i < 200 && (await server.stats()).cancelled === before; i++) await Bun.sleep(20);
    expect((await server.stats()).cancelled).toBe(before + 1);
  });

  test("a dropped SSE stream is resumed with Last-Event-ID and the result still arrives", async () => {
    proxy.send(call(5, "slow", { ms: 900, steps: 3 }, { progressToken: "p5" }));
    await proxy.next((m) => m.method === "notifications/progress" && m.params.progressToken === "p5");
    expect((await server.control("drop-streams")).dropped).toBeGreaterThanOrEqual(1);
    const result = await proxy.next((m) => m.id === 5, 15_000);
    expect(result.result.content[0].text).toBe("slept 900 ms");
    expect((await server.stats()).lastEventIdGets).toBeGreaterThanOrEqual(1);
  });

  test("an expired session (404) is a clear error, logged once", async () => {
    await server.control("expire-sessions");
    const first = await proxy.request(6, "tools/call", { name: "echo", arguments: { text: "a" } });
    const second = await proxy.request(7, "tools/call", { name: "echo", arguments: { text: "b" } });
    for (const answer of [first, second]) {
      expect(answer.error.message).toContain("session");
      expect(answer.error.message).toContain("expired");
      expect(answer.error.message).toContain(new URL(server.url).origin);
      expect(answer.error.data["baton/error_type"]).toBe("session_expired");
    }
    expect(proxy.stderr().match(/expired \(HTTP 404\)/g)?.length).toBe(1);
  });

  test("after a 404, an initialize starts a new session: sent without the dead session id (MCP), its GET stream opened", async () => {
    const server = await startRemoteFixture();
    const proxy = await startProxy([], { args: ["--url", server.url] });
    try {
      await handshake(proxy);
      expect((await proxy.request(1, "tools/call", { name: "echo", arguments: { text: "a" } })).result).toBeDefined();
      // The standing GET stream of the first session is open before the session ends.
      while ((await server.stats()).gets < 1) await Bun.sleep(20);
      await server.control("expire-sessions");
      const expired = await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "b" } });
      expect(expired.error.data["baton/error_type"]).toBe("session_expired");
      // A client that handshakes again on the same pipe gets the server's new session, not a second 404.
      const again = await proxy.request(3, "initialize", INIT_PARAMS);
      expect(again.error).toBeUndefined();
      expect(again.result.serverInfo.name).toBe("remote-fixture");
      proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      const answer = await proxy.request(4, "tools/call", { name: "echo", arguments: { text: "c" } });
      expect(answer.result.content[0].text).toBe("echo: c");
      // The new session gets its own server-to-client stream (the first one ended with the old session).
      while ((await server.stats()).sessions !== 1 || (await server.stats()).gets < 2) await Bun.sleep(20);
      expect(await proxy.close()).toBe(0);
    } finally {
      proxy.proc.kill();
      await server.stop();
    }
  });

  test("a second initialize on a live session: the new session is used and the one it replaces is DELETEd (MCP: end sessions no longer needed)", async () => {
    const server = await startRemoteFixture();
    const proxy = await startProxy([], { args: ["--url", server.url] });
    try {
      await handshake(proxy);
      const again = await proxy.request(1, "initialize", INIT_PARAMS);
      expect(again.result.serverInfo.name).toBe("remote-fixture");
      proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      expect((await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "x" } })).result).toBeDefined();
      // The first session is ended on the server while the proxy runs on (not left until it times out).
      while ((await server.stats()).deletes < 1) await Bun.sleep(20);
      expect((await server.stats()).sessions).toBe(1);
      expect(await proxy.close()).toBe(0);
      expect((await server.stats()).sessions).toBe(0);
    } finally {
      proxy.proc.kill();
      await server.stop();
    }
  });

  test("on exit the session is DELETEd; events name the server by origin and never carry the header value", async () => {
    const before = (await server.stats()).deletes;
    expect(await proxy.close()).toBe(0);
    // The session had expired: the DELETE still goes out (404 is the server's business).
    expect((await server.stats()).deletes).toBe(before + 1);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.length).toBeGreaterThan(100);
    for (const event of all) expect(event.runtime_meta["baton/server"]).toBe(new URL(server.url).origin);
    const expired = all.filter((e) => e.event_type === "tool_call_error" && e.payload.error_type === "session_expired");
    expect(expired.length).toBe(2);
    expect(all.some((e) => e.event_type === "tool_call_error" && e.payload.error_type === "cancelled")).toBe(true);
    expect(JSON.stringify(all)).not.toContain(SECRET);
    expect(proxy.stderr()).not.toContain(SECRET);
  });
});

function i2(id: number): boolean {
  return id % 2 === 0;
}

describe("baton-proxy --url: other server shapes, and failures", () => {
  test("a server that is down at start: initialize gets an error naming the origin, not a fake handshake", async () => {
    const url = `http://127.0.0.1:${freePort()}/mcp`;
    const dir = tempDir();
    const proxy = await startProxy([], {
      args: ["--url", url],
      env: { BATON_EVENT_SINK: `file://${join(dir, "e.jsonl")}` },
    });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.result).toBeUndefined();
    expect(init.error.message).toContain(new URL(url).origin);
    expect(init.error.message).toContain("unreachable");
    expect(init.error.data["baton/error_type"]).toBe("upstream_unreachable");
    expect(await proxy.close()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a server that goes down mid-session: the call fails as upstream_unreachable", async () => {
    const server = await startRemoteFixture();
    const dir = tempDir();
    const events = join(dir, "e.jsonl");
    const proxy = await startProxy([], { args: ["--url", server.url], env: { BATON_EVENT_SINK: `file://${events}` } });
    await handshake(proxy);
    await server.stop();
    const answer = await proxy.request(1, "tools/call", { name: "echo", arguments: { text: "x" } });
    expect(answer.error.message).toContain("unreachable");
    await proxy.close();
    const errors = readValidatedEvents(events).filter((e) => e.event_type === "tool_call_error");
    expect(errors.map((e) => e.payload.error_type)).toEqual(["upstream_unreachable"]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("HTTP 503 and a stalled server (BATON_UPSTREAM_TIMEOUT) become errors, never a hang", async () => {
    let stall = false;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async () => {
        if (stall) await Bun.sleep(5_000);
        return new Response("upstream overloaded", { status: 503, statusText: "Service Unavailable" });
      },
    });
    const dir = tempDir();
    const events = join(dir, "e.jsonl");
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_UPSTREAM_TIMEOUT: "0.5", BATON_EVENT_SINK: `file://${events}` },
    });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.error.message).toContain("HTTP 503");
    const failed = await proxy.request(1, "tools/call", { name: "echo", arguments: {} });
    expect(failed.error.data["baton/error_type"]).toBe("http_503");
    stall = true;
    const slow = await proxy.request(2, "tools/call", { name: "echo", arguments: {} });
    expect(slow.error.message).toContain("did not answer within 0.5 s");
    await proxy.close();
    server.stop(true);
    expect(
      readValidatedEvents(events)
        .map((e) => e.payload.error_type)
        .filter(Boolean),
    ).toEqual(["http_503", "upstream_timeout"]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("2026-07-28 protocol errors sent with a 4xx (404 + -32601, 400 + -32022) reach the client as the server's own answer, as over stdio; a 4xx for another id stays an http_ error", async () => {
    const modern = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "modern-client", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    };
    // The bodies as a 2026-07-28 server writes them (SDK v2 createMcpHandler: unknown method → 404).
    const notFound = '{"jsonrpc":"2.0","id":"m1","error":{"code":-32601,"message":"Method not found"}}';
    const badVersion =
      '{"jsonrpc":"2.0","id":2,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"supported":["2026-07-28"],"requested":"2099-01-01"}}}';
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = (await request.json()) as { id?: unknown; method: string; params?: any };
        const json = { "content-type": "application/json" };
        if (body.method === "foo/bar") return new Response(notFound, { status: 404, headers: json });
        if (body.method === "tools/call" && body.params?.name === "elsewhere")
          return new Response('{"jsonrpc":"2.0","id":"other","error":{"code":-32602,"message":"not yours"}}', {
            status: 400,
            headers: json,
          });
        if (body.params?._meta?.["io.modelcontextprotocol/protocolVersion"] === "2099-01-01")
          return new Response(badVersion, { status: 400, headers: json });
        return Response.json({ jsonrpc: "2.0", id: body.id, result: { content: [], resultType: "complete" } });
      },
    });
    const dir = tempDir();
    const events = join(dir, "e.jsonl");
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    try {
      const unknown = await proxy.request("m1", "foo/bar", { _meta: modern });
      expect(unknown.error).toEqual({ code: -32601, message: "Method not found" });
      expect(proxy.lines).toContain(notFound);
      const refused = await proxy.request(2, "tools/call", {
        name: "echo",
        arguments: {},
        _meta: { ...modern, "io.modelcontextprotocol/protocolVersion": "2099-01-01" },
      });
      expect(refused.error.code).toBe(-32022); // what an SDK v2 client corrects its version from
      expect(proxy.lines).toContain(badVersion);
      const other = await proxy.request(3, "tools/call", { name: "elsewhere", arguments: {}, _meta: modern });
      expect(other.error.code).toBe(-32603);
      expect(other.error.data["baton/error_type"]).toBe("http_400");
      expect(await proxy.close()).toBe(0);
      const errors = readValidatedEvents(events).filter((e) => e.event_type === "tool_call_error");
      expect(errors.map((e) => e.payload.error_type)).toEqual(["jsonrpc_-32022", "http_400"]);
    } finally {
      await proxy.close();
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a 401 with no way to authorize answers within seconds with the auth login hint", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("no", { status: 401 }) });
    const home = tempDir();
    const url = `http://127.0.0.1:${server.port}/mcp`;
    const proxy = await startProxy([], { args: ["--url", url], env: { BATON_CONFIG_DIR: home } });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.error.message).toContain(`baton-proxy auth login --url ${url}`);
    expect(init.error.data["baton/error_type"]).toBe("upstream_auth");
    await proxy.close();
    server.stop(true);
    rmSync(home, { recursive: true, force: true });
  });

  test("an authorization server that never answers: the request still gets its error (the OAuth requests are bounded too)", async () => {
    const seen: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: (request): Response | Promise<Response> => {
        const { pathname, origin } = new URL(request.url);
        seen.push(pathname);
        if (pathname === "/mcp") {
          const metadata = `${origin}/.well-known/oauth-protected-resource/mcp`;
          return new Response(null, {
            status: 401,
            headers: { "WWW-Authenticate": `Bearer resource_metadata="${metadata}"` },
          });
        }
        if (pathname.startsWith("/.well-known/oauth-protected-resource"))
          return Response.json({ resource: `${origin}/mcp`, authorization_servers: [`${origin}/as`] });
        return new Promise<Response>(() => undefined); // the authorization server's metadata never comes
      },
    });
    const home = tempDir();
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_CONFIG_DIR: home, BATON_UPSTREAM_TIMEOUT: "1", BATON_OAUTH_OPENER: "true" },
    });
    try {
      const init = await proxy.request(0, "initialize", INIT_PARAMS);
      expect(seen).toContain("/.well-known/oauth-authorization-server/as");
      expect(init.error.data["baton/error_type"]).toBe("upstream_auth");
      expect(init.error.message).toContain("did not answer within 1 s");
    } finally {
      await proxy.close();
      server.stop(true);
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("auth login: an authorization server that never answers fails the login with its origin named (BATON_UPSTREAM_TIMEOUT)", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: (request): Response | Promise<Response> => {
        const { pathname, origin } = new URL(request.url);
        if (pathname === "/mcp")
          return new Response(null, {
            status: 401,
            headers: {
              "WWW-Authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`,
            },
          });
        if (pathname.startsWith("/.well-known/oauth-protected-resource"))
          return Response.json({ resource: `${origin}/mcp`, authorization_servers: [`${origin}/as`] });
        return new Promise<Response>(() => undefined); // the authorization server's metadata never comes
      },
    });
    const dir = tempDir();
    const url = `http://127.0.0.1:${server.port}/mcp`;
    const env = { BATON_CONFIG_DIR: dir, BATON_OAUTH_OPENER: "true", BATON_UPSTREAM_TIMEOUT: "1" };
    try {
      const login = await runBinary(["auth", "login", "--url", url], env);
      expect(login.code).toBe(1);
      expect(login.stderr).toContain(
        `http://127.0.0.1:${server.port} did not answer within 1 s (BATON_UPSTREAM_TIMEOUT)`,
      );
      // A bad value is refused as the proxy refuses it, not silently replaced by the default.
      const refused = await runBinary(["auth", "login", "--url", url], { ...env, BATON_UPSTREAM_TIMEOUT: "soon" });
      expect(refused.code).toBe(78);
      expect(refused.stderr).toContain("BATON_UPSTREAM_TIMEOUT must be a positive number of seconds");
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const mode of [["--json"], ["--stateless"], ["--stateless", "--json"]]) {
    test(`a ${mode.join(" ")} server: every answer arrives; the session is DELETEd only when there is one`, async () => {
      const server = await startRemoteFixture(mode);
      const proxy = await startProxy([], { args: ["--url", server.url] });
      const init = await handshake(proxy);
      expect(init.result.serverInfo.name).toBe("remote-fixture");
      const ids = [1, 2, 3, 4, 5];
      for (const id of ids) proxy.send(call(id, "echo", { text: `j${id}` }));
      for (const id of ids) expect((await proxy.next((m) => m.id === id)).result.content[0].text).toBe(`echo: j${id}`);
      expect(await proxy.close()).toBe(0);
      const stats = await server.stats();
      expect(stats.deletes).toBe(mode.includes("--stateless") ? 0 : 1);
      await server.stop();
    });
  }

  test("BATON_UPSTREAM_AUTH_TOKEN is sent as a bearer; a 401 for it names the variable, never the token, and starts no OAuth", async () => {
    const seen: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("authorization") ?? "-"}`);
        return new Response("denied", { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
      },
    });
    const token = "s3cr3t-upstream-token-value";
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_UPSTREAM_AUTH_TOKEN: token },
    });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.error.message).toContain("BATON_UPSTREAM_AUTH_TOKEN");
    expect(init.error.data["baton/error_type"]).toBe("upstream_auth");
    expect(JSON.stringify(init)).not.toContain(token);
    await proxy.close();
    server.stop(true);
    expect(seen).toEqual([`POST /mcp Bearer ${token}`]); // no discovery, no registration
    expect(proxy.stderr()).not.toContain(token);
  });

  test("a server that closes a call's stream to make the client poll (2025-11-25) is polled until it answers", async () => {
    // Each poll is a GET with Last-Event-ID that the server accepts and closes again with nothing new
    // (the SDK server's closeSSEStream does this); only the eighth brings the answer. Nothing broke.
    const sse = { "content-type": "text/event-stream" };
    let polls = 0;
    const server = scriptedRemote({
      name: "poller",
      protocolVersion: "2025-11-25",
      session: true,
      other: (request) => {
        if (request.headers.get("last-event-id") === null) return new Response(null, { status: 405 });
        polls++;
        if (polls < 8) return new Response(": still working\n\n", { headers: sse });
        const answer = { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "done" }] } };
        return new Response(`id: e2\ndata: ${JSON.stringify(answer)}\n\n`, { headers: sse });
      },
      call: () => new Response("id: e1\nretry: 10\ndata:\n\n", { headers: sse }),
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    await handshake(proxy);
    const answer = await proxy.request(1, "tools/call", { name: "long", arguments: {} });
    expect(answer.error).toBeUndefined();
    expect(answer.result.content[0].text).toBe("done");
    expect(polls).toBe(8);
    await proxy.close();
    server.stop(true);
  });

  test("the server's GET stream, closed again and again with nothing to say, is reopened and still delivers", async () => {
    // A server polling its standalone stream (closeStandaloneSSEStream) or an intermediary closing
    // idle connections: every open succeeds and ends empty; the seventh brings a notification.
    const sse = { "content-type": "text/event-stream" };
    let opens = 0;
    const server = scriptedRemote({
      name: "g",
      protocolVersion: "2025-11-25",
      session: true,
      other: () => {
        opens++;
        if (opens < 7) return new Response("retry: 10\n: nothing yet\n\n", { headers: sse });
        const note = { jsonrpc: "2.0", method: "notifications/tools/list_changed" };
        return new Response(`data: ${JSON.stringify(note)}\n\n`, { headers: sse });
      },
      call: () => new Response(null, { status: 500 }),
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    await handshake(proxy);
    await proxy.next((m) => m.method === "notifications/tools/list_changed");
    expect(proxy.stderr()).not.toContain("gave up");
    await proxy.close();
    server.stop(true);
  });

  test("a call's stream that breaks after it began, with no event id to resume from, is upstream_stream_lost, not unreachable", async () => {
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const server = scriptedRemote({
      name: "b",
      call: () => {
        const progress = {
          jsonrpc: "2.0",
          method: "notifications/progress",
          params: { progressToken: "t", progress: 1 },
        };
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(progress)}\n\n`));
            await Bun.sleep(50);
            controller.error(new Error("the server process died"));
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      },
    });
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    await handshake(proxy);
    const answer = await proxy.request(1, "tools/call", { name: "work", arguments: {}, _meta: { progressToken: "t" } });
    expect(answer.error.data["baton/error_type"]).toBe("upstream_stream_lost");
    expect(answer.error.message).not.toContain("unreachable");
    await proxy.close();
    server.stop(true);
    expect(readValidatedEvents(events).find((e) => e.event_type === "tool_call_error")?.payload.error_type).toBe(
      "upstream_stream_lost",
    );
    rmSync(dir, { recursive: true, force: true });
  });

  test("an empty event id resets the stream's last event id (WHATWG): a broken stream after it is not resumed with an empty Last-Event-ID", async () => {
    const resumes: (string | null)[] = [];
    const server = scriptedRemote({
      name: "e",
      call: () => {
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            const progress = {
              jsonrpc: "2.0",
              method: "notifications/progress",
              params: { progressToken: "t", progress: 1 },
            };
            controller.enqueue(
              new TextEncoder().encode(
                `id: ev-1\ndata: ${JSON.stringify(progress)}\n\nid:\ndata: ${JSON.stringify(progress)}\n\n`,
              ),
            );
            await Bun.sleep(50);
            controller.error(new Error("the server process died"));
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      },
      seen: (request) => {
        if (request.method === "GET") resumes.push(request.headers.get("last-event-id"));
      },
    });
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: "stderr:" },
    });
    await handshake(proxy);
    const answer = await proxy.request(1, "tools/call", { name: "work", arguments: {}, _meta: { progressToken: "t" } });
    expect(answer.error.data["baton/error_type"]).toBe("upstream_stream_lost");
    expect(answer.error.message).toContain("gave no event id to resume it from");
    expect(resumes.filter((id) => id !== null)).toEqual([]);
    await proxy.close();
    server.stop(true);
  });

  test("otlp: spans of a --url call: the SERVER span toward the host is pipe, its CLIENT child toward the server tcp", async () => {
    const server = await startRemoteFixture();
    const otlp = startOtlpReceiver();
    const proxy = await startProxy([], {
      args: ["--url", server.url],
      env: {
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    await handshake(proxy);
    const echo = await proxy.request(1, "tools/call", { name: "echo", arguments: { text: "x" } });
    expect(echo.result.content[0].text).toBe("echo: x");
    expect(await proxy.close()).toBe(0);
    const spans = otlp.spans().filter((span) => span.name === "tools/call echo");
    expect(spans.map((span) => [span.kind, span.attributes["network.transport"]]).sort()).toEqual([
      [2, "pipe"],
      [3, "tcp"],
    ]);
    // The CLIENT span names the remote server and its HTTP version; the stdio hop has neither.
    const keys = ["server.address", "server.port", "network.protocol.name", "network.protocol.version"];
    const remote = new URL(server.url);
    expect(spans.map((span) => [span.kind, ...keys.map((key) => span.attributes[key])]).sort()).toEqual([
      [2, undefined, undefined, undefined, undefined],
      [3, remote.hostname, Number(remote.port), "http", "1.1"],
    ]);
    await otlp.stop();
    await server.stop();
  });

  test("a server that echoes the credentials in its error: the client's error and the event never carry them", async () => {
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        await request.text();
        const message = `key ${request.headers.get("x-api-key")} is not valid for ${request.headers.get("authorization")}`;
        return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message } }, { status: 403 });
      },
    });
    const key = "plainkey4242abcd";
    const token = "tokenvalue9191xyz";
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`, "--header", "X-Api-Key: ${K}"],
      env: { K: key, BATON_UPSTREAM_AUTH_TOKEN: token, BATON_SCRUB: "off", BATON_EVENT_SINK: `file://${events}` },
    });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.error.message).toContain("HTTP 403");
    const failed = await proxy.request(1, "tools/call", { name: "echo", arguments: {} });
    expect(failed.error.data["baton/error_type"]).toBe("http_403");
    await proxy.close();
    server.stop(true);
    for (const text of [...proxy.lines, readFileSync(events, "utf8"), proxy.stderr()]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(token);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("--url-env: the URL (a key in its path and query) is read from the environment, reaches the server, and is in no argv, log or event", async () => {
    const seen: string[] = [];
    const server = scriptedRemote({
      name: "keyed",
      seen: (request) => seen.push(`${request.method} ${new URL(request.url).pathname}${new URL(request.url).search}`),
      call: (body) =>
        Response.json({ jsonrpc: "2.0", id: body.id, result: { content: [{ type: "text", text: "ok" }] } }),
    });
    const pathKey = "zk-path-key-7890abcd";
    const queryKey = "sk-live-query-5566778899";
    const dir = tempDir();
    const events = join(dir, "e.jsonl");
    const proxy = await startProxy([], {
      args: ["--url-env", "MCP_URL"],
      env: {
        MCP_URL: `http://127.0.0.1:${server.port}/mcp/${pathKey}/?api_key=${queryKey}`,
        BATON_EVENT_SINK: `file://${events}`,
      },
    });
    const init = await handshake(proxy);
    expect(init.result.serverInfo.name).toBe("keyed");
    // What every local user can read of the running proxy: its command line (read once it answers, so after exec).
    const cmdline = readFileSync(`/proc/${proxy.proc.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("--url-env\0MCP_URL");
    expect((await proxy.request(1, "tools/call", { name: "x", arguments: {} })).result.content[0].text).toBe("ok");
    expect(await proxy.close()).toBe(0);
    server.stop(true);
    expect(seen[0]).toBe(`POST /mcp/${pathKey}/?api_key=${queryKey}`);
    const all = readValidatedEvents(events);
    expect(all.length).toBeGreaterThan(0);
    for (const text of [cmdline, JSON.stringify(all), proxy.stderr()]) {
      expect(text).not.toContain(pathKey);
      expect(text).not.toContain(queryKey);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("--url-env: an unset or empty variable, or a bad URL in it, refuses to start (78) naming the variable, never the URL", async () => {
    const unset = await runBinary(["--url-env", "MCP_URL"]);
    expect(unset.code).toBe(78);
    expect(unset.stderr).toContain("--url-env names MCP_URL, which is not set in the environment");
    expect((await runBinary(["--url-env", "MCP_URL"], { MCP_URL: "" })).stderr).toContain(
      "--url-env names MCP_URL, which is empty",
    );
    const bad = await runBinary(["--url-env", "MCP_URL"], { MCP_URL: "ftp://mcp.example.com/zk-path-key?k=sk-live-1" });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain('--url-env MCP_URL must be http(s):// (got "ftp:")');
    expect(bad.stderr).not.toContain("zk-path-key");
    expect(bad.stderr).not.toContain("sk-live-1");
    const both = await runBinary(["--url", "https://x.example/mcp", "--url-env", "MCP_URL"]);
    expect(both.code).toBe(2);
  });

  test("a JSON answer that starts with a byte order mark is read as JSON (as fetch's json() does): one answer per request", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id?: number; method: string };
        if (body.id === undefined) return new Response(null, { status: 202 });
        const result =
          body.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "bom", version: "1" } }
            : { content: [{ type: "text", text: "ok" }] };
        const json = JSON.stringify({ jsonrpc: "2.0", id: body.id, result });
        return new Response(`\uFEFF${json}`, { headers: { "content-type": "application/json; charset=utf-8" } });
      },
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    const init = await handshake(proxy);
    expect(init.result.serverInfo.name).toBe("bom");
    expect(init.result.instructions).toContain("baton_annotate"); // the proxy read the answer, so it added its part
    const call = await proxy.request(1, "tools/call", { name: "x", arguments: {} });
    expect(call.result.content[0].text).toBe("ok");
    await proxy.close();
    server.stop(true);
    expect(proxy.lines.map((line) => JSON.parse(line).id)).toEqual([0, 1]);
    expect(proxy.lines.every((line) => !line.startsWith("\uFEFF"))).toBe(true);
  });

  test("a 200 HTML page (a login portal in front of the server) is an error, never a line of HTML on stdout", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        await request.text();
        return new Response("<html>\n<body>Sign in to continue</body>\n</html>\n", {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      },
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    const init = await proxy.request(0, "initialize", INIT_PARAMS);
    expect(init.error.data["baton/error_type"]).toBe("upstream_protocol");
    expect(init.error.message).toContain("text/html");
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await proxy.waitForStderr("was not delivered");
    await proxy.close();
    server.stop(true);
    for (const line of proxy.lines) expect(JSON.parse(line).jsonrpc).toBe("2.0");
    expect(proxy.lines).toHaveLength(1);
  });

  test("redirects: followed within the server's origin; to another origin never, so --header values stay with it", async () => {
    const key = "gateway-key-31415926";
    const elsewhere: string[] = [];
    const other = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        elsewhere.push(`${request.method} ${request.headers.get("x-api-key")}`);
        return new Response(null, { status: 404 });
      },
    });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/old") return new Response(null, { status: 308, headers: { location: "/mcp" } });
        if (path === "/moved") return Response.redirect(`http://localhost:${other.port}/mcp`, 307);
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id?: number };
        const result = { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "r", version: "1" } };
        return Response.json({ jsonrpc: "2.0", id: body.id, result });
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    const env = { K: key };
    const same = await startProxy([], { args: ["--url", `${base}/old`, "--header", "X-Api-Key: ${K}"], env });
    expect((await same.request(0, "initialize", INIT_PARAMS)).result.serverInfo.name).toBe("r");
    await same.close();
    const moved = await startProxy([], { args: ["--url", `${base}/moved`, "--header", "X-Api-Key: ${K}"], env });
    const refused = await moved.request(0, "initialize", INIT_PARAMS);
    expect(refused.error.data["baton/error_type"]).toBe("http_307");
    expect(refused.error.message).toContain(`http://localhost:${other.port}`);
    await moved.close();
    server.stop(true);
    other.stop(true);
    expect(elsewhere).toEqual([]);
  });

  test("a client message over 64 MiB is not sent, and its request is answered with an error (id first or last)", async () => {
    const posted: number[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 256 * 1024 * 1024,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const text = await request.text();
        posted.push(text.length);
        const body = JSON.parse(text) as { id?: number; method: string };
        if (body.id === undefined) return new Response(null, { status: 202 });
        const result =
          body.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "r", version: "1" } }
            : {};
        return Response.json({ jsonrpc: "2.0", id: body.id, result });
      },
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    try {
      await handshake(proxy);
      const big = "x".repeat(65 * 1024 * 1024);
      proxy.send(
        `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"${big}"}}}\n`,
      );
      const first = await proxy.next((m) => m.id === 7, 20_000);
      expect(first.error.code).toBe(-32603);
      expect(first.error.data["baton/error_type"]).toBe("request_too_large");
      expect(first.error.message).toContain("64 MiB");
      // The SDKs write the id last ({...request, jsonrpc, id}).
      proxy.send(
        `{"method":"tools/call","params":{"name":"echo","arguments":{"text":"${big}"}},"jsonrpc":"2.0","id":"b"}\n`,
      );
      expect((await proxy.next((m) => m.id === "b", 20_000)).error.data["baton/error_type"]).toBe("request_too_large");
      proxy.send(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"${big}"}}\n`);
      expect((await proxy.request(8, "ping")).result).toEqual({});
      await proxy.waitForStderr("no request id found in it to answer");
      expect(proxy.stderr()).toContain('its request "b" gets an error');
      expect(proxy.lines.filter((l) => l.includes('"error"'))).toHaveLength(2);
      expect(Math.max(...posted)).toBeLessThan(1024);
    } finally {
      await proxy.close();
      server.stop(true);
    }
  });

  test("out of file descriptors (ulimit -n 64, 150 calls at once): the POSTs wait for sockets, none fails", async () => {
    const server = scriptedRemote({
      name: "fds",
      call: async (body) => {
        await Bun.sleep(100);
        return Response.json({
          jsonrpc: "2.0",
          id: body.id,
          result: { content: [{ type: "text", text: `r${body.id}` }] },
        });
      },
    });
    const dir = tempDir();
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")}` },
      fdLimit: 64,
    });
    try {
      await handshake(proxy);
      const ids = Array.from({ length: 150 }, (_, i) => 100 + i);
      for (const id of ids) proxy.send(call(id, "echo", {}));
      const answers = await Promise.all(ids.map((id) => proxy.next((m) => m.id === id, 20_000)));
      expect(answers.filter((a) => "error" in a).map((a) => a.error.message)).toEqual([]);
      expect(answers.map((a) => a.result.content[0].text)).toEqual(ids.map((id) => `r${id}`));
      // The sockets kept alive hold every descriptor left: the event file cannot be opened, and that is said.
      await proxy.close();
      expect(proxy.stderr()).toContain("EMFILE");
    } finally {
      await proxy.close();
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a malformed line reusing the id of a request in flight gets the server's refusal with a null id; the request in flight keeps its own answer", async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = JSON.parse(await request.text()) as { id?: unknown; method?: unknown };
        if (typeof body.method !== "string")
          return Response.json(
            { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } },
            { status: 400 },
          );
        if (body.id === undefined) return new Response(null, { status: 202 });
        if (body.method === "tools/call") await released;
        const result =
          body.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "r", version: "1" } }
            : { content: [{ type: "text", text: "its own answer" }] };
        return Response.json({ jsonrpc: "2.0", id: body.id, result });
      },
    });
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    try {
      await handshake(proxy);
      proxy.send(call(5, "echo", { text: "x" }));
      proxy.send('{"jsonrpc":"2.0","id":5,"method":7}\n');
      const refused = await proxy.next((m) => "error" in m);
      expect(refused.id).toBeNull();
      expect(refused.error.data["baton/error_type"]).toBe("http_400");
      expect(refused.error.message).toContain("Invalid Request");
      release();
      const answer = await proxy.next((m) => m.id === 5);
      expect(answer.result.content[0].text).toBe("its own answer");
      expect(await proxy.close()).toBe(0);
      expect(proxy.lines.filter((l) => JSON.parse(l).id === 5)).toHaveLength(1);
      const ends = readValidatedEvents(events).filter((e) => e.event_type.startsWith("tool_call_"));
      expect(ends.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
    } finally {
      release();
      await proxy.close();
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a client line that is not JSON-RPC is POSTed unchanged, as the log says; a request among them gets the server's refusal, never a hang", async () => {
    const posted: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const text = await request.text();
        posted.push(text);
        let body: { id?: unknown; method?: unknown };
        try {
          body = JSON.parse(text);
        } catch {
          return Response.json(
            { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } },
            { status: 400 },
          );
        }
        if (typeof body.method !== "string")
          return Response.json(
            { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } },
            { status: 400 },
          );
        if (body.id === undefined) return new Response(null, { status: 202 });
        const result =
          body.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "r", version: "1" } }
            : {};
        return Response.json({ jsonrpc: "2.0", id: body.id, result });
      },
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    try {
      await handshake(proxy);
      proxy.send('{"jsonrpc":"2.0","id":5,"method":7}\n{not json\n');
      const refused = await proxy.next((m) => m.id === 5);
      expect(refused.error.code).toBe(-32603);
      expect(refused.error.data["baton/error_type"]).toBe("http_400");
      expect(refused.error.message).toContain("Invalid Request");
      // In a batch too: the server refuses the whole POST, so both of its requests get that answer.
      proxy.send('[{"jsonrpc":"2.0","id":"b1","method":[]},{"jsonrpc":"2.0","id":"b2","method":"ping"}]\n');
      for (const id of ["b1", "b2"])
        expect((await proxy.next((m) => m.id === id)).error.data["baton/error_type"]).toBe("http_400");
      expect((await proxy.request(6, "ping")).result).toEqual({});
      expect(posted).toContain('{"jsonrpc":"2.0","id":5,"method":7}');
      expect(posted).toContain("{not json");
      await proxy.waitForStderr("was not delivered");
      expect(proxy.stderr()).toContain("forwarded a line that is not JSON from the client unchanged");
      // A client sending junk in a loop does not flood the host's log: five lines, then a count at the end.
      proxy.send("{not json either\n".repeat(20));
      await proxy.waitForStderr("further ones are counted, not logged");
      expect((await proxy.request(7, "ping")).result).toEqual({});
      await proxy.close();
      expect(proxy.stderr().split("was not delivered:").length - 1).toBe(5);
      expect(proxy.stderr()).toContain("21 messages to");
    } finally {
      await proxy.close();
      server.stop(true);
    }
  });

  test("stdin closes while a slow initialize is in flight: its late answer still arrives and its session is DELETEd", async () => {
    let posted: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (posted = resolve));
    const deleted: (string | null)[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method === "DELETE") {
          deleted.push(request.headers.get("mcp-session-id"));
          return new Response(null, { status: 200 });
        }
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id: number };
        posted();
        // Past the 500 ms every request in flight gets after EOF, within the handshake's extra 500 ms.
        await Bun.sleep(700);
        const result = { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "late", version: "1" } };
        return Response.json({ jsonrpc: "2.0", id: body.id, result }, { headers: { "mcp-session-id": "S-late" } });
      },
    });
    const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
    try {
      proxy.send({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS });
      await arrived;
      expect(await proxy.close()).toBe(0);
      expect(proxy.lines.map((l) => JSON.parse(l).result?.serverInfo?.name)).toEqual(["late"]);
      expect(deleted).toEqual(["S-late"]);
    } finally {
      server.stop(true);
    }
  });

  test("auth login: a redirect to another origin is not followed, so --header values never reach it; said once", async () => {
    const elsewhere: string[] = [];
    const other = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        elsewhere.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-api-key")}`);
        return new Response(null, { status: 404 });
      },
    });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => Response.redirect(`http://localhost:${other.port}${new URL(request.url).pathname}`, 307),
    });
    const dir = tempDir();
    try {
      const login = await runBinary(
        ["auth", "login", "--url", `http://127.0.0.1:${server.port}/mcp`, "--header", "X-Api-Key: ${K}"],
        { K: "gateway-key-27182818", BATON_CONFIG_DIR: dir, BATON_OAUTH_OPENER: "true" },
      );
      expect(login.code).toBe(1);
      expect(login.stdout).toBe("");
      const said = login.stderr.split("\n").filter((l) => l.includes("another origin, not followed"));
      expect(said).toEqual([
        `baton-proxy: http://127.0.0.1:${server.port} answered HTTP 307, a redirect to http://localhost:${other.port}/mcp, another origin, not followed (--header values go only to http://127.0.0.1:${server.port})`,
      ]);
      expect(login.stderr).not.toContain("gateway-key-27182818");
      expect(elsewhere).toEqual([]);
    } finally {
      server.stop(true);
      other.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a server that speaks only HTTP+SSE (2024-11-05) is reached through the fallback", async () => {
    const server = await startRemoteFixture(["--legacy-sse"]);
    const proxy = await startProxy([], { args: ["--url", server.url] });
    const init = await handshake(proxy);
    expect(init.result.serverInfo.name).toBe("remote-fixture");
    const echo = await proxy.request(1, "tools/call", { name: "echo", arguments: { text: "old" } });
    expect(echo.result.content[0].text).toBe("echo: old");
    await proxy.waitForStderr("HTTP+SSE");
    expect(await proxy.close()).toBe(0);
    await server.stop();
  });
});
