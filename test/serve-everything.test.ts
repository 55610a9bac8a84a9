// serve in front of real Streamable HTTP servers (server-everything, the SDK v1 fixture) with the SDK v1 client.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { startEverything, waitFor, type Upstream, postOnSession } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

let everything: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  everything = await startEverything();
  proxy = await startServe(["--upstream", everything.url]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await everything.stop();
});

function richClient(samplingAnswers: string[]) {
  const client = new Client(
    { name: "serve-test", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    samplingAnswers.push(JSON.stringify(request.params.messages));
    return {
      role: "assistant",
      model: "fake-model",
      stopReason: "endTurn",
      content: { type: "text", text: "FAKE LLM ANSWER" },
    };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///tmp", name: "tmp" }] }));
  return client;
}

describe("serve -> server-everything (streamableHttp), SDK v1 client", () => {
  test("the same tools as direct; echo and get-sum answer through the proxy", async () => {
    const direct = new Client({ name: "direct", version: "1" });
    await direct.connect(new StreamableHTTPClientTransport(new URL(everything.url)));
    const viaProxy = new Client({ name: "proxied", version: "1" });
    await viaProxy.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const [d, p] = await Promise.all([direct.listTools(), viaProxy.listTools()]);
    expect(p.tools.map((t) => t.name)).toEqual([
      ...d.tools.map((t) => t.name),
      "baton_annotate",
      "baton_session_report",
    ]);
    expect(viaProxy.getInstructions()).toStartWith(direct.getInstructions() ?? "");
    expect(viaProxy.getInstructions()).toContain("baton_annotate");
    expect(await viaProxy.callTool({ name: "echo", arguments: { message: "hello proxy" } })).toEqual({
      content: [{ type: "text", text: "Echo: hello proxy" }],
    });
    expect(await viaProxy.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } })).toEqual({
      content: [{ type: "text", text: "The sum of 2 and 40 is 42." }],
    });
    expect(viaProxy.getServerVersion()?.name).toBe(direct.getServerVersion()?.name);
    await Promise.all([direct.close(), viaProxy.close()]);
  });

  test("progress notifications reach the client before the final result (SSE relayed event by event)", async () => {
    const client = new Client({ name: "progress", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    const order: string[] = [];
    const result = await client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 3 } },
      undefined,
      {
        onprogress: (p) => order.push(`progress ${p.progress}/${p.total}`),
      },
    );
    order.push("result");
    expect(order).toEqual(["progress 1/3", "progress 2/3", "progress 3/3", "result"]);
    expect(JSON.stringify(result)).toContain("Long running operation completed");
    await client.close();
  });

  test("SSE event ids are kept and Last-Event-ID resumption replays through the proxy", async () => {
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-11-25",
    };
    const init = await fetch(proxy.url, {
      method: "POST",
      headers,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "resumer", version: "1" } },
      }),
    });
    const session = init.headers.get("mcp-session-id") as string;
    await init.text();
    await (
      await fetch(proxy.url, {
        method: "POST",
        headers: { ...headers, "mcp-session-id": session },
        body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
      })
    ).text();
    const call = await fetch(proxy.url, {
      method: "POST",
      headers: { ...headers, "mcp-session-id": session },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "tools/call",
        params: {
          name: "trigger-long-running-operation",
          arguments: { duration: 0.3, steps: 3 },
          _meta: { progressToken: "tok" },
        },
      }),
    });
    const ids = [...(await call.text()).matchAll(/^id: (.+)$/gm)].map((m) => m[1] as string);
    expect(ids.length).toBeGreaterThanOrEqual(4); // three progress events and the result (and any log notes), each with the upstream's event id
    const replay = await fetch(proxy.url, {
      headers: {
        accept: "text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-11-25",
        "last-event-id": ids[0] as string,
      },
    });
    expect(replay.headers.get("content-type")).toContain("text/event-stream");
    const reader = replay.body!.getReader();
    let text = "";
    while (!ids.slice(1).every((id) => text.includes(`id: ${id}`)))
      text += new TextDecoder().decode((await reader.read()).value);
    expect(text).not.toContain(`id: ${ids[0]}\n`);
    expect(text).toContain('"progress":2');
    await reader.cancel();
  });

  test("a browser's CORS preflight on the MCP path is the upstream's to answer; a disallowed Origin is refused first", async () => {
    const preflight = (origin: string) =>
      fetch(proxy.url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,mcp-session-id",
        },
      });
    const allowed = await preflight("http://localhost:6274");
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("*");
    expect(allowed.headers.get("access-control-allow-methods")).toContain("POST");
    expect((await preflight("https://evil.example")).status).toBe(403);
  });

  test("server->client requests (sampling) round-trip through the proxy", async () => {
    const sampled: string[] = [];
    const client = richClient(sampled);
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    // server-everything registers trigger-sampling-request after the handshake (list_changed).
    await waitFor(
      async () => (await client.listTools()).tools.some((t) => t.name === "trigger-sampling-request"),
      "the sampling tool to be listed",
    );
    const result = await client.callTool({
      name: "trigger-sampling-request",
      arguments: { prompt: "ping through the proxy", maxTokens: 10 },
    });
    expect(sampled.join("")).toContain("ping through the proxy");
    expect(JSON.stringify(result)).toContain("FAKE LLM ANSWER");
    await client.close();
  });

  test("injected tools answer over HTTP; events are schema-valid, per session, named after the client, without the Mcp-Session-Id", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    const client = new Client({ name: "annotating-agent", version: "3.1.4" });
    await client.connect(transport);
    const ack = await client.callTool({
      name: "baton_annotate",
      arguments: { intent: "sum two numbers", signal_type: "other", tool_name: "get-sum" },
    });
    expect(JSON.stringify(ack)).toContain("Annotation recorded");
    await client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
    const report = await client.callTool({ name: "baton_session_report", arguments: {} });
    expect(JSON.stringify(report)).toContain("get-sum");
    const sessionId = transport.sessionId as string;
    await client.close();
    let mine: Record<string, any>[] = [];
    await waitFor(() => {
      mine = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === "annotating-agent");
      return mine.some((e) => e.event_type === "tool_call_end");
    }, "the session's events");
    expect(mine.map((e) => e.event_type)).toEqual(["annotation", "tool_call_start", "tool_call_end"]);
    expect(new Set(mine.map((e) => e.session_id)).size).toBe(1);
    expect(mine[0]?.session_id).not.toBe(sessionId);
    checkCallPairs(mine);
    const everythingEvents = readValidatedEvents(proxy.eventsFile);
    expect(new Set(everythingEvents.map((e) => e.session_id)).size).toBeGreaterThan(1);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(proxy.eventsFile, "utf8")).not.toContain(sessionId);
    expect(proxy.log.join("\n")).not.toContain(sessionId);
  });

  test("DELETE ends the session upstream; the old session id is then unknown to the upstream", async () => {
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    const client = new Client({ name: "deleter", version: "1" });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    expect(sessionId).toBeString();
    await transport.terminateSession();
    const ask = (url: string) =>
      postOnSession(url, sessionId as string, { jsonrpc: "2.0", id: 9, method: "tools/list" });
    const [viaProxy, direct] = await Promise.all([ask(proxy.url), ask(everything.url)]);
    // server-everything answers 400 "No valid session ID" for a session it no longer has: passed on as is.
    expect(viaProxy.status).toBe(400);
    expect(viaProxy.status).toBe(direct.status);
    expect(await viaProxy.text()).toBe(await direct.text());
    await client.close();
  });
});
