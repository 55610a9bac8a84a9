// The otlp: sink's trace facts on the transforms' actions: request id, protocol version, our span ids, and traceparent propagation.

import { describe, expect, test } from "bun:test";
import { createTraceTracker } from "../src/proxy/trace-meta.ts";
import { createProxyState, fromClient, fromServer, type Action, type ProxyState } from "../src/proxy/transform.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { parseTraceparent } from "../src/telemetry/otlp/trace-context.ts";

const HOST = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const call = (id: unknown, name: string, meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: { n: 1 }, ...(meta ? { _meta: meta } : {}) },
});

function counterHex() {
  let n = 0;
  return (bytes: 8 | 16) => (++n).toString(16).padStart(bytes * 2, "0");
}

function session(propagate: boolean) {
  const state: ProxyState = createProxyState({ includeReportTool: true });
  const tracker = createTraceTracker({ propagate, randomHex: counterHex() });
  return {
    client(message: unknown): Action[] {
      const raw = enc(message);
      const line = classifyLine(raw);
      return tracker.fromClient(line, fromClient(state, raw, line, 0));
    },
    server(message: unknown): Action[] {
      const raw = enc(message);
      const line = classifyLine(raw);
      tracker.fromServer(line);
      return fromServer(state, raw, line, 0);
    },
  };
}

/** The text of each line the server gets (bytes as they go, or a message serialised). */
const serverTexts = (actions: Action[]) =>
  actions.flatMap((a) =>
    a.type === "forward" && a.to === "server"
      ? [new TextDecoder().decode(a.bytes)]
      : a.type === "send" && a.to === "server"
        ? [JSON.stringify(a.message)]
        : [],
  );

const startMeta = (actions: Action[]) =>
  actions.flatMap((a) =>
    a.type === "emit" && a.draft.event_type === "tool_call_start" ? [a.draft.runtime_meta] : [],
  )[0];

describe("createTraceTracker", () => {
  test("a call's start event gets its request id and, after initialize, the negotiated protocol version; bytes are forwarded untouched", () => {
    const s = session(false);
    const before = s.client(call(7, "search"));
    expect(startMeta(before)).toEqual({ "baton/call_id": "c1", "baton/request_id": "7" });
    s.client({
      jsonrpc: "2.0",
      id: "init",
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    s.server({
      jsonrpc: "2.0",
      id: "init",
      result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "s", version: "1" } },
    });
    const after = s.client(call("abc", "search"));
    expect(startMeta(after)).toMatchObject({ "baton/request_id": "abc", "baton/protocol_version": "2025-06-18" });
    expect(after.filter((a) => a.type === "forward")).toHaveLength(1);
    expect(after.some((a) => a.type === "send")).toBe(false);
  });

  test("a session whose initialize this tracker never saw (serve: another replica's) takes the version the request names", () => {
    const state = createProxyState({ includeReportTool: true });
    const tracker = createTraceTracker({ propagate: false, randomHex: counterHex() });
    const client = (message: unknown, version?: string) => {
      const raw = enc(message);
      const line = classifyLine(raw);
      return tracker.fromClient(line, fromClient(state, raw, line, 0), false, { version });
    };
    expect(startMeta(client(call(1, "search"), "2025-06-18"))).toMatchObject({
      "baton/protocol_version": "2025-06-18",
    });
    const batch = [call(2, "search"), call(3, "search")];
    const raw = enc(batch);
    const line = classifyLine(raw);
    const starts = tracker
      .fromClient(line, fromClient(state, raw, line, 0), false, { version: "2025-06-18" })
      .flatMap((a) => (a.type === "emit" && a.draft.event_type === "tool_call_start" ? [a.draft.runtime_meta] : []));
    expect(starts.map((meta) => meta?.["baton/protocol_version"])).toEqual(["2025-06-18", "2025-06-18"]);
    // The negotiated version, once seen, is the session's.
    client({ jsonrpc: "2.0", id: "i", method: "initialize", params: { protocolVersion: "2025-11-25" } });
    const answer = enc({ jsonrpc: "2.0", id: "i", result: { protocolVersion: "2025-03-26", capabilities: {} } });
    tracker.fromServer(classifyLine(answer));
    expect(startMeta(client(call(4, "search"), "2025-06-18"))).toMatchObject({
      "baton/protocol_version": "2025-03-26",
    });
  });

  test("serve: the HTTP request's trace context (valid only) is noted on the start; propagation joins it without one in _meta", () => {
    const ambient = "00-11111111111111111111111111111111-2222222222222222-01";
    for (const propagate of [false, true]) {
      const state = createProxyState({ includeReportTool: true });
      const tracker = createTraceTracker({ propagate, randomHex: counterHex() });
      const client = (message: unknown, request: { traceparent?: string; tracestate?: string }) => {
        const raw = enc(message);
        const line = classifyLine(raw);
        return tracker.fromClient(line, fromClient(state, raw, line, 0), false, request);
      };
      const actions = client(call(1, "search"), { traceparent: ambient, tracestate: "h=1" });
      expect(startMeta(actions)).toMatchObject({
        "baton/http_traceparent": ambient,
        "baton/http_tracestate": "h=1",
      });
      if (propagate) {
        const forwarded = JSON.parse(serverTexts(actions)[0] as string);
        expect(forwarded.params._meta.traceparent).toBe("00-11111111111111111111111111111111-0000000000000001-01");
      }
      const bad = startMeta(client(call(2, "search"), { traceparent: "junk", tracestate: "h=1" }));
      expect(bad?.["baton/http_traceparent"]).toBeUndefined();
      expect(bad?.["baton/http_tracestate"]).toBeUndefined();
    }
  });

  test("resource and prompt requests (which become spans too) get their request id and protocol version; bytes untouched", () => {
    const s = session(true);
    s.client({
      jsonrpc: "2.0",
      id: "init",
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    s.server({
      jsonrpc: "2.0",
      id: "init",
      result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "s", version: "1" } },
    });
    const requests = [
      ["resources/read", { uri: "file:///a" }, "resource_read_start"],
      ["resources/list", {}, "resource_list_start"],
      ["prompts/get", { name: "p" }, "prompt_get_start"],
      ["prompts/list", {}, "prompt_list_start"],
    ] as const;
    for (const [i, [method, params, type]] of requests.entries()) {
      const actions = s.client({ jsonrpc: "2.0", id: 10 + i, method, params });
      const meta = actions.flatMap((a) =>
        a.type === "emit" && a.draft.event_type === type ? [a.draft.runtime_meta] : [],
      )[0];
      expect(meta).toMatchObject({ "baton/request_id": String(10 + i), "baton/protocol_version": "2025-06-18" });
      // BATON_OTEL_PROPAGATE=on is documented for tools/call: these go out as sent.
      expect(actions.some((a) => a.type === "send" && a.to === "server")).toBe(false);
    }
  });

  test("an id beyond 2^53 is recorded as the client wrote it, not as JSON.parse rounded it", () => {
    const s = session(false);
    const raw = new TextEncoder().encode(
      '{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"x","arguments":{}}}',
    );
    const tracker = createTraceTracker({ propagate: false, randomHex: counterHex() });
    const state: ProxyState = createProxyState({ includeReportTool: true });
    const line = classifyLine(raw);
    expect(startMeta(tracker.fromClient(line, fromClient(state, raw, line, 0)))).toMatchObject({
      "baton/request_id": "12345678901234567890",
    });
    expect(startMeta(s.client(call(12, "x")))).toMatchObject({ "baton/request_id": "12" });
  });

  test("a baton_annotate call the proxy answers itself: its annotation (a span of its own) gets the request id", () => {
    const s = session(true);
    const actions = s.client({
      jsonrpc: "2.0",
      id: 41,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "check", signal_type: "other" } },
    });
    const meta = actions.flatMap((a) =>
      a.type === "emit" && a.draft.event_type === "annotation" ? [a.draft.runtime_meta] : [],
    )[0];
    expect(meta?.["baton/request_id"]).toBe("41");
    expect(meta?.["baton/span_id"]).toBeUndefined(); // nothing is forwarded: no CLIENT span
    expect(actions.some((a) => a.type === "send" && a.to === "server")).toBe(false);
  });

  test("injected tools, other methods and batches are left alone", () => {
    const s = session(true);
    const injected = s.client(call(1, "baton_annotate"));
    expect(injected.some((a) => a.type === "send" && a.to === "server")).toBe(false);
    const list = s.client({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(list.map((a) => a.type)).toEqual(["forward"]);
    const batch = new TextEncoder().encode(JSON.stringify([call(3, "x")]));
    const tracker = createTraceTracker({ propagate: true, randomHex: counterHex() });
    const actions: Action[] = [{ type: "forward", to: "server", bytes: batch }];
    expect(tracker.fromClient(classifyLine(batch), actions)).toBe(actions);
  });

  test("calls in a batch get their request ids too (the batch itself is forwarded as it came)", () => {
    const s = session(true);
    const batch = [
      call(8, "search"),
      call(9, "baton_annotate"),
      { jsonrpc: "2.0", method: "ping", id: 10 },
      call("x", "fetch"),
    ];
    const actions = s.client(batch);
    const starts = actions.flatMap((a) =>
      a.type === "emit" && a.draft.event_type === "tool_call_start" ? [a.draft.runtime_meta] : [],
    );
    expect(starts.map((meta) => meta?.["baton/request_id"])).toEqual(["8", "x"]);
    expect(
      actions.some((a) => a.type === "send" && a.to === "server" && JSON.stringify(a.message).includes("traceparent")),
    ).toBe(false);
  });

  test("propagation: our CLIENT span joins the host's trace and rides in the forwarded _meta, other keys kept", () => {
    const s = session(true);
    const actions = s.client(call(5, "search", { traceparent: HOST, tracestate: "k=v", progressToken: 9 }));
    const meta = startMeta(actions) as Record<string, unknown>;
    expect(meta["baton/trace_id"]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(meta["baton/span_id"]).toBe("0000000000000001");
    expect(meta.traceparent).toBe(HOST); // the event records what the host sent
    const forwarded = serverTexts(actions).map((text) => JSON.parse(text));
    expect(forwarded).toEqual([
      {
        ...call(5, "search"),
        params: {
          name: "search",
          arguments: { n: 1 },
          _meta: {
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01",
            tracestate: "k=v",
            progressToken: 9,
          },
        },
      },
    ]);
  });

  test("propagation edits the call's bytes: every other byte as the client wrote it", () => {
    const state = createProxyState({ includeReportTool: true });
    const tracker = createTraceTracker({ propagate: true, randomHex: counterHex() });
    const ours = "00-00000000000000000000000000000001-0000000000000002-01";
    const through = (text: string) => {
      const raw = new TextEncoder().encode(text);
      const line = classifyLine(raw);
      return serverTexts(tracker.fromClient(line, fromClient(state, raw, line, 0)));
    };
    const args = '"arguments" : {"n":1.0,"big":12345678901234567890,"s":"caf\\u00e9 \\/"}';
    expect(through(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search", ${args}}}`)).toEqual([
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"traceparent":"${ours}"},"name":"search", ${args}}}`,
    ]);
    expect(
      through(
        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{${args},"name":"search","_meta":{"a":2.50,"traceparent":"${HOST}"}}}`,
      ),
    ).toEqual([
      `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{${args},"name":"search","_meta":{"a":2.50,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000003-01"}}}`,
    ]);
    // Stripped intent params and the traceparent, both edits in the bytes.
    expect(
      through(
        `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"n":1.0,"user_goal":"g"},"_meta":{}}}`,
      ),
    ).toEqual([
      `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"n":1.0},"_meta":{"traceparent":"00-00000000000000000000000000000004-0000000000000005-01"}}}`,
    ]);
  });

  test("propagation keeps the host's decision not to sample (flags 00): the server is not told to record", () => {
    const s = session(true);
    const unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    const actions = s.client(call(7, "search", { traceparent: unsampled }));
    const forwarded = JSON.parse(serverTexts(actions)[0] as string);
    expect(forwarded.params._meta.traceparent).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-00");
  });

  test("propagation that starts a new trace drops the host's tracestate: without a valid traceparent it belongs to no trace (W3C)", () => {
    const state = createProxyState({ includeReportTool: true });
    const tracker = createTraceTracker({ propagate: true, randomHex: counterHex() });
    const through = (text: string) => {
      const raw = new TextEncoder().encode(text);
      const line = classifyLine(raw);
      return serverTexts(tracker.fromClient(line, fromClient(state, raw, line, 0)));
    };
    // In the bytes: the member goes, every other byte stays.
    const [bytes] = through(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"s","_meta":{"tracestate":"k=v","a":1.0,"traceparent":"zz"}}}',
    );
    expect(bytes).toBe(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"s","_meta":{"a":1.0,"traceparent":"00-00000000000000000000000000000001-0000000000000002-01"}}}',
    );
    // No traceparent at all; and re-serialised (`_meta` given twice: its bytes cannot be edited surely).
    for (const text of [
      '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"s","_meta":{"tracestate":"k=v"}}}',
      '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"s","_meta":{},"_meta":{"tracestate":"k=v","p":2}}}',
    ]) {
      const forwarded = JSON.parse(through(text)[0] as string);
      expect(forwarded.params._meta.tracestate).toBeUndefined();
      expect(parseTraceparent(forwarded.params._meta.traceparent)).toBeDefined();
    }
    expect(
      through('{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"s","_meta":{},"_meta":{"p":2}}}'),
    ).toEqual([
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"s","_meta":{"p":2,"traceparent":"00-00000000000000000000000000000007-0000000000000008-01"}}}',
    ]);
  });

  test("propagation without a host trace starts one", () => {
    const s = session(true);
    const actions = s.client(call(6, "search"));
    const meta = startMeta(actions) as Record<string, unknown>;
    expect(meta["baton/trace_id"]).toBe("00000000000000000000000000000001");
    const forwarded = JSON.parse(serverTexts(actions)[0] as string);
    expect(forwarded.params._meta).toEqual({
      traceparent: `00-${meta["baton/trace_id"]}-${meta["baton/span_id"]}-01`,
    });
  });
});
