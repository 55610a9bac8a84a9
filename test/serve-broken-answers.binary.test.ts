// serve against an upstream whose HTTP answer to a call is not that call's JSON-RPC answer (a body that breaks, a 200 that answers nothing, a stream that ends without the answer): each call still gets its outcome event at once, as --url gives one.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { postOnSession, waitFor } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const JSON_TYPE = { "content-type": "application/json" };
let upstream: ReturnType<typeof Bun.serve>;
let proxy: ServeHandle;
let sessionId: string;

beforeAll(async () => {
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const body = (await request.json()) as unknown;
      if (Array.isArray(body) && body.some((m) => m?.params?.name === "breaks")) {
        // A batch whose JSON answer's connection resets mid-body.
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('[{"jsonrpc":"2.0","id":41,"result":{"content":['));
            setTimeout(() => controller.error(new Error("the upstream broke")), 50);
          },
        });
        return new Response(stream, { headers: JSON_TYPE });
      }
      if (Array.isArray(body)) {
        // A batch: a notification on its event stream, then the connection breaks before any answer.
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(
              new TextEncoder().encode(
                'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n\n',
              ),
            );
            setTimeout(() => controller.error(new Error("the upstream broke")), 50);
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream" } });
      }
      const message = body as { id?: number; method: string; params?: { name?: string } };
      const answer = (result: unknown) => Response.json({ jsonrpc: "2.0", id: message.id, result });
      if (message.method === "initialize")
        return Response.json(
          {
            jsonrpc: "2.0",
            id: message.id,
            result: {
              protocolVersion: "2025-11-25",
              capabilities: { tools: {} },
              serverInfo: { name: "broken", version: "1" },
            },
          },
          { headers: { "mcp-session-id": "upstream-session" } },
        );
      if (message.id === undefined) return new Response(null, { status: 202 });
      switch (message.params?.name) {
        case "empty":
          return new Response("", { headers: JSON_TYPE });
        case "other-id":
          return Response.json({ jsonrpc: "2.0", id: 999, result: {} });
        case "not-json":
          return new Response("{not json", { headers: JSON_TYPE });
        case "breaks": {
          // The head and the first bytes of the answer, then the connection is reset.
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new TextEncoder().encode(`{"jsonrpc":"2.0","id":${message.id},"result":{"content":[`));
              setTimeout(() => controller.error(new Error("the upstream broke")), 50);
            },
          });
          return new Response(body, { headers: JSON_TYPE });
        }
        case "busy":
          return new Response("try later", { status: 503 });
        case "stream-without-answer":
          // An event stream that ends after a notification, with no event id a client could resume from.
          return new Response(
            'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n\n',
            { headers: { "content-type": "text/event-stream" } },
          );
        default:
          return answer({ content: [{ type: "text", text: "ok" }] });
      }
    },
  });
  proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
  const opened = await fetch(proxy.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "broken-answers", version: "1" } },
    }),
  });
  await opened.text();
  sessionId = opened.headers.get("mcp-session-id") as string;
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  upstream.stop(true);
});

/** The call's outcome event, once written (the proxy still runs: a call left open has none). */
async function outcomeOf(name: string): Promise<Record<string, any>> {
  let outcome: Record<string, any> | undefined;
  await waitFor(() => {
    outcome = readValidatedEvents(proxy.eventsFile).find(
      (e) => e.event_type !== "tool_call_start" && e.payload?.tool_name === name,
    );
    return outcome !== undefined;
  }, `the outcome event of ${name}`);
  return outcome as Record<string, any>;
}

describe("serve: an upstream answer that is not the call's JSON-RPC answer", () => {
  test.each([["empty"], ["other-id"], ["not-json"]])(
    "a 200 JSON body that answers nothing (%s) passes unchanged and ends the call as upstream_http_200, as a 200 that is not JSON does",
    async (name) => {
      const response = await postOnSession(proxy.url, sessionId, {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name, arguments: {} },
      });
      expect(response.status).toBe(200);
      await response.text();
      const outcome = await outcomeOf(name);
      expect(outcome.event_type).toBe("tool_call_error");
      expect(outcome.payload.error_type).toBe("upstream_http_200");
    },
  );

  test("an event stream that ends without the answer and without an event id to resume from ends the call as upstream_http_200", async () => {
    const response = await postOnSession(proxy.url, sessionId, {
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "stream-without-answer", arguments: {} },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("notifications/message");
    const outcome = await outcomeOf("stream-without-answer");
    expect(outcome.event_type).toBe("tool_call_error");
    expect(outcome.payload.error_type).toBe("upstream_http_200");
  });

  test("such calls, and one the upstream refuses with an HTTP error, count in baton_tool_calls_total as the events count them", async () => {
    const toolCalls = async (): Promise<number> => {
      const text = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      return text
        .split("\n")
        .filter((line) => line.startsWith("baton_tool_calls_total{"))
        .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    };
    const before = await toolCalls();
    for (const [id, name] of [
      [20, "busy"],
      [21, "empty"],
      [22, "stream-without-answer"],
    ] as const) {
      const response = await postOnSession(proxy.url, sessionId, {
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name, arguments: {} },
      });
      await response.text();
    }
    await waitFor(
      () =>
        readValidatedEvents(proxy.eventsFile).filter(
          (e) => e.event_type === "tool_call_error" && String(e.payload.error_type).startsWith("upstream_http_"),
        ).length >= 6,
      "the three calls' outcome events",
    );
    expect((await toolCalls()) - before).toBe(3);
  });

  test("a batch whose event stream breaks: the proxy's own answer (baton_annotate) is the only answer its id gets; the forwarded call gets the -32001", async () => {
    const response = await postOnSession(proxy.url, sessionId, [
      { jsonrpc: "2.0", id: 30, method: "tools/call", params: { name: "baton_annotate", arguments: { intent: "x" } } },
      { jsonrpc: "2.0", id: 31, method: "tools/call", params: { name: "echo", arguments: {} } },
    ]);
    const answers = (await response.text())
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)) as { id?: number; result?: unknown; error?: { code: number } })
      .filter((message) => message.id !== undefined);
    expect(answers.filter((a) => a.id === 30)).toHaveLength(1);
    expect(answers.find((a) => a.id === 30)?.result).toBeDefined();
    expect(answers.filter((a) => a.id === 31).map((a) => a.error?.code)).toEqual([-32001]);
  });

  test("a batch whose JSON answer breaks mid-body: the proxy's own answer stands beside the forwarded call's -32001", async () => {
    const response = await postOnSession(proxy.url, sessionId, [
      { jsonrpc: "2.0", id: 40, method: "tools/call", params: { name: "baton_annotate", arguments: { intent: "y" } } },
      { jsonrpc: "2.0", id: 41, method: "tools/call", params: { name: "breaks", arguments: {} } },
    ]);
    expect(response.status).toBe(502);
    const answers = (await response.json()) as { id: number; result?: unknown; error?: { code: number } }[];
    expect(answers.find((a) => a.id === 40)?.result).toBeDefined();
    expect(answers.filter((a) => a.id === 41).map((a) => a.error?.code)).toEqual([-32001]);
  });

  test("an answer whose connection breaks mid-body: a 502 answering the call with -32001, and the call ends as upstream_unreachable", async () => {
    const response = await postOnSession(proxy.url, sessionId, {
      jsonrpc: "2.0",
      id: 8,
      method: "tools/call",
      params: { name: "breaks", arguments: {} },
    });
    expect(response.status).toBe(502);
    const body = (await response.json()) as { id: number; error: { code: number } };
    expect(body.id).toBe(8);
    expect(body.error.code).toBe(-32001);
    const outcome = await outcomeOf("breaks");
    expect(outcome.event_type).toBe("tool_call_error");
    expect(outcome.payload.error_type).toBe("upstream_unreachable");
    expect(proxy.log.join("\n")).not.toContain("internal error");
  });
});

describe("serve: an upstream gone when a batch mixes the proxy's own calls with forwarded ones", () => {
  let gone: ReturnType<typeof Bun.serve>;
  let front: ServeHandle;
  let session: string;

  beforeAll(async () => {
    gone = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const message = (await request.json()) as { id: number };
        return Response.json(
          {
            jsonrpc: "2.0",
            id: message.id,
            result: {
              protocolVersion: "2025-03-26",
              capabilities: { tools: {} },
              serverInfo: { name: "gone", version: "1" },
            },
          },
          { headers: { "mcp-session-id": "gone-session" } },
        );
      },
    });
    front = await startServe(["--upstream", `http://127.0.0.1:${gone.port}/mcp`]);
    const opened = await fetch(front.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "batcher", version: "1" } },
      }),
    });
    await opened.text();
    session = opened.headers.get("mcp-session-id") as string;
    gone.stop(true);
  });

  afterAll(async () => {
    expect(await front.stop()).toBe(0);
  });

  test("the proxy's recorded answer stands (not replaced by -32001); the forwarded call gets the -32001", async () => {
    const response = await postOnSession(front.url, session, [
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "baton_annotate", arguments: { intent: "x" } } },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {} } },
    ]);
    expect(response.status).toBe(502);
    const answers = (await response.json()) as { id: number; result?: unknown; error?: { code: number } }[];
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2]);
    // The note was recorded (its annotation event is written): the agent is told so, not that it failed.
    expect(answers.find((a) => a.id === 1)?.result).toBeDefined();
    expect(answers.find((a) => a.id === 2)?.error?.code).toBe(-32001);
    await waitFor(
      () => readValidatedEvents(front.eventsFile).some((e) => e.event_type === "annotation"),
      "the annotation event",
    );
  });
});
