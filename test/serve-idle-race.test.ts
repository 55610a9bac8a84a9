// Unit: a session's idle clock and its requests overlapping: a request or stream that outlasts --session-idle-ms keeps the session, and its end counts as use.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { IDENTITY_EXCHANGE, type SessionExchange } from "../src/serve/exchange.ts";
import type { ClientHop } from "../src/serve/forward-headers.ts";
import { handleMcp } from "../src/serve/mcp-route.ts";
import type { McpRouteDeps } from "../src/serve/mcp-relay.ts";
import { createServeMetrics } from "../src/serve/serve-metrics.ts";
import { SessionTable } from "../src/serve/session-table.ts";
import { StreamRegistry } from "../src/serve/stream-registry.ts";
import { createUpstreamDownLog } from "../src/serve/upstream-down-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const IDLE_MS = 60_000;
const hop: ClientHop = { remoteAddress: "127.0.0.1", proto: "http", host: "127.0.0.1" };

/** An upstream whose POST answers (JSON) and GET streams (SSE) end only when the test says so. */
let release: (() => void)[] = [];
let server: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => {
      if (request.method === "GET") {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(": open\n\n"));
            release.push(() => controller.close());
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      return new Promise<Response>((resolve) =>
        release.push(() =>
          resolve(Response.json({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "done" }] } })),
        ),
      );
    },
  });
});
afterAll(() => server.stop(true));

function setup() {
  let clock = 0;
  const closed: string[] = [];
  const sessions = new SessionTable({
    create: (): SessionExchange => ({ ...IDENTITY_EXCHANGE, close: (reason) => closed.push(reason) }),
    idleMs: IDLE_MS,
    maxSessions: 100,
    evicted: () => undefined,
    now: () => clock,
    ended: () => undefined,
  });
  const deps = {
    config: {
      upstream: new URL(`http://127.0.0.1:${server.port}/mcp`),
      upstreamViaFetch: false,
      maxBodyBytes: 1_000_000,
      bodyTimeoutMs: 10_000,
      baton: { consentMode: "static", consentToken: "local", allSinksLocal: true },
    },
    sessions,
    metrics: createServeMetrics({ sessionsOpen: () => sessions.size, draining: () => false, eventsBySink: () => [] }),
    logger: createMemoryLogger(),
    downLog: createUpstreamDownLog(createMemoryLogger()),
    streams: new StreamRegistry(),
    answers: new StreamRegistry(),
    now: () => clock,
    isDraining: () => false,
    principalOf: () => undefined,
    keepOpen: () => undefined,
    restoreIdle: () => undefined,
  } as unknown as McpRouteDeps;
  return { sessions, deps, closed, advance: (ms: number) => void (clock += ms) };
}

const onSession = (init: RequestInit) =>
  new Request("http://127.0.0.1/mcp", {
    ...init,
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": "s-1",
      ...(init.headers as Record<string, string> | undefined),
    },
  });

async function waitForUpstream(): Promise<() => void> {
  while (release.length === 0) await Bun.sleep(5);
  return release.shift() as () => void;
}

describe("a request that outlasts --session-idle-ms", () => {
  test("a tool call answered in JSON after longer than the idle bound: the session is still there for the next sweep (it was just used)", async () => {
    release = [];
    const t = setup();
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "slow", arguments: {} },
    });
    const answer = handleMcp(onSession({ method: "POST", body }), hop, t.deps);
    const answerNow = await waitForUpstream();
    t.advance(IDLE_MS + 1);
    expect(t.sessions.sweep()).toBe(0); // in flight: never expired
    answerNow();
    expect(await (await answer).text()).toContain("done");
    // The answer just went out: the session was used now, not when the call began.
    expect(t.sessions.sweep()).toBe(0);
    expect(t.sessions.size).toBe(1);
    expect(t.closed).toEqual([]);
    t.advance(IDLE_MS + 1);
    expect(t.sessions.sweep()).toBe(1);
  });

  test("a GET stream open longer than the idle bound: once it ends, the session is still there for the next sweep", async () => {
    release = [];
    const t = setup();
    const response = await handleMcp(
      onSession({ method: "GET", headers: { accept: "text/event-stream" } }),
      hop,
      t.deps,
    );
    const endStream = await waitForUpstream();
    t.advance(IDLE_MS + 1);
    expect(t.sessions.sweep()).toBe(0);
    endStream();
    await response.text();
    expect(t.sessions.sweep()).toBe(0);
    expect(t.sessions.size).toBe(1);
    t.advance(IDLE_MS + 1);
    expect(t.sessions.sweep()).toBe(1);
  });
});
