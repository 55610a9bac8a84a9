// Unit: the session engine over a shared telemetry hub (wire actions, per-request context stamping, one live report per session).

import { describe, expect, test } from "bun:test";
import { loadConfig, type Config } from "../src/config.ts";
import { createSessionEngine, type SessionEngine, type WireAction } from "../src/engine/session-engine.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import type { RequestContext } from "../src/telemetry/envelope.ts";
import { createTelemetryHub, type TelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { assertValidEvent } from "./support/events.ts";
import { memorySink } from "./support/memory-sink.ts";
import { LocalError } from "../src/errors.ts";
import type { Sink } from "../src/telemetry/sinks/sink.ts";

const enc = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value)}\n`);

function configOf(env: Record<string, string>): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  return loaded.config;
}

/** A sink that keeps every event it is given. */

function setup(env: Record<string, string> = { BATON_EVENT_SINK: "stderr:" }) {
  const config = configOf(env);
  const logger = createMemoryLogger();
  const sink = memorySink();
  const hub = createTelemetryHub({ config, logger, sinks: [sink] });
  let clock = 0;
  const engine = (): SessionEngine => createSessionEngine({ config, logger, now: () => clock, telemetry: hub });
  return { hub, sink, logger, engine, tick: (ms: number) => (clock += ms) };
}

const fromClient = (engine: SessionEngine, message: unknown, context?: RequestContext) => {
  const raw = enc(message);
  return engine.fromClient(raw, classifyLine(raw.subarray(0, raw.length - 1)), context);
};
const fromServer = (engine: SessionEngine, message: unknown, streamed = false) => {
  const raw = enc(message);
  return engine.fromServer(raw, classifyLine(raw.subarray(0, raw.length - 1)), streamed);
};
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});
const answer = (id: number, text = "ok") => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text }] } });
const messages = (actions: WireAction[]) =>
  actions.map((a) =>
    "message" in a ? (a.message as Record<string, any>) : JSON.parse(new TextDecoder().decode(a.bytes)),
  );

async function delivered(hub: TelemetryHub, sink: { events: BatonEvent[] }): Promise<BatonEvent[]> {
  await hub.shutdown(1_000);
  for (const event of sink.events) assertValidEvent(event);
  return sink.events;
}

describe("event sizes for the dispatcher's intake", () => {
  test("each event is enqueued with the size of the line it came from (eager and lazy drafts; a batch line's events share it)", () => {
    const config = configOf({ BATON_EVENT_SINK: "stderr:" });
    const sizes: (number | undefined)[] = [];
    const hub = createTelemetryHub({ config, logger: createMemoryLogger(), sinks: [memorySink()] });
    const recording: TelemetryHub = {
      ...hub,
      openSession: (observe) => {
        const inner = hub.openSession(observe);
        return { ...inner, emit: (draft, context, bytes) => (sizes.push(bytes), inner.emit(draft, context, bytes)) };
      },
    };
    const engine = createSessionEngine({ config, logger: createMemoryLogger(), now: () => 0, telemetry: recording });
    const exchange = (request: Uint8Array, reply: Uint8Array): void => {
      engine.fromClient(request, classifyLine(request.subarray(0, request.length - 1)));
      engine.fromServer(reply, classifyLine(reply.subarray(0, reply.length - 1)));
    };
    // A plain tool call: its events are built later from the bytes they hold (emitLater).
    const request = enc(call(1, "echo", { text: "hi" }));
    const reply = enc(answer(1, "x".repeat(5_000)));
    exchange(request, reply);
    expect(sizes).toEqual([request.length, reply.length]);
    // A resource read: its event is a draft built at once (emit).
    sizes.length = 0;
    const read = enc({ jsonrpc: "2.0", id: 2, method: "resources/read", params: { uri: "file:///notes.txt" } });
    const contents = enc({
      jsonrpc: "2.0",
      id: 2,
      result: { contents: [{ uri: "file:///notes.txt", text: "y".repeat(3_000) }] },
    });
    exchange(read, contents);
    expect(sizes.length).toBeGreaterThan(0);
    expect(sizes.at(-1)).toBe(contents.length);
    for (const size of sizes) expect([read.length, contents.length]).toContain(size as number);
    // A batch line: its events share its size (a batch of 50 calls is not 50 times its bytes).
    sizes.length = 0;
    const batch = enc(Array.from({ length: 50 }, (_, i) => call(100 + i, "echo", { text: `batched ${i}` })));
    engine.fromClient(batch, classifyLine(batch.subarray(0, batch.length - 1)));
    expect(sizes).toEqual(Array.from({ length: 50 }, () => Math.ceil(batch.length / 50)));
    // Events no line brought (the session's end closing what was in flight) stand for no bytes.
    sizes.length = 0;
    engine.failPending("upstream_exit", "gone");
    expect(sizes).toEqual(Array.from({ length: 50 }, () => 0));
  });
});

describe("the hot-path bound", () => {
  test("a call over 64 KiB whose values fit every cap is recorded whole, with nothing said to be cut", async () => {
    const { engine: make, hub, sink } = setup();
    const engine = make();
    const args = { first: "a".repeat(40_000), second: "b".repeat(40_000) };
    expect(enc(call(1, "echo", args)).length).toBeGreaterThan(64 * 1024);
    fromClient(engine, call(1, "echo", args));
    fromServer(engine, answer(1));
    const [start] = await delivered(hub, sink);
    expect(start?.event_type).toBe("tool_call_start");
    expect((start?.payload as { params?: unknown } | undefined)?.params).toEqual(args);
    expect(start?.runtime_meta?.["baton/truncated"]).toBeUndefined();
  });
});

describe("wire actions", () => {
  test("an untouched line is forwarded as its own bytes; a rewritten answer is a message", () => {
    const { engine } = setup();
    const e = engine();
    const raw = enc({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    const out = e.fromClient(raw, classifyLine(raw.subarray(0, raw.length - 1)));
    expect(out).toEqual([{ to: "server", bytes: raw }]);
    expect((out[0] as { bytes: Uint8Array }).bytes).toBe(raw);
    const rewritten = fromServer(e, {
      jsonrpc: "2.0",
      id: 0,
      result: { capabilities: { tools: {} }, serverInfo: { name: "s" } },
    });
    expect(rewritten).toHaveLength(1);
    expect(rewritten[0]?.to).toBe("client");
    expect("message" in (rewritten[0] as WireAction)).toBe(true);
  });

  test("a streamed server line yields no wire action but still closes its call", async () => {
    const { engine, hub, sink } = setup();
    const e = engine();
    fromClient(e, call(1, "echo"));
    expect(fromServer(e, answer(1), true)).toEqual([]);
    expect((await delivered(hub, sink)).map((ev) => ev.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
  });

  test("failPending answers in-flight requests with the wire error and closes calls as the given kind", async () => {
    const { engine, hub, sink } = setup();
    const e = engine();
    fromClient(e, call(7, "slow"));
    const out = messages(e.failPending("upstream_exit", "the MCP server exited (exit code 3) before answering"));
    expect(out).toEqual([
      {
        jsonrpc: "2.0",
        id: 7,
        error: { code: -32603, message: "baton-proxy: the MCP server exited (exit code 3) before answering" },
      },
    ]);
    const events = await delivered(hub, sink);
    expect(events.at(-1)?.payload).toMatchObject({ error_type: "upstream_exit" });
  });
});

describe("request context", () => {
  test("each call's events carry its own request's consent token and user, the outcome included", async () => {
    const { engine, hub, sink } = setup({ BATON_EVENT_SINK: "stderr:", BATON_CONSENT_TOKEN: "process-token" });
    const e = engine();
    fromClient(e, call(1, "echo"), { consentToken: "consent-alice", userId: "alice" });
    fromClient(e, call(2, "echo"), { consentToken: "consent-bob", userId: "bob" });
    fromClient(e, call(3, "echo"));
    fromServer(e, answer(2));
    fromServer(e, answer(1));
    fromServer(e, answer(3));
    const events = await delivered(hub, sink);
    const byCall = events.map((ev) => [
      ev.event_type,
      (ev.runtime_meta as Record<string, unknown>)["baton/call_id"],
      ev.consent_token,
      ev.user_id,
    ]);
    expect(byCall).toEqual([
      ["tool_call_start", "c1", "consent-alice", "alice"],
      ["tool_call_start", "c2", "consent-bob", "bob"],
      ["tool_call_start", "c3", "process-token", null],
      ["tool_call_end", "c2", "consent-bob", "bob"],
      ["tool_call_end", "c1", "consent-alice", "alice"],
      ["tool_call_end", "c3", "process-token", null],
    ]);
  });

  test("a call made without a request context (stdio) holds none, in flight or after", () => {
    const { engine: make } = setup();
    const engine = make();
    fromClient(engine, call(1, "echo"));
    expect(engine.openCallContexts()).toBe(0);
    fromServer(engine, answer(1));
    expect(engine.openCallContexts()).toBe(0);
  });

  test("an annotation carries the context of the request that made it", async () => {
    const { engine, hub, sink } = setup();
    const e = engine();
    fromClient(e, call(1, "baton_annotate", { intent: "find the bug" }), {
      consentToken: "consent-carol",
      userId: "carol",
    });
    const events = await delivered(hub, sink);
    expect(events.map((ev) => [ev.event_type, ev.consent_token, ev.user_id])).toEqual([
      ["annotation", "consent-carol", "carol"],
    ]);
  });
});

describe("many sessions on one hub", () => {
  test("each engine has its own session id and sequence, and its live report folds only its own calls", async () => {
    const { engine, hub, sink, tick } = setup({ BATON_EVENT_SINK: "stderr:" });
    const a = engine();
    const b = engine();
    expect(a.sessionId).not.toBe(b.sessionId);
    fromClient(a, call(1, "alpha_tool"));
    tick(5);
    fromServer(a, answer(1));
    fromClient(b, call(1, "beta_tool"));
    fromClient(b, call(2, "beta_tool"));
    fromServer(b, answer(1));
    fromServer(b, answer(2));
    const answered = messages(fromClient(a, call(9, "baton_session_report")))[0];
    expect(answered?.result.isError).toBeUndefined();
    const report = answered?.result.content[0].text as string;
    expect(report).toContain("| alpha\\_tool | 1 |");
    expect(report).toContain("**Calls:** 1 ·");
    expect(report).not.toContain("beta");
    const events = await delivered(hub, sink);
    const sequences = (id: string) => events.filter((ev) => ev.session_id === id).map((ev) => ev.sequence_number);
    expect(sequences(a.sessionId)).toEqual([1, 2]);
    expect(sequences(b.sessionId)).toEqual([1, 2, 3, 4]);
  });

  test("the live report says a call still running is in flight, with how long so far (not that it never got an outcome)", () => {
    const config = configOf({ BATON_EVENT_SINK: "stderr:" });
    let wallMs = Date.parse("2026-12-01T10:00:00Z");
    let uuids = 0;
    const envelopeClock = {
      nowEpochMs: () => wallMs,
      uuid: () => `0190a000-0000-7000-8000-${String(++uuids).padStart(12, "0")}`,
    };
    const hub = createTelemetryHub({ config, logger: createMemoryLogger(), sinks: [memorySink()], envelopeClock });
    const e = createSessionEngine({ config, logger: createMemoryLogger(), now: () => 0, telemetry: hub });
    fromClient(e, call(1, "slow_tool", { q: 1 }));
    wallMs += 4_500;
    const report = messages(fromClient(e, call(9, "baton_session_report")))[0]?.result.content[0].text as string;
    expect(report).not.toContain("never recorded");
    expect(report).not.toContain("No outcome");
    expect(report).toContain("**In flight:** 1");
    expect(report).toContain("- 1 call was still running when this report was made (for 4.5 s so far).");
    expect(report).toContain("### In flight (1)");
    expect(report).toContain('- `slow_tool` started at 10:00:00, running for 4.5 s so far — input: `{"q":1}`');
  });

  test("with BATON_CAPTURE leaving tool calls out, the live report says they are not recorded, not that there were none", () => {
    const { engine } = setup({ BATON_EVENT_SINK: "stderr:", BATON_CAPTURE: "resources,prompts" });
    const e = engine();
    const empty = messages(fromClient(e, call(8, "baton_session_report")))[0]?.result.content[0].text as string;
    expect(empty).not.toContain("every call is recorded");
    expect(empty).toContain("tool calls are not recorded (`BATON_CAPTURE` leaves them out)");
    fromClient(e, call(1, "get_invoice", { status: "overdue" }));
    fromServer(e, { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "bad status" } });
    fromClient(e, call(2, "baton_annotate", { intent: "find overdue invoices", signal_type: "parameter_confusion" }));
    const report = messages(fromClient(e, call(9, "baton_session_report")))[0]?.result.content[0].text as string;
    expect(report).not.toContain("**Calls:** 0");
    expect(report).not.toContain("No tool calls recorded.");
    expect(report).toContain("- **Calls:** not recorded (`BATON_CAPTURE` leaves them out)");
    expect(report).toContain("Tool calls are not recorded in this session: `BATON_CAPTURE` leaves them out.");
    expect(report).toContain("**Annotations:** 1");
  });

  test("with BATON_CAPTURE leaving tool calls out, tools are not given user_goal / expected_result (their descriptions say they are recorded; they would not be)", () => {
    const { engine } = setup({ BATON_EVENT_SINK: "stderr:", BATON_CAPTURE: "resources" });
    const e = engine();
    fromClient(e, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const tool = { name: "get_invoice", inputSchema: { type: "object", properties: { status: { type: "string" } } } };
    const listed = messages(fromServer(e, { jsonrpc: "2.0", id: 1, result: { tools: [tool] } }))[0]?.result.tools;
    expect(listed.map((t: { name: string }) => t.name)).toEqual([
      "get_invoice",
      "baton_annotate",
      "baton_session_report",
    ]);
    expect(Object.keys(listed[0].inputSchema.properties)).toEqual(["status"]);
  });

  test("with a remote sink there is no report tool and no fold", () => {
    const { engine } = setup({
      BATON_EVENT_SINK: "https://console.example",
      BATON_API_KEY: "k-123456",
      BATON_CONSENT_TOKEN: "tok",
    });
    const e = engine();
    fromClient(e, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    const listed = messages(fromServer(e, { jsonrpc: "2.0", id: 1, result: { tools: [] } }))[0]?.result.tools.map(
      (t: { name: string }) => t.name,
    );
    expect(listed).toEqual(["baton_annotate"]);
  });

  test("when the event file's sink lost events the live report folded, its closing line says the file lacks them", async () => {
    const config = configOf({ BATON_EVENT_SINK: "file:///tmp/fu-truth/events.jsonl" });
    const logger = createMemoryLogger();
    // The file's sink as the dispatcher sees it (same label), its every flush failing: a full disk.
    const failing: Sink = {
      label: "file:///tmp/fu-truth/events.jsonl",
      write: () => undefined,
      flush: async () => Promise.reject(new LocalError("E_SINK", "no space left on device")),
      close: async () => undefined,
    };
    const hub = createTelemetryHub({ config, logger, sinks: [failing] });
    const e = createSessionEngine({ config, logger, now: () => 0, telemetry: hub });
    const before = messages(fromClient(e, call(7, "baton_session_report")))[0]?.result.content[0].text as string;
    expect(before).toEndWith("_Raw events: `/tmp/fu-truth/events.jsonl`._\n");
    fromClient(e, call(1, "search", { q: "x" }));
    fromServer(e, answer(1));
    // Waits for the failed flush (logged as a drop), whatever its timing.
    while (!logger.lines.some((l) => l.includes("flush failed"))) await Bun.sleep(10);
    const report = messages(fromClient(e, call(8, "baton_session_report")))[0]?.result.content[0].text as string;
    expect(report).toContain("- **Calls:** 1");
    const said =
      /_Raw events: `\/tmp\/fu-truth\/events\.jsonl` \(it lacks (\d+) events the proxy recorded: they were dropped on the way there, so a report read from it may count less than this one\)\._\n$/.exec(
        report,
      );
    expect(said?.[1]).toBe(String(hub.droppedBy(failing.label)));
    expect(Number(said?.[1])).toBeGreaterThanOrEqual(2); // the call's start and outcome at least
    await hub.shutdown(1_000);
  });
});

describe("fail-open: a bug of ours while handling one message", () => {
  /** A line whose message throws when the engine reads it: stands in for any bug in the transforms. */
  const throwing = (text: string) => ({
    kind: "message" as const,
    get message(): never {
      throw new SyntaxError(`JSON Parse error: Unexpected identifier "${text}"`);
    },
  });

  test("a client message is passed on to the server unchanged, the error logged without quoting it, and the session goes on", async () => {
    const { engine: make, hub, sink, logger } = setup();
    const engine = make();
    const raw = enc(call(1, "echo"));
    const actions = engine.fromClient(raw, throwing("sk-secret-in-the-message"));
    expect(actions).toEqual([{ to: "server", bytes: raw }]);
    expect(logger.lines.join("\n")).toContain("internal error handling a client message (SyntaxError");
    expect(logger.lines.join("\n")).not.toContain("sk-secret-in-the-message");
    // The next call is handled as ever: forwarded, answered, its events emitted.
    expect(messages(fromClient(engine, call(2, "echo")))).toEqual([call(2, "echo")]);
    expect(messages(fromServer(engine, answer(2)))).toEqual([answer(2)]);
    const events = await delivered(hub, sink);
    expect(events.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
  });

  test("a server message is passed on to the client unchanged, or not again when it already went out (streamed)", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const raw = enc(answer(7));
    expect(engine.fromServer(raw, throwing("x"))).toEqual([{ to: "client", bytes: raw }]);
    expect(engine.fromServer(raw, throwing("x"), true)).toEqual([]);
    expect(logger.lines.filter((l) => l.includes("internal error handling a server message"))).toHaveLength(2);
  });

  test("a call whose outcome event was lost with the message keeps no request context (the session's memory does not grow)", async () => {
    const { engine: make, hub, sink } = setup();
    const engine = make();
    const alice = { consentToken: "consent-alice", userId: "alice" };
    /** An answer to `id` whose body throws once the engine has taken its request off the books. */
    const answerThrowing = (id: number) => ({
      kind: "message" as const,
      message: {
        kind: "response" as const,
        id,
        get value(): never {
          throw new TypeError("a bug while reading the answer");
        },
      },
    });
    // A call open on another exchange of a shared session (its own book) is not ended by these failures.
    const scope = engine.openScope();
    const inScope = enc(call(1, "echo"));
    engine.fromClient(inScope, classifyLine(inScope.subarray(0, inScope.length - 1)), alice, scope);
    for (let id = 1; id <= 100; id++) {
      fromClient(engine, call(id, "echo"), alice);
      const raw = enc(answer(id));
      expect(engine.fromServer(raw, answerThrowing(id))).toEqual([{ to: "client", bytes: raw }]);
    }
    // A call still in flight keeps its context, and its outcome carries it.
    fromClient(engine, call(101, "echo"), alice);
    expect(engine.openCallContexts()).toBe(2);
    fromServer(engine, answer(101));
    const answered = enc(answer(1));
    engine.fromServer(answered, classifyLine(answered.subarray(0, answered.length - 1)), false, undefined, scope);
    expect(engine.openCallContexts()).toBe(0);
    const events = await delivered(hub, sink);
    expect(events.at(-1)).toMatchObject({ event_type: "tool_call_end", consent_token: "consent-alice" });
  });

  test("a thrown value that is no Error is still passed on, and logged as such", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const raw = enc(answer(7));
    const line = {
      kind: "message" as const,
      get message(): never {
        throw "sk-secret-thrown-as-a-string";
      },
    };
    expect(engine.fromServer(raw, line)).toEqual([{ to: "client", bytes: raw }]);
    const logged = logger.lines.join("\n");
    expect(logged).toContain("internal error handling a server message (a non-Error value was thrown)");
    expect(logged).not.toContain("sk-secret");
  });

  test("the logged error keeps its message's first 200 characters and names where it was thrown", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const raw = enc(answer(7));
    const kept = `B${"x".repeat(198)}E`;
    const line = {
      kind: "message" as const,
      get message(): never {
        throw new RangeError(`${kept}${"z".repeat(100)}`);
      },
    };
    engine.fromServer(raw, line);
    const logged = logger.lines.find((l) => l.includes("internal error handling a server message")) ?? "";
    expect(logged).toContain(`(RangeError: ${kept}, at `);
    expect(logged).toMatch(/, at .*session-engine\.test\.ts:\d+/);
  });

  test("a call held as a task, or waiting for its next round, keeps its context when a failure releases ended calls", async () => {
    const { engine: make, hub, sink } = setup();
    const engine = make();
    const alice = { consentToken: "consent-alice" };
    const bob = { consentToken: "consent-bob" };
    const task = { task: { taskId: "t1", status: "working", createdAt: "x", ttl: 60_000 } };
    fromClient(engine, call(1, "research"), alice);
    fromServer(engine, { jsonrpc: "2.0", id: 1, result: task });
    fromClient(engine, call(2, "book"), bob);
    fromServer(engine, {
      jsonrpc: "2.0",
      id: 2,
      result: { resultType: "input_required", inputRequests: {}, requestState: "s1" },
    });
    const raw = enc(answer(7));
    engine.fromServer(raw, throwing("x"));
    expect(engine.openCallContexts()).toBe(2);
    // Both still end with their own request's context, though the messages that end them carry none.
    fromClient(engine, { jsonrpc: "2.0", id: 3, method: "tasks/result", params: { taskId: "t1" } });
    fromServer(engine, answer(3));
    fromClient(engine, {
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "book", arguments: {}, requestState: "s1", inputResponses: {} },
    });
    fromServer(engine, answer(4));
    expect(engine.openCallContexts()).toBe(0);
    const ends = (await delivered(hub, sink)).filter((e) => e.event_type === "tool_call_end");
    expect(ends.map((e) => [(e.payload as { tool_name: string }).tool_name, e.consent_token])).toEqual([
      ["research", "consent-alice"],
      ["book", "consent-bob"],
    ]);
  });

  test("a single call whose outcome event was lost keeps no request context either", () => {
    const { engine: make } = setup();
    const engine = make();
    const lost = (id: number) => ({
      kind: "message" as const,
      message: {
        kind: "response" as const,
        id,
        get value(): never {
          throw new TypeError("a bug while reading the answer");
        },
      },
    });
    fromClient(engine, call(1, "echo"), { consentToken: "consent-alice" });
    expect(engine.openCallContexts()).toBe(1);
    engine.fromServer(enc(answer(1)), lost(1));
    expect(engine.openCallContexts()).toBe(0);
  });

  test("a long server line (already sent) is not sent again when handling its edges fails", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const edges = {
      size: 9 * 1048576,
      head: new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"result":'),
      tail: new TextEncoder().encode("}"),
      get members(): never {
        throw new TypeError("a bug while reading the edges");
      },
    };
    expect(engine.fromServerLongLine(edges)).toEqual([]);
    expect(logger.lines.join("\n")).toContain("internal error handling a long server message (TypeError");
  });

  test("a rewritten server answer that already went out (streamed) is not sent again", () => {
    const { engine: make } = setup();
    const engine = make();
    fromClient(engine, { jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    const initialized = { jsonrpc: "2.0", id: 0, result: { capabilities: { tools: {} }, serverInfo: { name: "s" } } };
    expect(fromServer(engine, initialized, true)).toEqual([]);
  });

  test("after five such errors the rest are not logged (one bug must not flood the host's log)", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const raw = enc(answer(7));
    for (let i = 0; i < 50; i++) expect(engine.fromServer(raw, throwing("x"))).toEqual([{ to: "client", bytes: raw }]);
    const logged = logger.lines.filter((l) => l.includes("internal error handling"));
    expect(logged).toHaveLength(5);
    expect(logged[4]).toContain("further ones are not logged");
  });
});

describe("client lines over the inspection cap", () => {
  const te = (text: string) => new TextEncoder().encode(text);
  const edgesOf = (message: unknown) => {
    const text = JSON.stringify(message);
    return { size: 9 * 1048576, head: te(text.slice(0, 120)), tail: te(text.slice(-60)) };
  };
  const longCall = (id: number, name: string) => call(id, name, { text: "x".repeat(500) });

  test("a long tools/call is tracked from its edges; in a long batch, a member calling the proxy's own tool is not", async () => {
    const { engine: make, hub, sink } = setup();
    const engine = make();
    expect(engine.fromClientLongLine(edgesOf(longCall(1, "echo")), false)).toEqual([]);
    const batch = { ...edgesOf([longCall(2, "echo"), longCall(3, "baton_annotate")]) };
    const members = [edgesOf(longCall(2, "echo")), edgesOf(longCall(3, "baton_annotate"))];
    expect(engine.fromClientLongLine({ ...batch, members }, false)).toStrictEqual([]);
    for (const id of [1, 2, 3]) fromServer(engine, answer(id));
    const events = await delivered(hub, sink);
    expect(events.map((e) => [e.event_type, (e.payload as { tool_name: string }).tool_name])).toEqual([
      ["tool_call_start", "echo"],
      ["tool_call_start", "echo"],
      ["tool_call_end", "echo"],
      ["tool_call_end", "echo"],
    ]);
  });

  test("a failure handling a long client line (already sent) costs its events, and sends nothing again", () => {
    const { engine: make, logger } = setup();
    const engine = make();
    const edges = {
      ...edgesOf(longCall(1, "echo")),
      get members(): never {
        throw new TypeError("a bug while reading the edges");
      },
    };
    expect(engine.fromClientLongLine(edges, false)).toEqual([]);
    expect(logger.lines.join("\n")).toContain("internal error handling a long client message (TypeError");
  });
});

describe("request scopes (one exchange each of a session several clients share)", () => {
  const scoped = (engine: SessionEngine, message: unknown, scope: ReturnType<SessionEngine["openScope"]>) => {
    const raw = enc(message);
    return engine.fromClient(raw, classifyLine(raw.subarray(0, raw.length - 1)), undefined, scope);
  };
  const answered = (engine: SessionEngine, message: unknown, scope: ReturnType<SessionEngine["openScope"]>) => {
    const raw = enc(message);
    return engine.fromServer(raw, classifyLine(raw.subarray(0, raw.length - 1)), false, undefined, scope);
  };
  const outcomes = (events: readonly BatonEvent[]) =>
    events
      .filter((e) => e.event_type !== "tool_call_start")
      .map((e) => [e.event_type, (e.payload as { tool_name: string }).tool_name, (e.payload as any).duration_ms]);

  test("the same id in two scopes and in the session's own space: three calls, each ended by its own answer; bytes pass as they came", async () => {
    const { hub, sink, engine, tick } = setup();
    const e = engine();
    const a = e.openScope();
    const b = e.openScope();
    const sent = scoped(e, call(1, "in_a"), a);
    expect(messages(sent)).toEqual([call(1, "in_a")]);
    tick(10);
    scoped(e, call(1, "in_b"), b);
    tick(10);
    fromClient(e, call(1, "own"));
    tick(10);
    const back = answered(e, answer(1, "for b"), b);
    expect(messages(back)).toEqual([answer(1, "for b")]);
    tick(10);
    fromServer(e, answer(1));
    tick(10);
    answered(e, answer(1), a);
    // A client's answer to a server request, POSTed on an exchange of its own, is the server's: forwarded unchanged.
    const reply = { jsonrpc: "2.0", id: 0, result: { action: "accept" } };
    expect(messages(scoped(e, reply, e.openScope()))).toEqual([reply]);
    expect(outcomes(await delivered(hub, sink))).toEqual([
      ["tool_call_end", "in_b", 20],
      ["tool_call_end", "own", 20],
      ["tool_call_end", "in_a", 50],
    ]);
  });

  test("a batch, a notification and a cancel naming no request pass on a scope as they came", () => {
    const { engine } = setup();
    const e = engine();
    const a = e.openScope();
    scoped(e, call(1, "in_a"), a);
    for (const message of [
      [call(2, "x"), call(3, "y")],
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { reason: "no id" } },
    ]) {
      const raw = enc(message);
      expect(e.fromClient(raw, classifyLine(raw.subarray(0, raw.length - 1)), undefined, e.openScope())).toEqual([
        { to: "server", bytes: raw },
      ]);
    }
  });

  test("a cancel of a string id on an exchange of its own reaches the one scope holding that id", async () => {
    const { hub, sink, engine } = setup();
    const e = engine();
    const a = e.openScope();
    scoped(e, { ...call(0, "in_a"), id: "req-a" }, a);
    scoped(e, { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "req-a" } }, e.openScope());
    const events = await delivered(hub, sink);
    expect(events.map((ev) => [ev.event_type, (ev.payload as any).error_type ?? null])).toEqual([
      ["tool_call_start", null],
      ["tool_call_error", "cancelled"],
    ]);
  });

  test("failRequests on the session's own ids leaves the others to failPending, which answers each once", async () => {
    const { hub, sink, engine } = setup();
    const e = engine();
    fromClient(e, call(1, "one"));
    fromClient(e, call(2, "two"));
    expect(messages(e.failRequests([1], "upstream_unreachable", "down")).map((m) => m.id)).toEqual([1]);
    expect(messages(e.failPending("upstream_exit", "gone")).map((m) => m.id)).toEqual([2]);
    expect(messages(e.failPending("upstream_exit", "gone"))).toEqual([]);
    const errors = (await delivered(hub, sink)).filter((ev) => ev.event_type === "tool_call_error");
    expect(errors.map((ev) => (ev.payload as any).error_type)).toEqual(["upstream_unreachable", "upstream_exit"]);
  });

  test("failRequests in a scope ends only that scope's request; failPending ends every scope's, answering each with its own id", async () => {
    const { hub, sink, engine } = setup();
    const e = engine();
    const a = e.openScope();
    const b = e.openScope();
    scoped(e, call(3, "in_a"), a);
    scoped(e, call(3, "in_b"), b);
    e.failRequests([3], "upstream_unreachable", "down", false, a);
    const wire = messages(e.failPending("upstream_exit", "gone"));
    expect(wire.map((m) => m.id)).toEqual([3]);
    const events = await delivered(hub, sink);
    expect(
      events.filter((ev) => ev.event_type === "tool_call_error").map((ev) => (ev.payload as any).error_type),
    ).toEqual(["upstream_unreachable", "upstream_exit"]);
  });
});
