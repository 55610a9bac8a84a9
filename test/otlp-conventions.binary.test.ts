// Black-box: the spans the compiled proxy sends to a local OTLP receiver, checked attribute by attribute against the MCP semantic conventions, with the official SDK client and server-everything.

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { binaryPath, ROOT } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { startOtlpReceiver, type DecodedSpan } from "./support/otlp-receiver.ts";
import { cleanEnv, eventually, fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";
import { startEverything } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const HOST_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A fresh OTLP receiver and server-everything; `startReplica` starts a serve in front of it sending spans there (one a failed test leaves running is stopped after it by live-processes.ts). */
async function everythingWithOtlp() {
  const otlp = startOtlpReceiver();
  cleanup.push(() => otlp.stop());
  const everything = await startEverything();
  cleanup.push(() => everything.stop());
  const env = {
    BATON_EVENT_SINK: "otlp:",
    BATON_CONSENT_TOKEN: "consent-for-tests",
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
  };
  return { otlp, upstreamUrl: everything.url, startReplica: () => startServe(["--upstream", everything.url], env) };
}

/** A JSON-RPC message POSTed to a serve's MCP endpoint as an MCP client sends it, `extra` headers added. */
function mcpPost(url: string, body: unknown, extra: Record<string, string> = {}): Promise<Response> {
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", ...extra };
  return fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
}

/** Opens a session on `url` (initialize, then initialized); the headers its later requests carry. */
async function openSession(url: string): Promise<Record<string, string>> {
  const opened = await mcpPost(url, { jsonrpc: "2.0", id: 1, method: "initialize", params: INIT_PARAMS });
  await opened.text();
  const session = {
    "mcp-session-id": opened.headers.get("mcp-session-id") ?? "",
    "mcp-protocol-version": "2025-06-18",
  };
  await (await mcpPost(url, { jsonrpc: "2.0", method: "notifications/initialized" }, session)).text();
  return session;
}

describe("otlp: spans follow the MCP conventions (SDK client → proxy → server-everything, stdio)", () => {
  test("resource and prompt requests: their spans carry jsonrpc.request.id and mcp.protocol.version, as tool calls' do", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--", "node", EVERYTHING, "stdio"],
      env: cleanEnv({
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        BATON_PROXY_LOG_FILE: join(dir, "proxy.log"),
      }),
      stderr: "pipe",
    });
    const client = new Client({ name: "otlp-conventions-test", version: "0.0.1" });
    await client.connect(transport);
    cleanup.push(() => client.close());
    await client.callTool({ name: "echo", arguments: { message: "hi" } });
    const uri = "demo://resource/static/document/architecture.md";
    await client.readResource({ uri, _meta: { traceparent: HOST_TRACEPARENT } });
    await client.getPrompt({ name: "simple-prompt" });
    await client.listResources();
    await client.listPrompts();
    await client.callTool({ name: "baton_annotate", arguments: { intent: "read the docs", signal_type: "other" } });
    await client.close();
    await eventually(() => otlp.spans().length >= 11, 10_000, "eleven spans");

    const spans = otlp.spans();
    const byMethod = (method: string): DecodedSpan[] =>
      spans.filter((s) => s.attributes["mcp.method.name"] === method && s.name !== "tools/call baton_annotate");
    const version = byMethod("tools/call")[0]?.attributes["mcp.protocol.version"];
    expect(typeof version).toBe("string");
    const ids = new Set<unknown>();
    for (const method of ["tools/call", "resources/read", "prompts/get", "resources/list", "prompts/list"]) {
      const pair = byMethod(method);
      expect(pair.map((s) => s.kind).sort()).toEqual([2, 3]);
      for (const span of pair) {
        // Conditionally required for every request: the id as a string (the SDK numbers its requests).
        expect(span.attributes["jsonrpc.request.id"]).toMatch(/^\d+$/);
        expect(span.attributes["mcp.protocol.version"]).toBe(version as string);
        expect(span.attributes["network.transport"]).toBe("pipe");
      }
      ids.add(pair[0]?.attributes["jsonrpc.request.id"]);
    }
    expect(ids.size).toBe(5);
    const read = byMethod("resources/read").find((s) => s.kind === 2) as DecodedSpan;
    expect(read.name).toBe("resources/read");
    expect(read.attributes["mcp.resource.uri"]).toBe(uri);
    expect(read.parentSpanId).toBe("00f067aa0ba902b7");
    expect(byMethod("prompts/get")[0]?.name).toBe("prompts/get simple-prompt");
    expect(byMethod("prompts/get")[0]?.attributes["gen_ai.prompt.name"]).toBe("simple-prompt");
    // The proxy answers baton_annotate itself: one SERVER span, with its request's id too.
    const annotate = spans.filter((s) => s.name === "tools/call baton_annotate");
    expect(annotate.map((s) => s.kind)).toEqual([2]);
    expect(annotate[0]?.attributes["jsonrpc.request.id"]).toMatch(/^\d+$/);
    expect(annotate[0]?.attributes["mcp.protocol.version"]).toBe(version as string);
    for (const span of spans.filter((s) => s.attributes["mcp.method.name"] !== "tools/call"))
      expect(span.attributes["gen_ai.operation.name"]).toBeUndefined();
  }, 30_000);
});

describe("otlp: jsonrpc.request.id (compiled proxy over stdio)", () => {
  test("an id beyond 2^53 is the id the client wrote, not JSON.parse's rounding", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    const proxy = await startProxy(fixture("echo"), {
      env: {
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    await proxy.request(1, "initialize", INIT_PARAMS);
    proxy.send(
      '{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}}}\n',
    );
    await proxy.next((m) => m?.result !== undefined && m.id !== 1);
    expect(await proxy.close()).toBe(0);
    await eventually(() => otlp.spans().length >= 2, 10_000, "two spans");
    for (const span of otlp.spans()) expect(span.attributes["jsonrpc.request.id"]).toBe("12345678901234567890");
  }, 30_000);
});

describe("otlp: the host's sampling decision (compiled proxy over stdio)", () => {
  test("a traceparent with flags 00 gets no spans, and with BATON_OTEL_PROPAGATE=on the server is told 00 too", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const forwarded = join(dir, "to-server.jsonl");
    const proxy = await startProxy(["sh", "-c", `tee "${forwarded}" | "$0" "$1"`, ...fixture("echo")], {
      env: {
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        BATON_OTEL_PROPAGATE: "on",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    await proxy.request(1, "initialize", INIT_PARAMS);
    const trace = (flags: string) => ({ traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}` });
    await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "a" }, _meta: trace("00") });
    await proxy.request(3, "tools/call", { name: "echo", arguments: { text: "b" }, _meta: trace("01") });
    expect(await proxy.close()).toBe(0);
    await eventually(() => otlp.spans().length >= 2, 10_000, "two spans");
    expect(otlp.spans().map((s) => s.attributes["jsonrpc.request.id"])).toEqual(["3", "3"]);
    const sent = (await Bun.file(forwarded).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const flags = (id: number) => sent.find((m) => m.id === id)?.params._meta.traceparent.slice(-3);
    expect([flags(2), flags(3)]).toEqual(["-00", "-01"]);
  }, 30_000);
});

describe("otlp: the collector's answer (compiled proxy over stdio)", () => {
  test("a partial success (HTTP 200 with rejected spans) is logged as a loss, never silently counted as delivered", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    otlp.setBody(
      JSON.stringify({ partialSuccess: { rejectedSpans: "2", errorMessage: "span limit reached" } }),
      "application/json",
    );
    const proxy = await startProxy(fixture("echo"), {
      env: {
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      },
    });
    await proxy.request(1, "initialize", INIT_PARAMS);
    await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "a" } });
    expect(await proxy.close()).toBe(0);
    expect(otlp.requests.length).toBeGreaterThan(0);
    expect(proxy.stderr()).toMatch(
      /dropped 2 event\(s\) for otlp:\S+: rejected by the collector: 2 of 2 span\(s\) in one export: span limit reached/,
    );
  }, 30_000);

  test("a collector pushing back (503, then 429 with Retry-After) gets the spans later: retried, nothing lost", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    otlp.pushBack(1, 503);
    const proxy = await startProxy(fixture("echo"), {
      env: {
        BATON_EVENT_SINK: "otlp:",
        BATON_CONSENT_TOKEN: "consent-for-tests",
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      },
    });
    await proxy.request(1, "initialize", INIT_PARAMS);
    await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "a" } });
    await eventually(() => otlp.spans().length >= 2, 10_000, "the first call's spans, after the 503"); // in the background
    otlp.pushBack(1, 429, { "Retry-After": "1" });
    await proxy.request(3, "tools/call", { name: "echo", arguments: { text: "b" } });
    // In the background too: at exit the retry would have to fit in what is left of the 2 s flush
    // deadline (unit-tested on a fake clock in otlp-sink.test.ts), too tight for a loaded machine.
    await eventually(() => otlp.spans().length >= 4, 10_000, "the second call's spans, after Retry-After");
    expect(await proxy.close()).toBe(0);
    const ids = otlp.spans().map((span) => span.attributes["jsonrpc.request.id"]);
    expect(ids.sort()).toEqual(["2", "2", "3", "3"]);
    expect(proxy.stderr()).not.toContain("dropped");
  }, 30_000);
});

describe("serve: spans and /metrics follow the MCP conventions (SDK client → serve → server-everything)", () => {
  test("a caller's mistake (-32602) is not a server failure: status code recorded, no error_type / error.type on the server side", async () => {
    const { otlp, upstreamUrl, startReplica } = await everythingWithOtlp();
    const proxy = await startReplica();
    const client = new Client({ name: "otlp-conventions-serve", version: "0.0.1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    await client.callTool({ name: "echo", arguments: { message: "hi" } });
    await expect(client.getPrompt({ name: "no-such-prompt" })).rejects.toThrow("-32602");
    await client.close();

    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
    const promtool = Bun.spawnSync([Bun.which("promtool") ?? "promtool", "check", "metrics"], {
      stdin: new TextEncoder().encode(metrics),
    });
    expect(`${promtool.stdout.toString()}${promtool.stderr.toString()}`).toBe("");
    expect(metrics).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="prompts/get",rpc_response_status_code="-32602"} 1',
    );
    expect(metrics).toContain('mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"} 1');
    expect(metrics).not.toContain('error_type="-32602"');

    expect(await proxy.stop()).toBe(0);
    await eventually(() => otlp.spans().length >= 4, 10_000, "four spans");
    const prompt = otlp.spans().filter((s) => s.attributes["mcp.method.name"] === "prompts/get");
    const server = prompt.find((s) => s.kind === 2) as DecodedSpan;
    const client_ = prompt.find((s) => s.kind === 3) as DecodedSpan;
    expect(server.attributes).toMatchObject({ "rpc.response.status_code": "-32602", "network.transport": "tcp" });
    expect(server.attributes["error.type"]).toBeUndefined();
    expect(server.status.code).toBe(0);
    expect(client_.attributes).toMatchObject({ "rpc.response.status_code": "-32602", "error.type": "-32602" });
    expect(client_.status.code).toBe(2);
    // HTTP on both hops; the CLIENT span names the upstream (the real server), the SERVER span has no server.*.
    const upstream = new URL(upstreamUrl);
    const http = { "network.protocol.name": "http", "network.protocol.version": "1.1" };
    expect(server.attributes).toMatchObject(http);
    expect(server.attributes["server.address"]).toBeUndefined();
    expect(client_.attributes).toMatchObject({
      ...http,
      "server.address": upstream.hostname,
      "server.port": Number(upstream.port),
    });
  }, 30_000);
});

describe("serve: a session initialized through another replica", () => {
  test("its spans still carry mcp.protocol.version, from the request's MCP-Protocol-Version header", async () => {
    const { otlp, startReplica } = await everythingWithOtlp();
    const first = await startReplica();
    const second = await startReplica();
    const session = await openSession(first.url);
    // A balancer without affinity sends the call to the other replica, which never saw the handshake.
    const call = {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "echo", arguments: { message: "hi" } },
    };
    expect(await (await mcpPost(second.url, call, session)).text()).toContain("Echo: hi");
    for (const proxy of [first, second]) expect(await proxy.stop()).toBe(0);
    await eventually(() => otlp.spans().length >= 2, 10_000, "two spans");
    const spans = otlp.spans().filter((s) => s.attributes["mcp.method.name"] === "tools/call");
    expect(spans.map((s) => s.kind).sort()).toEqual([2, 3]);
    for (const span of spans) expect(span.attributes["mcp.protocol.version"]).toBe("2025-06-18");
  }, 30_000);
});

describe("serve: the HTTP request's trace context (the conventions' ambient context)", () => {
  test("is the SERVER span's parent without a _meta.traceparent, and a link beside one", async () => {
    const { otlp, startReplica } = await everythingWithOtlp();
    const proxy = await startReplica();
    const ambient = "00-11111111111111111111111111111111-2222222222222222-01";
    const session = await openSession(proxy.url);
    const post = (body: unknown, extra: Record<string, string>) => mcpPost(proxy.url, body, extra);
    const echo = (id: number, meta?: Record<string, string>) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "echo", arguments: { message: "hi" }, ...(meta === undefined ? {} : { _meta: meta }) },
    });
    const traced = { ...session, traceparent: ambient, tracestate: "http=1" };
    expect(await (await post(echo(2), traced)).text()).toContain("Echo: hi");
    expect(await (await post(echo(3, { traceparent: HOST_TRACEPARENT }), traced)).text()).toContain("Echo: hi");
    expect(await proxy.stop()).toBe(0);
    await eventually(() => otlp.spans().length >= 4, 10_000, "four spans");
    const server = (id: string) =>
      otlp.spans().find((s) => s.kind === 2 && s.attributes["jsonrpc.request.id"] === id) as DecodedSpan;
    expect(server("2")).toMatchObject({
      traceId: "11111111111111111111111111111111",
      parentSpanId: "2222222222222222",
      traceState: "http=1",
      links: [],
    });
    expect(server("3")).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentSpanId: "00f067aa0ba902b7",
      links: [{ traceId: "11111111111111111111111111111111", spanId: "2222222222222222" }],
    });
  }, 30_000);
});

describe("serve: a call cut by the drain deadline", () => {
  test("ends as proxy_shutdown (spans and events), not as the client going away", async () => {
    const otlp = startOtlpReceiver();
    cleanup.push(() => otlp.stop());
    const everything = await startEverything();
    cleanup.push(() => everything.stop());
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const events = join(dir, "events.jsonl");
    const proxy = await startServe(["--upstream", everything.url, "--drain-timeout-ms", "300"], {
      BATON_EVENT_SINK: `file://${events},otlp:`,
      BATON_CONSENT_TOKEN: "consent-for-tests",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    });
    const client = new Client({ name: "drain-cut", version: "0.0.1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const call = client
      .callTool({ name: "trigger-long-running-operation", arguments: { duration: 5, steps: 5 } })
      .catch(() => undefined);
    const started = (): boolean => {
      try {
        return readValidatedEvents(events).some((e) => e.event_type === "tool_call_start");
      } catch {
        return false; // no event file yet
      }
    };
    await eventually(started, 10_000, "the call's start event");
    expect(await proxy.stop()).toBe(0);
    void call;
    const outcome = readValidatedEvents(events).filter((e) => e.event_type === "tool_call_error");
    expect(outcome.map((e) => e.payload.error_type)).toEqual(["proxy_shutdown"]);
    await eventually(() => otlp.spans().length >= 2, 10_000, "two spans");
    for (const span of otlp.spans()) {
      expect(span.attributes["error.type"]).toBe("proxy_shutdown");
      expect(span.status.code).toBe(2);
    }
  }, 30_000);
});
