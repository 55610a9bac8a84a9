// Unit: calls the proxy ends itself in serve (a drain's cut, a long JSON answer that breaks) are in /metrics as their events end them, once.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SessionExchange } from "../src/serve/exchange.ts";
import type { McpRouteDeps } from "../src/serve/mcp-relay.ts";
import { exchangePost } from "../src/serve/mcp-post-exchange.ts";
import { createServeMetrics } from "../src/serve/serve-metrics.ts";
import type { SessionEntry } from "../src/serve/session-table.ts";
import { StreamRegistry } from "../src/serve/stream-registry.ts";
import { classifyLine, encodeUtf8, type JsonRpcId, type Message } from "../src/wire/jsonrpc.ts";
import { createUpstreamDownLog } from "../src/serve/upstream-down-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch(request) {
      const mode = new URL(request.url).searchParams.get("mode");
      if (mode === "hold") {
        // An SSE answer that sends a progress event, then holds its answer (a long call at the drain's deadline).
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(
              encodeUtf8(
                'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n\n',
              ),
            );
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      // A JSON answer over the inspection cap (10 MiB sent) that breaks before its end.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            if (sent === 0)
              controller.enqueue(encodeUtf8('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"'));
            else if (sent <= 40) controller.enqueue(PIECE);
            else return controller.error(new Error("the upstream broke"));
            sent++;
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
});

afterAll(() => upstream.stop(true));

function setup(mode: string) {
  const ended: string[] = [];
  const exchange: SessionExchange = {
    fromClient: (body) => ({ forward: body, answers: [] }),
    fromServer: () => undefined,
    fromServerLongLine: () => undefined,
    upstreamFailed: (ids, _reason, kind) => void ended.push(`${ids.join(",")}:${kind ?? "upstream_unreachable"}`),
    close: () => undefined,
    sweep: () => undefined,
    forPost: () => exchange,
  };
  const metrics = createServeMetrics({ sessionsOpen: () => 0, draining: () => false, eventsBySink: () => [] });
  const answers = new StreamRegistry();
  const deps = {
    config: { upstream: new URL(`http://127.0.0.1:${upstream.port}/mcp?mode=${mode}`), upstreamViaFetch: false },
    metrics,
    logger: createMemoryLogger(),
    downLog: createUpstreamDownLog(createMemoryLogger()),
    now: () => 5,
    streams: new StreamRegistry(),
    answers,
    keepOpen: () => undefined,
  } as unknown as McpRouteDeps;
  const entry: SessionEntry = { exchange, openedAt: 0, lastUsedAt: 0, active: 0, shared: false };
  const body = encodeUtf8(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: {} } }),
  );
  const line = classifyLine(body);
  const checked = {
    body,
    line,
    messages: line.kind === "message" ? [line.message as Message] : [],
    requestIds: [1 as JsonRpcId],
  };
  const request = new Request(`http://127.0.0.1/mcp?mode=${mode}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body,
  });
  const hop = { remoteAddress: "127.0.0.1", proto: "http", host: "127.0.0.1" };
  const context = { remoteAddress: "127.0.0.1", consentToken: undefined, principal: undefined };
  const post = () => exchangePost(request, hop, deps, entry, checked, context, false);
  return { post, ended, answers, rendered: () => metrics.registry.render() };
}

/** The client's whole body, a broken one included (what came before the break). */
async function drained(response: Response): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("notifications/progress") && onProgress !== undefined) {
        onProgress();
        onProgress = undefined;
      }
    }
  } catch {
    // the upstream's break, passed on
  }
  return text;
}
let onProgress: (() => void) | undefined;

test("a call the drain cuts at its deadline is counted once, as its event ends it (proxy_shutdown)", async () => {
  const { post, ended, answers, rendered } = setup("hold");
  const response = await post();
  onProgress = () => answers.closeAll();
  const text = await drained(response);
  expect(text).toContain('"id":1,"error"');
  expect(ended).toEqual(["1:proxy_shutdown"]);
  const metrics = rendered();
  expect(metrics).toMatch(/^baton_tool_calls_total\{outcome="proxy_shutdown"\} 1$/m);
  expect(metrics).toMatch(
    /^mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call",error_type="proxy_shutdown"\} 1$/m,
  );
});

test("a call whose JSON answer over the inspection cap breaks is counted once, as its event ends it (upstream_unreachable)", async () => {
  const { post, ended, rendered } = setup("break");
  const response = await post();
  await drained(response);
  expect(ended).toEqual(["1:upstream_unreachable"]);
  const metrics = rendered();
  expect(metrics).toMatch(/^baton_tool_calls_total\{outcome="upstream_unreachable"\} 1$/m);
  expect(metrics).toMatch(
    /^mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call",error_type="upstream_unreachable"\} 1$/m,
  );
  expect(metrics).toMatch(/^baton_upstream_failures_total\{reason="stream_broken"\} 1$/m);
});
