// Black-box: behind a session-era upstream that gives no Mcp-Session-Id (one group per client), the server's messages on the GET stream belong to that group: a task the server reports failed there ends its call as task_failed, as over stdio or in a session.

import { expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { startServe } from "./support/serve-process.ts";

const encoder = new TextEncoder();
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

test("a task status notification on the GET stream of a session-less upstream ends its call (task_failed, not open until the drain)", async () => {
  let getStream: ReadableStreamDefaultController<Uint8Array> | undefined;
  const answers: Record<string, unknown> = {
    initialize: {
      protocolVersion: "2025-11-25",
      capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } },
      serverInfo: { name: "no-session-server", version: "1" },
    },
    "tools/call": {
      task: { taskId: "task-1", status: "working", createdAt: "2026-01-01T00:00:00Z", ttl: 60000 },
    },
  };
  const upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method === "GET")
        return new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              getStream = controller;
              controller.enqueue(encoder.encode(": open\n\n"));
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      const message = (await request.json()) as { id?: number; method: string };
      if (message.id === undefined) return new Response(null, { status: 202 });
      // No Mcp-Session-Id: a stateless server of the session era.
      return Response.json({ jsonrpc: "2.0", id: message.id, result: answers[message.method] ?? {} });
    },
  });
  const proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
  const get = new AbortController();
  try {
    const post = (body: unknown) =>
      fetch(proxy.url, { method: "POST", headers: HEADERS, body: JSON.stringify(body) }).then((r) => r.text());
    await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "task-client", version: "1" } },
    });
    await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    const stream = await fetch(proxy.url, {
      headers: { accept: "text/event-stream", "mcp-protocol-version": "2025-11-25" },
      signal: get.signal,
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const handle = await post({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "slow", arguments: {}, task: { ttl: 60000 } },
    });
    expect(JSON.parse(handle).result.task.taskId).toBe("task-1");
    const status = {
      jsonrpc: "2.0",
      method: "notifications/tasks/status",
      params: {
        taskId: "task-1",
        status: "failed",
        statusMessage: "out of disk",
        createdAt: "2026-01-01T00:00:00Z",
        ttl: 60000,
      },
    };
    getStream?.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(status)}\n\n`));
    // The client gets it (byte for byte) before the proxy stops.
    let seen = "";
    while (!seen.includes("notifications/tasks/status")) seen += new TextDecoder().decode((await reader.read()).value);
    expect(seen).toContain(`data: ${JSON.stringify(status)}\n`);
    get.abort();
    await proxy.process.kill("SIGTERM");
    expect(await proxy.process.exited).toBe(0);
    const outcomes = readValidatedEvents(proxy.eventsFile).filter((e) => /^tool_call_(end|error)$/.test(e.event_type));
    expect(outcomes.map((e) => e.payload.error_type)).toEqual(["task_failed"]);
  } finally {
    get.abort();
    await proxy.stop();
    upstream.stop(true);
  }
});
