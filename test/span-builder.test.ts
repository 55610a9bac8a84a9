// Events → MCP spans: names, kinds, parent links, attributes, status per side, annotations, trace context (and the transform's trace facts).

import { describe, expect, test } from "bun:test";
import { type BatonEvent, ERROR_DATA_MARK } from "../src/telemetry/event-types.ts";
import { createSpanBuilder } from "../src/telemetry/otlp/span-builder.ts";
import { toHrTime, type FinishedSpan } from "../src/telemetry/otlp/span-types.ts";
import { mapErrorOutcome } from "../src/telemetry/otlp/span-outcome.ts";
import { formatTraceparent, parseTraceparent } from "../src/telemetry/otlp/trace-context.ts";
import { makeCall, makeEvent } from "./fixtures/report/build-events.ts";

/** Deterministic ids: 0…01, 0…02, … */
function counterHex() {
  let n = 0;
  return (bytes: 8 | 16) => (++n).toString(16).padStart(bytes * 2, "0");
}

function build(events: BatonEvent[], options: { captureContent?: boolean; maxOpen?: number } = {}): FinishedSpan[] {
  const builder = createSpanBuilder({
    transport: "pipe",
    captureContent: options.captureContent ?? false,
    randomHex: counterHex(),
    maxOpen: options.maxOpen,
  });
  return events.flatMap((e) => builder.add(e));
}

describe("createSpanBuilder", () => {
  test("a successful call: SERVER span with a CLIENT child, same name, times from captured_at", () => {
    const [start, end] = makeCall(1, "c1", "search_invoices", { q: "acme" }, { durationMs: 40 });
    const meta = { ...start.runtime_meta, "baton/request_id": "7", "baton/protocol_version": "2025-06-18" };
    const spans = build([{ ...start, runtime_meta: meta } as BatonEvent, end]);
    expect(spans).toHaveLength(2);
    const [server, client] = spans as [FinishedSpan, FinishedSpan];
    expect(server).toMatchObject({
      name: "tools/call search_invoices",
      kind: "server",
      parent: undefined,
      status: { code: 0 },
    });
    expect(client).toMatchObject({
      name: "tools/call search_invoices",
      kind: "client",
      parent: { spanId: server.spanId, remote: false },
      traceId: server.traceId,
    });
    expect(server.attributes).toEqual({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "search_invoices",
      "gen_ai.operation.name": "execute_tool",
      "network.transport": "pipe",
      "baton.session.id": start.session_id,
      "jsonrpc.request.id": "7",
      "mcp.protocol.version": "2025-06-18",
    });
    expect(server.start).toEqual(toHrTime(start.captured_at));
    expect(server.end).toEqual(toHrTime(end.captured_at));
    expect(server.end[0] * 1e9 + server.end[1] - (server.start[0] * 1e9 + server.start[1])).toBe(40e6);
  });

  test.each([
    // error_type, server status, client status, error.type, rpc.response.status_code (CLIENT, SERVER)
    ["jsonrpc_-32000", 2, 2, "-32000", "-32000", "-32000"],
    ["jsonrpc_-32603", 2, 2, "-32603", "-32603", "-32603"],
    ["jsonrpc_-32602", 0, 2, "-32602", "-32602", "-32602"],
    ["jsonrpc_-32601", 0, 2, "-32601", "-32601", "-32601"],
    ["jsonrpc_-32002", 0, 2, "-32002", "-32002", "-32002"],
    ["tool_error", 2, 2, "tool_error", undefined, undefined],
    ["cancelled", 0, 2, "cancelled", undefined, undefined],
    // The server never answered; over stdio the proxy answers the host -32603 itself (pending.ts).
    ["upstream_exit", 2, 2, "upstream_exit", undefined, "-32603"],
    ["proxy_shutdown", 2, 2, "proxy_shutdown", undefined, "-32603"],
    ["evicted", 2, 2, "evicted", undefined, undefined], // no answer to the host yet (a late one is still forwarded)
    // --url failures keep their name, as in the events: a timeout is not a 401.
    ["http_503", 2, 2, "http_503", undefined, "-32603"],
    ["upstream_timeout", 2, 2, "upstream_timeout", undefined, "-32603"],
    ["session_expired", 2, 2, "session_expired", undefined, "-32603"],
    ["request_too_large", 2, 2, "request_too_large", undefined, "-32603"],
    // serve's names for the same failures (its host is never answered -32603 over a pipe; see the serve test below).
    ["upstream_http_503", 2, 2, "upstream_http_503", undefined, "-32603"],
    // The server itself reported the task failed (tasks/get, tasks/result): the host got that answer, not one of ours.
    ["task_failed", 2, 2, "task_failed", undefined, undefined],
    ["jsonrpc_invalid", 2, 2, "_OTHER", undefined, undefined],
  ])("%s: SERVER %d, CLIENT %d", (errorType, serverCode, clientCode, type, clientRpc, serverRpc) => {
    const spans = build(makeCall(1, "c1", "t", {}, { durationMs: 5, errorType, errorBody: "went wrong" }));
    const [server, client] = spans as [FinishedSpan, FinishedSpan];
    expect(server.status.code).toBe(serverCode);
    // A tool_error's body is the result's text: content, left out without capture (see below).
    expect(client.status).toEqual({ code: clientCode, message: errorType === "tool_error" ? "" : "went wrong" });
    for (const span of spans) {
      // error.type if and only if the span failed (ERROR): the caller's own mistake (-32602…) or a
      // cancellation is not the SERVER span's failure, so it keeps only rpc.response.status_code.
      expect(span.attributes["error.type"]).toBe((span.status.code === 2 ? type : undefined) as never);
    }
    expect(client.attributes["rpc.response.status_code"]).toBe(clientRpc as never);
    expect(server.attributes["rpc.response.status_code"]).toBe(serverRpc as never);
  });

  test("the clock set back (or forward) during a call: the span lasts duration_ms from its start, never ends before it", () => {
    const nanos = (t: readonly [number, number]): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
    for (const stepMs of [-3_600_000, -1_500, 3_600_000]) {
      const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 3_000 });
      const stepped = new Date(Date.parse(end.captured_at) + stepMs).toISOString().replace(/Z$/, "000Z");
      const [server, client] = build([start, { ...end, captured_at: stepped } as BatonEvent]) as [
        FinishedSpan,
        FinishedSpan,
      ];
      expect(server.start).toEqual(toHrTime(start.captured_at));
      expect(nanos(server.end) - nanos(server.start)).toBe(3_000_000_000n);
      expect(client.end).toEqual(server.end);
    }
    // Without a duration the span ends at its start at the earliest.
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: null });
    const earlier = new Date(Date.parse(start.captured_at) - 60_000).toISOString().replace(/Z$/, "000Z");
    const [server] = build([start, { ...end, captured_at: earlier } as BatonEvent]) as [FinishedSpan];
    expect(server.end).toEqual(server.start);
  });

  test("sub-millisecond times are kept when captured_at and duration_ms agree", () => {
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 0 });
    const later = start.captured_at.replace(/\.(\d{3})000Z$/, ".$1420Z");
    const [server] = build([start, { ...end, captured_at: later } as BatonEvent]) as [FinishedSpan];
    expect(server.end).toEqual(toHrTime(later));
  });

  test("serve answers its hosts' failed calls in several ways (HTTP 502, -32001, a closed stream): no status code it did not send", () => {
    const builder = createSpanBuilder({ transport: "tcp", captureContent: false, randomHex: counterHex() });
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 5, errorType: "proxy_shutdown", errorBody: "x" });
    builder.add(start);
    const [server] = builder.add(end) as [FinishedSpan, FinishedSpan];
    expect(server.attributes["rpc.response.status_code"]).toBeUndefined();
    expect(server.attributes["error.type"]).toBe("proxy_shutdown");
  });

  test("an isError result's text is content: in the status description only with content capture on", () => {
    const call = makeCall(
      1,
      "c1",
      "t",
      {},
      { durationMs: 5, errorType: "tool_error", errorBody: "alice's ledger: 4 rows" },
    );
    for (const span of build(call)) {
      expect(span.status.code).toBe(2);
      expect(JSON.stringify(span)).not.toContain("ledger");
    }
    for (const span of build(call, { captureContent: true }))
      expect(span.status.message).toBe("alice's ledger: 4 rows");
  });

  test("a JSON-RPC error's status description is its message; its data is content, there only with content capture on", () => {
    const body = `no such row${ERROR_DATA_MARK}{"row":"alice's ledger"})`;
    const call = makeCall(1, "c1", "t", {}, { durationMs: 5, errorType: "jsonrpc_-32000", errorBody: body });
    for (const span of build(call)) {
      expect(span.status).toEqual({ code: 2, message: "no such row" });
      expect(JSON.stringify(span)).not.toContain("ledger");
    }
    for (const span of build(call, { captureContent: true })) expect(span.status.message).toBe(body);
    // A message that holds the mark itself is cut there: shorter, never longer than the message.
    const marked = makeCall(1, "c2", "t", {}, { durationMs: 5, errorType: "jsonrpc_-32603", errorBody: "a (data: b" });
    for (const span of build(marked)) expect(span.status.message).toBe("a");
  });

  test("long error bodies are cut in the status description", () => {
    expect(mapErrorOutcome("tool_error", "x".repeat(5000)).client.message).toHaveLength(1024);
  });

  test("the status description is never cut inside a surrogate pair (an emoji at the cut is left out whole)", () => {
    for (const at of [1021, 1022, 1023]) {
      const body = `${"x".repeat(at)}😀${"y".repeat(2000)}`;
      const message = mapErrorOutcome("tool_error", body).client.message as string;
      expect(message.isWellFormed()).toBe(true);
      expect(message.length).toBeLessThanOrEqual(1024);
      expect(message.endsWith("…")).toBe(true);
      expect(body.startsWith(message.slice(0, -1))).toBe(true);
    }
  });

  test("the host's traceparent/tracestate make our SERVER span its remote child", () => {
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
    const meta = {
      ...start.runtime_meta,
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "k=v",
    };
    const [server, client] = build([{ ...start, runtime_meta: meta } as BatonEvent, end]) as [
      FinishedSpan,
      FinishedSpan,
    ];
    expect(server.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(server.parent).toEqual({ spanId: "00f067aa0ba902b7", remote: true });
    expect(server.traceState).toBe("k=v");
    expect(client.traceId).toBe(server.traceId);
  });

  test("serve: the HTTP request's traceparent (the ambient context) is the parent without one in _meta, and a link beside one (MCP conventions)", () => {
    const ambient = "00-11111111111111111111111111111111-2222222222222222-01";
    const host = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const spansOf = (extra: Record<string, unknown>) => {
      const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
      return build([
        { ...start, runtime_meta: { ...start.runtime_meta, ...extra } } as BatonEvent,
        end,
      ]) as FinishedSpan[];
    };
    const [alone, aloneClient] = spansOf({ "baton/http_traceparent": ambient, "baton/http_tracestate": "h=1" }) as [
      FinishedSpan,
      FinishedSpan,
    ];
    expect(alone.traceId).toBe("11111111111111111111111111111111");
    expect(alone.parent).toEqual({ spanId: "2222222222222222", remote: true });
    expect(alone.traceState).toBe("h=1");
    expect(alone.links).toEqual([]);
    expect(aloneClient.traceId).toBe(alone.traceId);
    const [both, bothClient] = spansOf({ traceparent: host, "baton/http_traceparent": ambient }) as [
      FinishedSpan,
      FinishedSpan,
    ];
    expect(both.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(both.parent).toEqual({ spanId: "00f067aa0ba902b7", remote: true });
    expect(both.links).toEqual([{ traceId: "11111111111111111111111111111111", spanId: "2222222222222222" }]);
    expect(bothClient.links).toEqual([]);
    // The same context both ways: the parent, no link to itself. An unsampled ambient trace: no spans.
    expect(spansOf({ traceparent: host, "baton/http_traceparent": host })[0]?.links).toEqual([]);
    expect(spansOf({ "baton/http_traceparent": ambient.replace(/01$/, "00") })).toEqual([]);
  });

  test("a host trace it did not sample (flags 00) gets no spans of ours: the parent-based default, no orphans in the backend", () => {
    const call = (callId: string, flags: string) => {
      const [start, end] = makeCall(1, callId, "t", {}, { durationMs: 1 });
      const traceparent = `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-${flags}`;
      return [{ ...start, runtime_meta: { ...start.runtime_meta, traceparent } } as BatonEvent, end];
    };
    expect(build(call("c1", "00"))).toEqual([]);
    expect(build(call("c2", "01"))).toHaveLength(2);
    expect(build(call("c3", "03"))).toHaveLength(2); // other flag bits: the sampled bit decides
  });

  test("an invalid traceparent starts a new trace", () => {
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
    const meta = { ...start.runtime_meta, traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" };
    const [server] = build([{ ...start, runtime_meta: meta } as BatonEvent, end]) as [FinishedSpan];
    expect(server.parent).toBeUndefined();
    expect(server.traceId).not.toBe("00000000000000000000000000000000");
  });

  test("ids written by the trace tracker (propagation) are the CLIENT span's", () => {
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
    const meta = {
      ...start.runtime_meta,
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "baton/trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
      "baton/span_id": "00000000000000aa",
    };
    const [server, client] = build([{ ...start, runtime_meta: meta } as BatonEvent, end]) as [
      FinishedSpan,
      FinishedSpan,
    ];
    expect(client.spanId).toBe("00000000000000aa");
    expect(client.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(server.parent?.spanId).toBe("00f067aa0ba902b7");
    expect(formatTraceparent(client.traceId, client.spanId)).toBe(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00000000000000aa-01",
    );
  });

  test("a call naming no tool or prompt (an empty name) gets the method alone as its span name, no trailing space", () => {
    const tool = build(makeCall(1, "c1", "", {}, { durationMs: 5 }));
    expect(tool.map((s) => s.name)).toEqual(["tools/call", "tools/call"]);
    expect(tool[0]?.attributes["gen_ai.tool.name"]).toBe("");
    const start = makeEvent("tool_call_start", 1, {}, { callId: "p1" });
    const prompt = build([
      { ...start, event_type: "prompt_get_start", payload: { name: "", params: {} } },
      { ...start, sequence_number: 2, event_type: "prompt_get_end", payload: { name: "", duration_ms: 1 } },
    ] as unknown as BatonEvent[]);
    expect(prompt.map((s) => s.name)).toEqual(["prompts/get", "prompts/get"]);
  });

  test("resource and prompt events (when the proxy emits them) become spans of their method; URIs stay out of names", () => {
    const op = (type: string, seq: number, payload: Record<string, unknown>): BatonEvent =>
      ({
        ...makeEvent("tool_call_start", seq, {}, { callId: `r${Math.ceil(seq / 2)}` }),
        event_type: type,
        payload,
      }) as unknown as BatonEvent;
    const spans = build([
      op("resource_read_start", 1, { uri: "file:///secret/report.pdf", params: {} }),
      op("resource_read_end", 2, { uri: "file:///secret/report.pdf", duration_ms: 3 }),
      op("prompt_get_start", 3, { name: "summarize", params: {} }),
      op("prompt_get_error", 4, {
        name: "summarize",
        error_type: "jsonrpc_-32602",
        error_body: "unknown argument",
        duration_ms: 1,
      }),
      op("resource_list_start", 5, {}),
      op("resource_list_end", 6, { count: 3, duration_ms: 2 }),
      op("prompt_list_start", 7, {}),
      op("prompt_list_end", 8, { count: null, duration_ms: 2 }),
    ]);
    expect(spans.map((s) => [s.name, s.kind])).toEqual([
      ["resources/read", "server"],
      ["resources/read", "client"],
      ["prompts/get summarize", "server"],
      ["prompts/get summarize", "client"],
      ["resources/list", "server"],
      ["resources/list", "client"],
      ["prompts/list", "server"],
      ["prompts/list", "client"],
    ]);
    expect(spans[0]?.attributes).toMatchObject({
      "mcp.method.name": "resources/read",
      "mcp.resource.uri": "file:///secret/report.pdf",
    });
    expect(spans[0]?.attributes["gen_ai.operation.name"]).toBeUndefined();
    expect(spans[2]?.attributes).toMatchObject({
      "mcp.method.name": "prompts/get",
      "gen_ai.prompt.name": "summarize",
      "rpc.response.status_code": "-32602",
    });
    expect([spans[2]?.status.code, spans[3]?.status.code]).toEqual([0, 2]); // the caller's mistake: an error on the CLIENT side only
    expect([spans[2]?.attributes["error.type"], spans[3]?.attributes["error.type"]]).toEqual([undefined, "-32602"]);
    expect(spans[4]?.attributes["mcp.method.name"]).toBe("resources/list");
  });

  test("arguments and results only when opted in", () => {
    const call = makeCall(1, "c1", "t", { q: "x" }, { durationMs: 1 });
    expect(build(call)[0]?.attributes["gen_ai.tool.call.arguments"]).toBeUndefined();
    const [server] = build(call, { captureContent: true }) as [FinishedSpan];
    expect(server.attributes["gen_ai.tool.call.arguments"]).toBe('{"q":"x"}');
    expect(server.attributes["gen_ai.tool.call.result"]).toBe('[{"type":"text","text":"ok"}]');
  });

  test("an annotation lands on the open call of its tool, or else on a span of its own", () => {
    const [start, end] = makeCall(1, "c1", "search", {}, { durationMs: 10 });
    const note = (seq: number, tool: string | null) =>
      makeEvent("annotation", seq, {
        intent: "find unpaid invoices",
        expected_outcome: null,
        signal_type: "unexpected_result",
        workflow: null,
        suggested_improvement: null,
        context: null,
        intent_source: "baton_annotate",
        tool_name: tool,
      });
    const spans = build([start, note(2, "search"), end, note(4, "other")]);
    expect(spans).toHaveLength(3);
    const [attached, , detached] = spans as [FinishedSpan, FinishedSpan, FinishedSpan];
    expect(attached.events).toEqual([
      {
        name: "baton.annotation",
        time: toHrTime(note(2, "search").captured_at),
        attributes: {
          "baton.annotation.intent": "find unpaid invoices",
          "baton.annotation.signal_type": "unexpected_result",
          "baton.annotation.tool_name": "search",
        },
      },
    ]);
    expect(detached).toMatchObject({ name: "tools/call baton_annotate", kind: "server" });
    expect(detached.events[0]?.attributes["baton.annotation.tool_name"]).toBe("other");
  });

  test("the annotation made from a call's user_goal (emitted just before its start) lands on that call, not on a span of its own", () => {
    const [start, end] = makeCall(2, "c1", "search", {}, { durationMs: 10 });
    const fromGoal = (seq: number) =>
      ({
        ...makeEvent("annotation", seq, {
          intent: "find unpaid invoices",
          expected_outcome: null,
          signal_type: null,
          workflow: null,
          suggested_improvement: null,
          context: null,
          intent_source: "injected_param",
          tool_name: "search",
        }),
        runtime_meta: { "baton/call_id": "c1" },
      }) as BatonEvent;
    const spans = build([fromGoal(1), start, end]);
    expect(spans.map((s) => s.name)).toEqual(["tools/call search", "tools/call search"]);
    expect(spans[0]?.events.map((e) => e.attributes["baton.annotation.intent"])).toEqual(["find unpaid invoices"]);
    // Its call never started (BATON_CAPTURE without tools): the next event of the session lets it go on its own span.
    const other = makeCall(2, "c9", "list", {}, { durationMs: 5 });
    const lone = build([fromGoal(1), ...other]);
    expect(lone.map((s) => s.name)).toEqual(["tools/call baton_annotate", "tools/call list", "tools/call list"]);
    // The session's last event: released at shutdown, not lost with the process.
    const builder = createSpanBuilder({ transport: "pipe", captureContent: false, randomHex: counterHex() });
    expect(builder.add(fromGoal(1))).toEqual([]);
    expect(builder.release().map((s) => s.name)).toEqual(["tools/call baton_annotate"]);
    expect(builder.release()).toEqual([]);
  });

  test("open calls are bounded: the oldest is forgotten and counted", () => {
    const builder = createSpanBuilder({ transport: "tcp", captureContent: false, randomHex: counterHex(), maxOpen: 2 });
    const calls = [1, 3, 5].map((seq) => makeCall(seq, `c${seq}`, "t", {}, { durationMs: 1 }));
    for (const [start] of calls) builder.add(start);
    expect(builder.evicted).toBe(1);
    expect(builder.add(calls[0]![1])).toEqual([]);
    expect(builder.add(calls[2]![1])[0]?.attributes["network.transport"]).toBe("tcp");
  });

  test("captured arguments held by open calls are bounded: past the budget a span goes without them and says so", () => {
    const builder = createSpanBuilder({
      transport: "pipe",
      captureContent: true,
      randomHex: counterHex(),
      maxHeldContentChars: 100,
    });
    const args = { q: "x".repeat(30) }; // 39 characters as JSON
    const calls = [1, 3, 5, 7, 9].map((seq) => makeCall(seq, `c${seq}`, "t", args, { durationMs: 1 }));
    const server = (end: BatonEvent) => builder.add(end)[0]?.attributes ?? {};
    for (const [start] of calls.slice(0, 3)) builder.add(start);
    expect(server(calls[0]![1])).toMatchObject({ "gen_ai.tool.call.arguments": JSON.stringify(args) });
    expect(server(calls[1]![1])).toMatchObject({ "gen_ai.tool.call.arguments": JSON.stringify(args) });
    const omitted = server(calls[2]![1]);
    expect(omitted["gen_ai.tool.call.arguments"]).toBeUndefined();
    expect(omitted["baton.tool.call.arguments_omitted"]).toBe(true);
    expect(omitted["gen_ai.tool.call.result"]).toBeDefined(); // the result is not held: it is sent at once
    // Ended calls gave their share back.
    builder.add(calls[3]![0]);
    builder.add(calls[4]![0]);
    expect(server(calls[3]![1])).toMatchObject({ "gen_ai.tool.call.arguments": JSON.stringify(args) });
    expect(server(calls[4]![1])["baton.tool.call.arguments_omitted"]).toBeUndefined();
  });

  test("each span names its own hop's transport: stdio toward the host, HTTP toward a --url server", () => {
    const builder = createSpanBuilder({
      transport: "pipe",
      upstreamTransport: "tcp",
      captureContent: false,
      randomHex: counterHex(),
    });
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
    builder.add(start);
    const [server, client] = builder.add(end) as [FinishedSpan, FinishedSpan];
    expect([server.kind, server.attributes["network.transport"]]).toEqual(["server", "pipe"]);
    expect([client.kind, client.attributes["network.transport"]]).toEqual(["client", "tcp"]);
  });

  test("HTTP hops say http/1.1; the CLIENT span names the real server behind the proxy (server.address/.port)", () => {
    const hop = (span: FinishedSpan) =>
      ["network.protocol.name", "network.protocol.version", "server.address", "server.port"].map(
        (key) => span.attributes[key],
      );
    // --url behind a stdio host: the stdio hop has no HTTP version nor server.*; the default port is the scheme's.
    const url = createSpanBuilder({
      transport: "pipe",
      upstreamTransport: "tcp",
      upstreamOrigin: "https://mcp.example.com",
      captureContent: false,
      randomHex: counterHex(),
    });
    const [start, end] = makeCall(1, "c1", "t", {}, { durationMs: 1 });
    url.add(start);
    const [server, client] = url.add(end) as [FinishedSpan, FinishedSpan];
    expect(hop(server)).toEqual([undefined, undefined, undefined, undefined]);
    expect(hop(client)).toEqual(["http", "1.1", "mcp.example.com", 443]);
    // serve: HTTP on both hops; an IPv6 literal without its brackets.
    const serve = createSpanBuilder({
      transport: "tcp",
      upstreamOrigin: "http://[::1]:8081",
      captureContent: false,
      randomHex: counterHex(),
    });
    serve.add(start);
    const [served, forwarded] = serve.add(end) as [FinishedSpan, FinishedSpan];
    expect(hop(served)).toEqual(["http", "1.1", undefined, undefined]);
    expect(hop(forwarded)).toEqual(["http", "1.1", "::1", 8081]);
  });

  test("traceparent parsing follows W3C", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true,
    });
    expect(parseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")).toBeUndefined();
    expect(parseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")).toBeUndefined();
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-future")).toMatchObject({
      sampled: false,
    });
    expect(parseTraceparent(42)).toBeUndefined();
  });
});
