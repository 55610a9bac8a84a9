// Unit: how the MCP route hands upstream answers (JSON bodies, SSE events) to a session's exchange and records their metrics, without parsing what the engine's fast path reads unparsed.

import { describe, expect, test } from "bun:test";
import { IDENTITY_EXCHANGE, type SessionExchange } from "../src/serve/exchange.ts";
import { fromServer, fromServerEvent, observeLongAnswer, type McpRouteDeps } from "../src/serve/mcp-relay.ts";
import { owedAnswers } from "../src/serve/owed-answers.ts";
import { parseSseEvent, renderSseEvent } from "../src/wire/sse.ts";
import { createServeMetrics } from "../src/serve/serve-metrics.ts";
import { classifyLine, encodeUtf8, scannedFacts, type Classified, type JsonRpcId } from "../src/wire/jsonrpc.ts";
import { createUpstreamDownLog } from "../src/serve/upstream-down-log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

function setup() {
  const metrics = createServeMetrics({ sessionsOpen: () => 0, draining: () => false, eventsBySink: () => [] });
  const deps = {
    metrics,
    logger: createMemoryLogger(),
    downLog: createUpstreamDownLog(createMemoryLogger()),
    now: () => 5,
  } as unknown as McpRouteDeps;
  /** Whether each message reached the exchange still unparsed (the engine's fast path then applies). */
  const seenUnparsed: boolean[] = [];
  const exchange: SessionExchange = {
    fromClient: (body) => ({ forward: body, answers: [] }),
    fromServer: (data: Uint8Array, line: Classified) => {
      seenUnparsed.push(line.kind === "message" && scannedFacts(line.message, data) !== undefined);
      return undefined;
    },
    fromServerLongLine: () => undefined,
    upstreamFailed: () => undefined,
    close: () => undefined,
    sweep: () => undefined,
    forPost: () => exchange,
  };
  const methods = new Map<JsonRpcId, string>([[1, "tools/call"]]);
  return { deps, exchange, methods, seenUnparsed, rendered: () => metrics.registry.render() };
}

/** An event as the relay's splitter hands it over. */
const sse = (fields: { id?: string; event?: string; data: string }) =>
  parseSseEvent(encodeUtf8(renderSseEvent(fields)));

const answers = {
  ok: { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "hi" }] } },
  toolError: { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "no" }], isError: true } },
  rpcError: { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "bad params" } },
  internalError: { jsonrpc: "2.0", id: 1, error: { code: -32603, message: "internal" } },
  oddCode: { jsonrpc: "2.0", id: 1, error: { code: `E${"x".repeat(4000)}`, message: "not a JSON-RPC code" } },
};

describe("upstream answers reach the exchange unparsed and are counted from their scan", () => {
  test.each([
    ["a result", answers.ok, true, 'outcome="ok"', 'mcp_method_name="tools/call"} 1'],
    [
      "a tool error",
      answers.toolError,
      true,
      'outcome="tool_error"',
      'mcp_method_name="tools/call",error_type="tool_error"} 1',
    ],
    // The error code is a label: only a parse reads it (after the exchange has seen the bytes). On the
    // server side the caller's own mistakes (-32602 …) are not errors: rpc_response_status_code, no error_type.
    [
      "a JSON-RPC error the caller made",
      answers.rpcError,
      true,
      'outcome="error"',
      'mcp_method_name="tools/call",rpc_response_status_code="-32602"} 1',
    ],
    [
      "a JSON-RPC error of the server",
      answers.internalError,
      true,
      'outcome="error"',
      'mcp_method_name="tools/call",error_type="-32603",rpc_response_status_code="-32603"} 1',
    ],
    // A code that is no JSON-RPC integer (an upstream's own string) would be a label of any length and number.
    [
      "an error whose code is not an integer",
      answers.oddCode,
      true,
      'outcome="error"',
      'mcp_method_name="tools/call",error_type="_OTHER"} 1',
    ],
  ])("%s in a JSON body", (_name, answer, unparsed, outcome, duration) => {
    const { deps, exchange, methods, seenUnparsed, rendered } = setup();
    const raw = encodeUtf8(JSON.stringify(answer));
    const pending = owedAnswers([{ kind: "request", id: 1 }], []);
    expect(fromServer(deps, exchange, raw, classifyLine(raw), methods, pending, 0, undefined)).toBeUndefined();
    expect(seenUnparsed).toEqual([unparsed]);
    expect(pending.size).toBe(0);
    expect(rendered()).toContain(`baton_tool_calls_total{${outcome}} 1`);
    expect(rendered()).toContain(`mcp_server_operation_duration_seconds_count{${duration}`);
  });

  test("an SSE event's data is scanned like a body; an event without data is not looked at", () => {
    const { deps, exchange, methods, seenUnparsed, rendered } = setup();
    const pending = owedAnswers([{ kind: "request", id: 1 }], []);
    const event = sse({ id: "7", event: "message", data: JSON.stringify(answers.toolError) });
    expect(fromServerEvent(deps, exchange, event, methods, pending, 0)).toBeUndefined();
    expect(
      fromServerEvent(deps, exchange, parseSseEvent(encodeUtf8("id: 8\n\n")), methods, pending, 0),
    ).toBeUndefined();
    expect(seenUnparsed).toEqual([true]);
    expect(rendered()).toContain('baton_tool_calls_total{outcome="tool_error"} 1');
  });

  test("an event of another type than message (which clients skip: the SDK reads only `message` and untyped events) is not read as an answer", () => {
    const { deps, exchange, methods, seenUnparsed, rendered } = setup();
    const pending = owedAnswers([{ kind: "request", id: 1 }], []);
    const other = sse({ event: "notice", data: JSON.stringify(answers.ok) });
    expect(fromServerEvent(deps, exchange, other, methods, pending, 0)).toBeUndefined();
    expect(seenUnparsed).toEqual([]);
    expect(pending.size).toBe(1);
    expect(rendered()).not.toContain("baton_tool_calls_total{");
    // An empty `event:` is the message type (HTML spec: an empty type buffer dispatches `message`).
    const untyped = parseSseEvent(encodeUtf8(`event:\ndata: ${JSON.stringify(answers.ok)}\n\n`));
    fromServerEvent(deps, exchange, untyped, methods, pending, 0);
    expect(seenUnparsed).toEqual([true]);
    expect(pending.size).toBe(0);
  });

  test("a notification or request the engine does not read (logs, the server's requests) never reaches the exchange; one it reads (a task's status, progress) is parsed from its text", () => {
    const { deps, methods } = setup();
    const seen: { kind: string; method?: string; bytes: string; scanned: boolean }[] = [];
    const exchange: SessionExchange = {
      fromClient: (body) => ({ forward: body, answers: [] }),
      fromServer: (data: Uint8Array, line: Classified) => {
        const message = line.kind === "message" ? line.message : undefined;
        seen.push({
          kind: message?.kind ?? line.kind,
          method: message !== undefined && "method" in message ? message.method : undefined,
          bytes: new TextDecoder().decode(data),
          scanned: message !== undefined && scannedFacts(message, data) !== undefined,
        });
        return undefined;
      },
      fromServerLongLine: () => undefined,
      upstreamFailed: () => undefined,
      close: () => undefined,
      sweep: () => undefined,
      forPost: () => IDENTITY_EXCHANGE,
    };
    const pending = owedAnswers([{ kind: "request", id: 1 }], []);
    const progress = { method: "notifications/progress", params: { progressToken: 1, progress: 2 }, jsonrpc: "2.0" };
    const log = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } };
    const sampling = { jsonrpc: "2.0", method: "sampling/createMessage", id: 3, params: {} };
    for (const message of [log, sampling]) {
      const event = sse({ id: "8", event: "message", data: JSON.stringify(message) });
      expect(fromServerEvent(deps, exchange, event, methods, pending, 0)).toBeUndefined();
    }
    expect(seen).toEqual([]);
    // Progress keeps its call tracked past the 15 min bound: the engine must see it.
    const progressData = JSON.stringify(progress);
    expect(fromServerEvent(deps, exchange, sse({ data: progressData }), methods, pending, 0)).toBeUndefined();
    expect(seen).toEqual([
      { kind: "notification", method: "notifications/progress", bytes: progressData, scanned: false },
    ]);
    seen.length = 0;
    const status = {
      jsonrpc: "2.0",
      method: "notifications/tasks/status",
      params: { taskId: "t1", status: "working" },
    };
    const data = JSON.stringify(status);
    expect(fromServerEvent(deps, exchange, sse({ data }), methods, pending, 0)).toBeUndefined();
    expect(seen).toEqual([{ kind: "notification", method: "notifications/tasks/status", bytes: data, scanned: false }]);
    const scanned = classifyLine(encodeUtf8(data));
    expect(scanned.kind === "message" && scanned.message.value).toEqual(status);
    // Any key order or spacing is read; a method the cheap scan doubts (an escape in it) takes the
    // full path, as any body; an answer whose result holds a "method" key is an answer.
    seen.length = 0;
    const spaced = '{"params": {"method": "x"}, "method": "notifications/message", "jsonrpc": "2.0"}';
    fromServerEvent(deps, exchange, sse({ data: spaced }), methods, pending, 0);
    expect(seen).toEqual([]);
    const escaped = '{"jsonrpc":"2.0","method":"notifications\\/message","params":{}}';
    fromServerEvent(deps, exchange, sse({ data: escaped }), methods, pending, 0);
    expect(seen.map((x) => [x.kind, x.method])).toEqual([["notification", "notifications/message"]]);
    seen.length = 0;
    const answer = '{"jsonrpc":"2.0","id":1,"result":{"method":"x","content":[]}}';
    fromServerEvent(deps, exchange, sse({ data: answer }), methods, pending, 0);
    expect(seen.map((x) => [x.kind, x.scanned])).toEqual([["response", true]]);
  });

  test("an answer to no request of this POST is passed to the exchange but not counted", () => {
    const { deps, exchange, methods, seenUnparsed, rendered } = setup();
    const raw = encodeUtf8(JSON.stringify({ ...answers.ok, id: 9 }));
    fromServer(
      deps,
      exchange,
      raw,
      classifyLine(raw),
      methods,
      owedAnswers([{ kind: "request", id: 1 }], []),
      0,
      undefined,
    );
    expect(seenUnparsed).toEqual([true]);
    expect(rendered()).not.toContain("baton_tool_calls_total{");
  });

  test("a rewritten SSE answer keeps its event id; a throwing exchange forwards unchanged and still counts", () => {
    const { deps, methods, rendered } = setup();
    const rewriting: SessionExchange = {
      fromClient: (body) => ({ forward: body, answers: [] }),
      fromServer: () => encodeUtf8('{"jsonrpc":"2.0","id":1,"result":{}}'),
      fromServerLongLine: () => undefined,
      upstreamFailed: () => undefined,
      close: () => undefined,
      sweep: () => undefined,
      forPost: () => IDENTITY_EXCHANGE,
    };
    const event = sse({ id: "7", event: "message", data: JSON.stringify(answers.ok) });
    const out = fromServerEvent(deps, rewriting, event, methods, owedAnswers([{ kind: "request", id: 1 }], []), 0);
    expect(new TextDecoder().decode(out)).toBe('event: message\nid: 7\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    const throwing: SessionExchange = {
      ...rewriting,
      fromServer: () => {
        throw new Error("boom");
      },
    };
    const raw = encodeUtf8(JSON.stringify(answers.ok));
    expect(
      fromServer(
        deps,
        throwing,
        raw,
        classifyLine(raw),
        methods,
        owedAnswers([{ kind: "request", id: 1 }], []),
        0,
        undefined,
      ),
    ).toBeUndefined();
    expect(rendered()).toContain('baton_tool_calls_total{outcome="ok"} 2');
  });
});

describe("an answer over the inspection cap is counted from its edges", () => {
  test.each([
    [
      '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"xx',
      'xx"}]}}',
      'outcome="ok"',
      'mcp_method_name="tools/call"} 1',
    ],
    [
      '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"xx',
      'xx"}],"isError":true}}',
      'outcome="tool_error"',
      'error_type="tool_error"} 1',
    ],
    [
      '{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"xx',
      'xx"}}',
      'outcome="error"',
      'error_type="-32603",rpc_response_status_code="-32603"} 1',
    ],
    [
      '{"jsonrpc":"2.0","id":1,"error":{"message":"xx',
      'xx","code":"E1"}}',
      'outcome="error"',
      'error_type="_OTHER"} 1',
    ],
  ])("%s … %s", (head, tail, outcome, duration) => {
    const { deps, methods, rendered } = setup();
    observeLongAnswer(deps, methods, 1, { head, tail }, 0);
    expect(rendered()).toContain(`baton_tool_calls_total{${outcome}} 1`);
    expect(rendered()).toContain(duration);
  });
});
