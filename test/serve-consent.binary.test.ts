// Black-box: per-request consent through the compiled `serve` (tokens in header or _meta, no token no trace, handshake decides injection).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { readValidatedEvents } from "./support/events.ts";
import {
  fixtureStats,
  startHttpFixture,
  startHttpV2Fixture,
  waitFor,
  type Upstream,
  postOnSession,
} from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const TOKEN_A = "ct_live_alpha_0001";
const TOKEN_B = "ct_live_bravo_0002";
const INJECTED = ["baton_annotate", "baton_session_report"];

let upstream: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await startHttpFixture();
  proxy = await startServe(["--upstream", upstream.url], { BATON_CONSENT_MODE: "per-request" });
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

/** An SDK v1 client whose requests carry `headers` (e.g. a consent token). */
async function connect(name: string, headers: Record<string, string> = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

const eventsOf = (agent: string) => readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === agent);

describe("per-request consent", () => {
  test("a handshake with a token: tools and instructions injected; each call's events carry its own request's token", async () => {
    const { client } = await connect("consenting-agent", { "baton-consent-token": TOKEN_A });
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(INJECTED));
    expect(client.getInstructions()).toContain("baton_annotate");
    await client.callTool({ name: "echo", arguments: { message: "with A" } });
    await client.close();

    // A second client of the same user sends its token in _meta instead (clients that cannot set headers).
    const { client: metaClient } = await connect("meta-agent", { "baton-consent-token": TOKEN_A });
    await metaClient.callTool({
      name: "echo",
      arguments: { message: "with B" },
      _meta: { "baton/consent_token": TOKEN_B },
    });
    const seen = await fixtureStats(upstream);
    // Removed before forwarding (the header wins, but the _meta key is stripped all the same).
    expect(JSON.stringify(seen.lastBody)).not.toContain("baton/consent_token");
    expect(JSON.stringify(seen.lastBody)).toContain("with B");
    await metaClient.close();

    await waitFor(
      () => eventsOf("consenting-agent").length >= 3 && eventsOf("meta-agent").length >= 2,
      "the calls' events",
    );
    // The listing carried the token too: its surface snapshot is recorded with it.
    expect(eventsOf("consenting-agent").map((e) => [e.event_type, e.consent_token])).toEqual([
      ["surface_snapshot", TOKEN_A],
      ["tool_call_start", TOKEN_A],
      ["tool_call_end", TOKEN_A],
    ]);
    expect(eventsOf("meta-agent").every((e) => e.consent_token === TOKEN_A)).toBe(true);
  });

  test("_meta token alone decides when there is no header", async () => {
    const { client } = await connect("meta-only-agent");
    await client.callTool({
      name: "echo",
      arguments: { message: "meta only" },
      _meta: { "baton/consent_token": TOKEN_B },
    });
    expect(JSON.stringify((await fixtureStats(upstream)).lastBody)).not.toContain("baton/consent_token");
    await client.close();
    await waitFor(() => eventsOf("meta-only-agent").length >= 2, "the call's events");
    expect(eventsOf("meta-only-agent").map((e) => e.consent_token)).toEqual([TOKEN_B, TOKEN_B]);
  });

  test("no token: the upstream exactly as it is (no injection) and no event at all", async () => {
    const direct = new Client({ name: "direct", version: "1" });
    await direct.connect(new StreamableHTTPClientTransport(new URL(upstream.url)));
    const { client } = await connect("anonymous-agent");
    expect((await client.listTools()).tools).toEqual((await direct.listTools()).tools);
    expect(client.getInstructions()).toBe(direct.getInstructions());
    await client.callTool({ name: "echo", arguments: { message: "untraced" } });
    await client.close();
    await direct.close();
    // A later consented call (another client) proves the file is being written meanwhile.
    const { client: witness } = await connect("witness-agent", { "baton-consent-token": TOKEN_A });
    await witness.callTool({ name: "echo", arguments: { message: "witness" } });
    await witness.close();
    await waitFor(() => eventsOf("witness-agent").length >= 2, "the witness events");
    expect(eventsOf("anonymous-agent")).toEqual([]);
    expect(readFileSync(proxy.eventsFile, "utf8")).not.toContain("untraced");
  });

  test("a session opened without a token records only the calls that bring one, still without injection", async () => {
    const { client, transport } = await connect("late-consent-agent");
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("baton_annotate");
    await client.callTool({ name: "echo", arguments: { message: "no token" } });
    const response = await postOnSession(
      proxy.url,
      transport.sessionId as string,
      { jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "echo", arguments: { message: "with token" } } },
      { "baton-consent-token": TOKEN_B },
    );
    expect(await response.text()).toContain("Echo: with token");
    await client.close();
    await waitFor(() => eventsOf("late-consent-agent").length >= 2, "the consented call's events");
    const events = eventsOf("late-consent-agent");
    expect(events.map((e) => [e.event_type, e.consent_token])).toEqual([
      ["tool_call_start", TOKEN_B],
      ["tool_call_end", TOKEN_B],
    ]);
    expect(JSON.stringify(events)).not.toContain("no token");
  });

  test("a session this replica never saw, whose first request here is the client's GET stream with its token: shown the additions", async () => {
    // A session opened elsewhere (another replica, or this one before a restart): its client reopens the GET stream first.
    const opened = await fetch(upstream.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "elsewhere-agent", version: "1" },
        },
      }),
    });
    await opened.text();
    const sessionId = opened.headers.get("mcp-session-id") as string;
    await (
      await postOnSession(upstream.url, sessionId, { jsonrpc: "2.0", method: "notifications/initialized" })
    ).text();
    const stream = new AbortController();
    const get = await fetch(proxy.url, {
      headers: { accept: "text/event-stream", "mcp-session-id": sessionId, "baton-consent-token": TOKEN_A },
      signal: stream.signal,
    });
    expect(get.status).toBe(200);
    const listed = await postOnSession(
      proxy.url,
      sessionId,
      { jsonrpc: "2.0", id: 5, method: "tools/list", params: {} },
      { "baton-consent-token": TOKEN_A },
    );
    const text = await listed.text();
    stream.abort();
    await get.body?.cancel().catch(() => undefined);
    await fetch(proxy.url, { method: "DELETE", headers: { "mcp-session-id": sessionId } });
    expect(text).toContain("baton_annotate");
  });

  test("malformed tokens count as absent and are counted in /metrics; tokens never appear in the log", async () => {
    const { client } = await connect("malformed-agent", { "baton-consent-token": "short" });
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain("baton_annotate");
    await client.callTool({ name: "echo", arguments: { message: "bad token" } });
    await client.close();
    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    expect(
      Number(/baton_consent_tokens_rejected_total\{reason="malformed"\} (\d+)/.exec(metrics)?.[1] ?? 0),
    ).toBeGreaterThan(0);
    expect(eventsOf("malformed-agent")).toEqual([]);
    const log = proxy.log.join("\n");
    for (const token of [TOKEN_A, TOKEN_B, "short"]) expect(log).not.toContain(token);
  });
});

describe("per-request consent with a remote sink", () => {
  test("starts without BATON_CONSENT_TOKEN; `local` counts as absent (placeholder); events reach the console with the request's token", async () => {
    const received: Record<string, unknown>[] = [];
    const console = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = await request.text();
        for (const line of body.split("\n").filter((l) => l.trim() !== "")) {
          const parsed = JSON.parse(line) as unknown;
          for (const event of Array.isArray(parsed) ? parsed : ((parsed as { events?: unknown[] }).events ?? [parsed]))
            received.push(event as Record<string, unknown>);
        }
        return Response.json({ accepted: true });
      },
    });
    const remote = await startServe(["--upstream", upstream.url], {
      BATON_CONSENT_MODE: "per-request",
      BATON_EVENT_SINK: `http://127.0.0.1:${console.port}`,
      BATON_API_KEY: "key-for-test-1234",
    });
    try {
      const placeholder = new Client({ name: "placeholder-agent", version: "1" });
      await placeholder.connect(
        new StreamableHTTPClientTransport(new URL(remote.url), {
          requestInit: { headers: { "baton-consent-token": "local" } },
        }),
      );
      expect((await placeholder.listTools()).tools.map((t) => t.name)).not.toContain("baton_annotate");
      await placeholder.close();
      const consenting = new Client({ name: "remote-agent", version: "1" });
      await consenting.connect(
        new StreamableHTTPClientTransport(new URL(remote.url), {
          requestInit: { headers: { "baton-consent-token": TOKEN_A } },
        }),
      );
      // Remote sinks never get the local report tool.
      expect((await consenting.listTools()).tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(["baton_annotate"]),
      );
      await consenting.callTool({ name: "echo", arguments: { message: "to the console" } });
      await consenting.close();
      const metrics = await (await fetch(`${remote.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/baton_consent_tokens_rejected_total\{reason="placeholder"\} [1-9]/);
      await waitFor(
        () => received.filter((e) => e.agent_runtime === "remote-agent").length >= 2,
        "events at the console",
        15_000,
      );
      expect(received.every((e) => e.consent_token === TOKEN_A)).toBe(true);
      expect(received.some((e) => e.agent_runtime === "placeholder-agent")).toBe(false);
    } finally {
      expect(await remote.stop()).toBe(0);
      console.stop(true);
    }
  });
});

describe("per-request consent: callers' tokens stay out of the log", () => {
  // Each event carries its caller's token; the stderr: sink (the default's first) is serve's log,
  // which the issue says a token never reaches. The file (and any remote) sink keeps it, as the schema asks.
  test("a stderr: sink writes consent_token masked; the file sink keeps the caller's token", async () => {
    const dir = mkdtempSync(join(tmpdir(), "consent-stderr-"));
    const file = join(dir, "events.jsonl");
    const local = await startServe(["--upstream", upstream.url], {
      BATON_CONSENT_MODE: "per-request",
      BATON_EVENT_SINK: `stderr:,file://${file}`,
    });
    try {
      const client = new Client({ name: "logged-agent", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(local.url), {
          requestInit: { headers: { "baton-consent-token": TOKEN_A } },
        }),
      );
      await client.callTool({ name: "echo", arguments: { message: "in the log" } });
      await client.close();
      await waitFor(
        () => local.log.filter((l) => l.includes('"tool_call_end"')).length >= 1,
        "the call's events on stderr",
        15_000,
      );
      expect(local.log.join("\n")).not.toContain(TOKEN_A);
      expect(local.log.filter((l) => l.includes('"consent_token":"[masked]"')).length).toBeGreaterThanOrEqual(2);
      await waitFor(
        () => existsSync(file) && readFileSync(file, "utf8").includes("tool_call_end"),
        "the file's events",
      );
      const filed = readValidatedEvents(file).filter((e) => e.agent_runtime === "logged-agent");
      expect(filed.length).toBeGreaterThanOrEqual(2);
      expect(filed.every((e) => e.consent_token === TOKEN_A)).toBe(true);
    } finally {
      expect(await local.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("per-request consent: the _meta token is cut from the bytes", () => {
  test("the upstream gets the client's body byte for byte without the token (numbers, escapes, spacing as written)", async () => {
    const bodies: string[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        bodies.push(await request.text());
        return Response.json({ jsonrpc: "2.0", id: 7, result: { content: [] } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
    });
    try {
      const args = '{"n": 1.0, "big": 12345678901234567890, "s": "caf\\u00e9"}';
      const sent = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":${args},"_meta":{"progressToken":1,"baton/consent_token":"${TOKEN_B}"}}}`;
      const response = await fetch(local.url, {
        method: "POST",
        headers: { "content-type": "application/json", "mcp-session-id": "meta-bytes-session" },
        body: sent,
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(bodies).toEqual([
        `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":${args},"_meta":{"progressToken":1}}}`,
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("per-request consent with BATON_OTEL_PROPAGATE=on", () => {
  test("a request without a token is forwarded unchanged: no traceparent for a span that is never recorded", async () => {
    const bodies: string[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const message = JSON.parse(await request.text()) as { id: number; method: string };
        bodies.push(JSON.stringify(message));
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } }
            : { content: [] };
        return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s-1" } });
      },
    });
    const collector = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: 200 }) });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
      BATON_EVENT_SINK: "otlp:",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      BATON_OTEL_PROPAGATE: "on",
    });
    const post = (body: unknown, headers: Record<string, string>) =>
      fetch(local.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
        body: JSON.stringify(body),
      }).then((r) => r.text());
    try {
      const handshake = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } };
      await post(
        { jsonrpc: "2.0", id: 0, method: "initialize", params: handshake },
        { "baton-consent-token": TOKEN_A },
      );
      const call = (id: number) => ({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "echo", arguments: {} },
      });
      await post(call(1), { "mcp-session-id": "s-1" });
      await post(call(2), { "mcp-session-id": "s-1", "baton-consent-token": TOKEN_A });
      expect(bodies[1]).toBe(JSON.stringify(call(1)));
      // The consented call still carries our span's traceparent (the check above is not vacuous).
      expect(bodies[2]).toContain('"traceparent":"00-');
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
      collector.stop(true);
    }
  });
});

describe("per-request consent: a batch's _meta tokens", () => {
  test("a message without a token is never recorded under another message's token; a batch all of one token is", async () => {
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const batch = JSON.parse(await request.text()) as { id: number; params: { arguments: unknown } }[];
        return Response.json(
          batch.map((m) => ({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: "ok" }] } })),
        );
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
    });
    const call = (id: number, text: string, token?: string) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name: "echo",
        arguments: { text },
        ...(token === undefined ? {} : { _meta: { "baton/consent_token": token } }),
      },
    });
    const post = (batch: unknown[]) =>
      fetch(local.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", "mcp-session-id": "batch-session" },
        body: JSON.stringify(batch),
      }).then((r) => r.json());
    try {
      expect(await post([call(1, "with A", TOKEN_A), call(2, "without a token")])).toHaveLength(2);
      expect(await post([call(3, "without a token too"), call(4, "with B", TOKEN_B)])).toHaveLength(2);
      expect(await post([call(5, "with A again", TOKEN_A), call(6, "with B again", TOKEN_B)])).toHaveLength(2);
      expect(await post([call(7, "both A", TOKEN_A), call(8, "both A", TOKEN_A)])).toHaveLength(2);
      await waitFor(() => local.events().length >= 4, "the consented batch's events");
      await Bun.sleep(200);
      const events = readValidatedEvents(local.eventsFile);
      expect(events.map((e) => [e.event_type, e.consent_token, JSON.stringify(e.payload).includes("both A")])).toEqual([
        ["tool_call_start", TOKEN_A, true],
        ["tool_call_start", TOKEN_A, true],
        ["tool_call_end", TOKEN_A, false],
        ["tool_call_end", TOKEN_A, false],
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("per-request consent: the live report", () => {
  test("baton_session_report shows a caller only what was recorded with its own token", async () => {
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const message = JSON.parse(await request.text()) as { id: number; method: string };
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } }
            : { content: [{ type: "text", text: "ok" }] };
        return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s-r" } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
    });
    const post = (id: number, method: string, params: unknown, token?: string) =>
      fetch(local.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": "s-r",
          ...(token === undefined ? {} : { "baton-consent-token": token }),
        },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
      }).then((r) => r.text());
    const report = (id: number, token?: string) =>
      post(id, "tools/call", { name: "baton_session_report", arguments: {} }, token);
    try {
      const handshake = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } };
      await post(0, "initialize", handshake, TOKEN_A);
      await post(1, "tools/call", { name: "echo", arguments: {} }, TOKEN_A);
      const note = { intent: "the intent A filed", expected_outcome: "an outcome" };
      expect(await post(2, "tools/call", { name: "baton_annotate", arguments: note }, TOKEN_A)).toContain("recorded");
      await waitFor(() => local.events().length >= 3, "A's events");
      const own = await report(3, TOKEN_A);
      expect(own).toContain("the intent A filed");
      expect(own).toContain("| echo | 1 |");
      for (const other of [await report(4, TOKEN_B), await report(5)]) {
        expect(other).toContain("Baton friction report");
        expect(other).not.toContain("the intent A filed");
        expect(other).not.toContain("| echo |");
      }
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("static consent mode", () => {
  test("BATON_CONSENT_TOKEN stamps every event; a request's own token (header or _meta) is ignored and never reaches the upstream", async () => {
    const seen: { body: string; header: string | null }[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = await request.text();
        seen.push({ body, header: request.headers.get("baton-consent-token") });
        const { id } = JSON.parse(body) as { id: number };
        return Response.json({ jsonrpc: "2.0", id, result: { content: [] } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_TOKEN: "ct_static_deployment",
    });
    try {
      const sent = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0},"_meta":{"progressToken":1,"baton/consent_token":"${TOKEN_B}"}}}`;
      const response = await fetch(local.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "mcp-session-id": "static-session",
          "baton-consent-token": TOKEN_A,
        },
        body: sent,
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(seen).toEqual([
        {
          body: '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0},"_meta":{"progressToken":1}}}',
          header: null,
        },
      ]);
      await waitFor(() => local.events().length >= 2, "the call's events");
      expect(readValidatedEvents(local.eventsFile).map((e) => e.consent_token)).toEqual([
        "ct_static_deployment",
        "ct_static_deployment",
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("per-request consent in the 2026-07-28 stateless era (no handshake)", () => {
  test("each request's own token decides what it is shown: a client without one never sees the proxy's additions because another client of its group brought one, and the reverse", async () => {
    const modern = await startHttpV2Fixture();
    const local = await startServe(["--upstream", modern.url], { BATON_CONSENT_MODE: "per-request" });
    // Two clients behind one address (an ingress) with the same client name and version: one group.
    const send = async (id: number, method: string, token?: string) => {
      const response = await fetch(local.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": method,
          ...(token === undefined ? {} : { "baton-consent-token": token }),
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method,
          params: {
            _meta: {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientInfo": { name: "shared-app", version: "1.0.0" },
              "io.modelcontextprotocol/clientCapabilities": {},
            },
          },
        }),
      });
      return await response.text();
    };
    try {
      // The group's first request has no token; a consenting client's requests are still shown the additions.
      expect(await send(1, "tools/list")).not.toContain("baton_annotate");
      expect(await send(2, "tools/list", TOKEN_A)).toContain("baton_annotate");
      expect(await send(3, "server/discover", TOKEN_A)).toContain("baton_annotate");
      // And a client without a token sees the upstream as it is, though a consenting one came before it.
      expect(await send(4, "tools/list")).not.toContain("baton_annotate");
      expect(await send(5, "server/discover")).not.toContain("baton_annotate");
      await waitFor(() => local.events().length >= 1, "the consented listing's snapshot");
      await Bun.sleep(200);
      expect(readValidatedEvents(local.eventsFile).map((e) => [e.event_type, e.consent_token])).toEqual([
        ["surface_snapshot", TOKEN_A],
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      await modern.stop();
    }
  });
});

describe("per-request consent: surface snapshots", () => {
  test("each token's record gets the surface once, though another token listed it first in the session", async () => {
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const message = JSON.parse(await request.text()) as { id: number; method: string };
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "raw", version: "1" } }
            : { tools: [{ name: "echo", inputSchema: { type: "object" } }] };
        return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers: { "mcp-session-id": "s-snap" } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
    });
    const post = (id: number, method: string, token: string) =>
      fetch(local.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-session-id": "s-snap",
          "baton-consent-token": token,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method,
          params:
            method === "initialize"
              ? { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "c", version: "1" } }
              : {},
        }),
      }).then((r) => r.text());
    try {
      await post(0, "initialize", TOKEN_A);
      await post(1, "tools/list", TOKEN_A);
      await post(2, "tools/list", TOKEN_B);
      await post(3, "tools/list", TOKEN_A);
      await post(4, "tools/list", TOKEN_B);
      await waitFor(() => local.events().length >= 2, "the snapshots");
      await Bun.sleep(200);
      const events = readValidatedEvents(local.eventsFile);
      expect(events.map((e) => [e.event_type, e.consent_token])).toEqual([
        ["surface_snapshot", TOKEN_A],
        ["surface_snapshot", TOKEN_B],
      ]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});

describe("the MCP path's near spellings (/MCP, /mcp/: an Express upstream's MCP endpoint too)", () => {
  test("pass through unseen, but a _meta consent token is cut from the body as on the MCP path; everything else byte for byte", async () => {
    const seen: { path: string; body: string }[] = [];
    const raw = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        seen.push({
          path: new URL(request.url).pathname,
          body: new TextDecoder("utf-8", { ignoreBOM: true }).decode(await request.arrayBuffer()),
        });
        return Response.json({ jsonrpc: "2.0", id: 3, result: { content: [] } });
      },
    });
    const local = await startServe(["--upstream", `http://127.0.0.1:${raw.port}/mcp`], {
      BATON_CONSENT_MODE: "per-request",
    });
    const call = (meta: string) =>
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0},"_meta":{${meta}}}}`;
    const withToken = call(`"progressToken":1,"baton/consent_token":"${TOKEN_A}"`);
    const batch = `[${call(`"baton\\/consent_token":"${TOKEN_B}"`)} , {"jsonrpc":"2.0","method":"x"}]`;
    const post = (path: string, body: string) =>
      fetch(`${local.origin}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
        (r) => r.arrayBuffer(),
      );
    try {
      for (const path of ["/MCP", "/mcp/", "/Mcp/"]) await post(path, withToken);
      await post("/mcp/", batch);
      await post("/mcp/", `\ufeff${withToken}`);
      await post("/mcp/", '{"not json"');
      await post("/elsewhere", withToken);
      expect(seen).toEqual([
        ...["/MCP", "/mcp/", "/Mcp/"].map((path) => ({ path, body: call('"progressToken":1') })),
        {
          path: "/mcp/",
          body: '[{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"n":1.0}}} , {"jsonrpc":"2.0","method":"x"}]',
        },
        // A byte order mark (RFC 8259 §8.1) stays, as the client sent it.
        { path: "/mcp/", body: `\ufeff${call('"progressToken":1')}` },
        { path: "/mcp/", body: '{"not json"' },
        // Not the MCP endpoint under any spelling: the upstream's own, byte for byte.
        { path: "/elsewhere", body: withToken },
      ]);
      expect(local.events()).toEqual([]);
    } finally {
      expect(await local.stop()).toBe(0);
      raw.stop(true);
    }
  });
});
