// Unit: a handshake whose POST gets no upstream answer (unreachable, or the client gone) ends its exchange; it never reaches the session table, so nothing else would.

import { describe, expect, test } from "bun:test";
import { IDENTITY_EXCHANGE, type RequestContext, type SessionExchange } from "../src/serve/exchange.ts";
import type { ClientHop } from "../src/serve/forward-headers.ts";
import { exchangePost } from "../src/serve/mcp-post-exchange.ts";
import type { McpRouteDeps } from "../src/serve/mcp-relay.ts";
import { createServeMetrics } from "../src/serve/serve-metrics.ts";
import { SessionTable } from "../src/serve/session-table.ts";
import { StreamRegistry } from "../src/serve/stream-registry.ts";
import { classifyLine, encodeUtf8, type Message } from "../src/wire/jsonrpc.ts";
import { createUpstreamDownLog } from "../src/serve/upstream-down-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const context: RequestContext = { remoteAddress: "127.0.0.1", consentToken: undefined, principal: undefined };
const hop: ClientHop = { remoteAddress: "127.0.0.1", proto: "http", host: "127.0.0.1" };
const INITIALIZE = encodeUtf8(
  JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } },
  }),
);

function setup(upstream: URL) {
  let created = 0;
  const closed: string[] = [];
  const sessions = new SessionTable({
    create: (): SessionExchange => {
      created++;
      return { ...IDENTITY_EXCHANGE, close: (reason) => closed.push(reason) };
    },
    idleMs: 60_000,
    maxSessions: 100,
    evicted: () => undefined,
    now: () => 0,
    ended: () => undefined,
  });
  const deps = {
    config: { upstream, upstreamViaFetch: false },
    sessions,
    metrics: createServeMetrics({ sessionsOpen: () => sessions.size, draining: () => false, eventsBySink: () => [] }),
    logger: createMemoryLogger(),
    downLog: createUpstreamDownLog(createMemoryLogger()),
    streams: new StreamRegistry(),
    answers: new StreamRegistry(),
    now: () => 0,
    isDraining: () => false,
    principalOf: () => undefined,
    keepOpen: () => undefined,
    restoreIdle: () => undefined,
  } as unknown as McpRouteDeps;
  const line = classifyLine(INITIALIZE);
  const messages = line.kind === "message" ? [line.message as Message] : [];
  const handshake = (signal?: AbortSignal) =>
    exchangePost(
      new Request(upstream.href, { method: "POST", body: INITIALIZE, signal }),
      hop,
      deps,
      sessions.open(context),
      { body: INITIALIZE, line, messages, requestIds: [0] },
      context,
      true,
    );
  return { sessions, handshake, created: () => created, closed };
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

describe("a handshake the upstream never answered", () => {
  test("an unreachable upstream (502) ends each handshake's exchange", async () => {
    const t = setup(new URL(`http://127.0.0.1:${closedPort()}/mcp`));
    for (let i = 0; i < 3; i++) expect((await t.handshake()).status).toBe(502);
    expect(t.created()).toBe(3);
    expect(t.closed).toHaveLength(3);
    expect(t.sessions.size).toBe(0);
  });

  test("a client gone before the upstream answered (499) ends the handshake's exchange", async () => {
    // The upstream takes the request and never answers; the client then goes away.
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        arrived();
        return new Promise<Response>(() => undefined);
      },
    });
    try {
      const t = setup(new URL(`http://127.0.0.1:${server.port}/mcp`));
      const client = new AbortController();
      const answer = t.handshake(client.signal);
      await reached;
      client.abort();
      expect((await answer).status).toBe(499);
      expect(t.closed).toHaveLength(1);
      expect(t.sessions.size).toBe(0);
    } finally {
      server.stop(true);
    }
  });
});
