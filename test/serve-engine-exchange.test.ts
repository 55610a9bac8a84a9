// Unit: the engine-backed session exchange (HTTP bodies in, answers out) and the per-request consent gate, over an in-memory hub.

import { describe, expect, test } from "bun:test";
import { loadConfig, type Config } from "../src/config.ts";
import { MAX_TOKEN_REPORTS } from "../src/engine/live-reports.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { consentGatedHub, createEngineExchange, sessionShowsInjection } from "../src/serve/engine-exchange.ts";
import type { RequestContext } from "../src/serve/exchange.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import type { Sink } from "../src/telemetry/sinks/sink.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { assertValidEvent } from "./support/events.ts";
import { memorySink } from "./support/memory-sink.ts";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

function setup(env: Record<string, string>) {
  const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:", ...env }, { perRequestConsentAllowed: true });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const config: Config = loaded.config;
  const events: BatonEvent[] = [];
  const sink: Sink = memorySink(events);
  const hub = createTelemetryHub({ config, logger: createMemoryLogger(), sinks: [sink] });
  const telemetry = config.consentMode === "per-request" ? consentGatedHub(hub) : hub;
  const clock = { now: 0 };
  const open = (opening: RequestContext) =>
    createEngineExchange(
      { config, logger: createMemoryLogger(), now: () => clock.now, telemetry },
      "handshake",
      opening,
    );
  const delivered = async () => {
    await hub.shutdown(1_000);
    for (const event of events) assertValidEvent(event);
    return events;
  };
  return { config, open, delivered, clock };
}

const ctx = (consentToken?: string): RequestContext => ({
  remoteAddress: "10.0.0.1",
  consentToken,
  principal: undefined,
});
const initialize = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "unit-agent", version: "1" } },
};
const initialized = {
  jsonrpc: "2.0",
  id: 0,
  result: {
    protocolVersion: "2025-11-25",
    capabilities: { tools: {} },
    serverInfo: { name: "up", version: "1" },
    instructions: "Upstream.",
  },
};
const call = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "echo", arguments: { message: `m${id}` } },
});
const answer = (id: number) => ({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: `m${id}` }] } });

function roundTrip(
  exchange: ReturnType<ReturnType<typeof setup>["open"]>,
  request: unknown,
  response: unknown,
  context: RequestContext,
) {
  const body = bytes(request);
  const verdict = exchange.fromClient(body, classifyLine(body), context);
  const reply = bytes(response);
  return { verdict, body, reply: exchange.fromServer(reply, classifyLine(reply)) };
}

describe("engine exchange", () => {
  test("static mode: the untouched request goes as its own bytes; the handshake answer is rewritten; calls emit with the process token", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const exchange = open(ctx());
    const handshake = roundTrip(exchange, initialize, initialized, ctx());
    expect(handshake.verdict.forward).toBe(handshake.body);
    expect(text(handshake.reply)).toContain("Upstream.");
    expect(text(handshake.reply)).toContain("baton_annotate");
    const first = roundTrip(exchange, call(1), answer(1), ctx());
    expect(first.reply).toBeUndefined(); // unchanged: the caller forwards the upstream's bytes
    const note = bytes({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "x", signal_type: "other" } },
    });
    const local = exchange.fromClient(note, classifyLine(note), ctx());
    expect(local.forward).toBeUndefined();
    expect(JSON.stringify(local.answers)).toContain("Annotation recorded");
    const events = await delivered();
    expect(events.map((e) => [e.event_type, e.consent_token, e.agent_runtime])).toEqual([
      ["tool_call_start", "ct_process_01", "unit-agent"],
      ["tool_call_end", "ct_process_01", "unit-agent"],
      ["annotation", "ct_process_01", "unit-agent"],
    ]);
  });

  test("hosted: a request without a principal has no user_id, even with BATON_PRINCIPAL set (it names the stdio proxy's one user)", async () => {
    const { open, delivered } = setup({
      BATON_CONSENT_TOKEN: "ct_process_01",
      BATON_USER_ID_HMAC_KEY: "k",
      BATON_PRINCIPAL: "operator",
    });
    const exchange = open(ctx());
    roundTrip(exchange, initialize, initialized, ctx());
    roundTrip(exchange, call(1), answer(1), ctx());
    roundTrip(exchange, call(2), answer(2), { ...ctx(), principal: { id: "alice" } });
    const calls = (await delivered()).filter((e) => e.event_type.startsWith("tool_call_"));
    expect(calls.map((e) => [e.event_type, e.user_id !== undefined && e.user_id !== null])).toEqual([
      ["tool_call_start", false],
      ["tool_call_end", false],
      ["tool_call_start", true],
      ["tool_call_end", true],
    ]);
  });

  test("sweep: a task never seen to finish and a multi-round call never continued are evicted, as over stdio", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const exchange = open(ctx());
    roundTrip(exchange, initialize, initialized, ctx());
    const task = { task: { taskId: "t1", status: "working", createdAt: "x", lastUpdatedAt: "x", ttl: 60_000 } };
    roundTrip(exchange, call(1), { jsonrpc: "2.0", id: 1, result: task }, ctx());
    const input = { resultType: "input_required", requestState: "s1" };
    roundTrip(exchange, call(2), { jsonrpc: "2.0", id: 2, result: input }, ctx());
    clock.now = 16 * 60_000;
    exchange.sweep();
    const events = await delivered();
    expect(events.map((e) => [e.event_type, (e.payload as { error_type?: string }).error_type ?? null])).toEqual([
      ["tool_call_start", null],
      ["tool_call_start", null],
      ["tool_call_error", "evicted"],
      ["tool_call_error", "evicted"],
    ]);
  });

  test.each([false, true])(
    "sweep: progress on the call's stream keeps it tracked past 15 min, as over stdio (one POST of a stateless group: %p)",
    async (perPost) => {
      const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
      const session = open(ctx());
      roundTrip(session, initialize, initialized, ctx());
      const exchange = perPost ? session.forPost() : session;
      const send = (message: unknown) => exchange.fromServer(bytes(message), classifyLine(bytes(message)));
      for (const id of [1, 2]) {
        const request = bytes({ ...call(id), params: { ...call(id).params, _meta: { progressToken: `p${id}` } } });
        exchange.fromClient(request, classifyLine(request), ctx());
      }
      clock.now = 10 * 60_000;
      send({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "p1", progress: 1 } });
      clock.now = 20 * 60_000;
      session.sweep();
      clock.now = 21 * 60_000;
      send(answer(1));
      const events = await delivered();
      expect(events.map((e) => [e.event_type, (e.payload as { error_type?: string }).error_type ?? null])).toEqual([
        ["tool_call_start", null],
        ["tool_call_start", null],
        ["tool_call_error", "evicted"],
        ["tool_call_end", null],
      ]);
    },
  );

  test("per-request mode: events only for requests with a token, each stamped with its own; upstream_unreachable ends just the failed ids", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    roundTrip(exchange, call(1), answer(1), ctx("ct_caller_0001"));
    roundTrip(exchange, call(2), answer(2), ctx());
    for (const id of [3, 4]) exchange.fromClient(bytes(call(id)), classifyLine(bytes(call(id))), ctx("ct_caller_0002"));
    exchange.upstreamFailed([3], "upstream down");
    exchange.fromServer(bytes(answer(4)), classifyLine(bytes(answer(4))));
    const events = await delivered();
    expect(
      events.map((e) => [e.event_type, e.consent_token, (e.payload as { error_type?: string }).error_type ?? null]),
    ).toEqual([
      ["tool_call_start", "ct_caller_0001", null],
      ["tool_call_end", "ct_caller_0001", null],
      ["tool_call_start", "ct_caller_0002", null],
      ["tool_call_start", "ct_caller_0002", null],
      ["tool_call_error", "ct_caller_0002", "upstream_unreachable"],
      ["tool_call_end", "ct_caller_0002", null],
    ]);
  });

  test("per-request mode: the intent-made annotation comes from the first recorded call's user_goal, not an unrecorded one's", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    const goal = (id: number, userGoal: string) => ({
      ...call(id),
      params: { name: "echo", arguments: { message: "m", user_goal: userGoal } },
    });
    roundTrip(exchange, goal(1, "unrecorded goal"), answer(1), ctx());
    roundTrip(exchange, goal(2, "recorded goal"), answer(2), ctx("ct_caller_0001"));
    const events = await delivered();
    expect(events.map((e) => [e.event_type, (e.payload as { intent?: string }).intent ?? null])).toEqual([
      ["annotation", "recorded goal"],
      ["tool_call_start", null],
      ["tool_call_end", null],
    ]);
  });

  test("per-request mode: each token's record gets its own intent-made annotation, once, though another token's came first", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    const goal = (id: number, userGoal: string) => ({
      ...call(id),
      params: { name: "echo", arguments: { message: "m", user_goal: userGoal } },
    });
    const proactive = {
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "C's own note" } },
    };
    roundTrip(exchange, goal(1, "A's goal"), answer(1), ctx("ct_caller_000A"));
    roundTrip(exchange, goal(2, "B's goal"), answer(2), ctx("ct_caller_000B"));
    roundTrip(exchange, goal(3, "A's second goal"), answer(3), ctx("ct_caller_000A"));
    exchange.fromClient(bytes(proactive), classifyLine(bytes(proactive)), ctx("ct_caller_000C"));
    roundTrip(exchange, goal(6, "C's goal"), answer(6), ctx("ct_caller_000C"));
    const events = await delivered();
    expect(
      events
        .filter((e) => e.event_type === "annotation")
        .map((e) => [e.consent_token, (e.payload as { intent?: string }).intent]),
    ).toEqual([
      ["ct_caller_000A", "A's goal"],
      ["ct_caller_000B", "B's goal"],
      ["ct_caller_000C", "C's own note"],
    ]);
  });

  test("per-request mode: a tools/list with a token records its surface snapshot, with that token; one without records none", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    const list = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list" });
    const listed = (id: number, tool: string) => ({
      jsonrpc: "2.0",
      id,
      result: { tools: [{ name: tool, inputSchema: { type: "object" } }] },
    });
    // The unrecorded listing does not use up its surface: the same one listed with a token is recorded, once per token
    // (the console keeps each token's record apart).
    roundTrip(exchange, list(1), listed(1, "same"), ctx());
    roundTrip(exchange, list(2), listed(2, "same"), ctx("ct_lister_001"));
    roundTrip(exchange, list(3), listed(3, "same"), ctx("ct_lister_002"));
    roundTrip(exchange, list(4), listed(4, "other"), ctx());
    roundTrip(exchange, list(5), listed(5, "same"), ctx("ct_lister_001"));
    const events = await delivered();
    expect(
      events.map((e) => [
        e.event_type,
        e.consent_token,
        (e.payload as { tools?: { name: string }[] }).tools?.map((t) => t.name),
      ]),
    ).toEqual([
      ["surface_snapshot", "ct_lister_001", ["same"]],
      ["surface_snapshot", "ct_lister_002", ["same"]],
    ]);
  });

  test("per-request mode, handshake without a token: a recorded snapshot says nothing was added, and a user_goal goes through unread", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx());
    roundTrip(exchange, initialize, initialized, ctx());
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const listed = { jsonrpc: "2.0", id: 1, result: { tools: [{ name: "echo", inputSchema: { type: "object" } }] } };
    expect(text(roundTrip(exchange, list, listed, ctx("ct_lister_001")).reply)).toBeUndefined(); // passed unchanged
    const goal = { ...call(2), params: { name: "echo", arguments: { message: "m", user_goal: "mine" } } };
    const { verdict, body } = roundTrip(exchange, goal, answer(2), ctx("ct_caller_0001"));
    expect(verdict.forward).toBe(body); // forwarded as sent, user_goal included
    const events = await delivered();
    expect(events.map((e) => e.event_type)).toEqual(["surface_snapshot", "tool_call_start", "tool_call_end"]);
    expect(events[0]?.payload).toMatchObject({
      seam_augmentations: { injected_tools: [], intent_param: null, instructions_suffix: false },
    });
    // What the server got is what the event says it got.
    expect(events[1]?.payload).toEqual({ tool_name: "echo", params: { message: "m", user_goal: "mine" } });
  });

  test("per-request mode, handshake without a token: a baton_annotate call goes to the server, and is no annotation", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx());
    roundTrip(exchange, initialize, initialized, ctx());
    const note = {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "x" } },
    };
    const unknown = { jsonrpc: "2.0", id: 3, error: { code: -32602, message: "Unknown tool: baton_annotate" } };
    const { verdict, body } = roundTrip(exchange, note, unknown, ctx("ct_caller_0001"));
    expect(verdict.forward).toBe(body);
    expect((await delivered()).map((e) => [e.event_type, (e.payload as { tool_name?: string }).tool_name])).toEqual([
      ["tool_call_start", "baton_annotate"],
      ["tool_call_error", "baton_annotate"],
    ]);
  });

  test("per-request mode, handshake without a token: every body passes unchanged both ways, later consented calls still recorded", async () => {
    const { config, open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    expect(sessionShowsInjection(config, ctx())).toBe(false);
    expect(sessionShowsInjection(config, ctx("ct_some_token"))).toBe(true);
    const exchange = open(ctx());
    const handshake = roundTrip(exchange, initialize, initialized, ctx());
    expect(handshake.verdict.forward).toBe(handshake.body);
    expect(handshake.reply).toBeUndefined();
    const list = roundTrip(
      exchange,
      { jsonrpc: "2.0", id: 5, method: "tools/list" },
      { jsonrpc: "2.0", id: 5, result: { tools: [] } },
      ctx(),
    );
    expect(list.reply).toBeUndefined();
    roundTrip(exchange, call(6), answer(6), ctx("ct_late_token1"));
    const events = await delivered();
    expect(events.map((e) => [e.event_type, e.consent_token])).toEqual([
      ["tool_call_start", "ct_late_token1"],
      ["tool_call_end", "ct_late_token1"],
    ]);
  });
  test("per-request mode, an injected tool called without a token: the agent is told nothing was recorded, and why", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    const annotate = (id: number) =>
      bytes({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { intent: "x", signal_type: "other" } },
      });
    const report = bytes({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "baton_session_report" } });
    const unconsented = JSON.stringify(exchange.fromClient(annotate(7), classifyLine(annotate(7)), ctx()).answers);
    expect(unconsented).not.toContain("Annotation recorded");
    expect(unconsented).toContain("not recorded");
    expect(unconsented).toContain("consent token");
    expect(unconsented).toContain('"isError":true');
    const consented = exchange.fromClient(annotate(8), classifyLine(annotate(8)), ctx("ct_caller_0001"));
    expect(JSON.stringify(consented.answers)).toContain("Annotation recorded");
    const reportText = JSON.stringify(exchange.fromClient(report, classifyLine(report), ctx()).answers);
    expect(reportText).toContain("carried no valid consent token");
    const consentedReport = exchange.fromClient(report, classifyLine(report), ctx("ct_caller_0001"));
    expect(JSON.stringify(consentedReport.answers)).not.toContain("consent token");
    const events = await delivered();
    expect(events.map((e) => [e.event_type, e.consent_token])).toEqual([["annotation", "ct_caller_0001"]]);
  });
});

describe("engine exchange: the per-token live reports stay bounded", () => {
  // A stateless group shared by an app's users may see a new consent token with every user: one fold
  // each, kept for the session's life, grew without bound. The least recently used are let go.
  test(`past ${MAX_TOKEN_REPORTS} tokens in one session, the least recently used token's report is let go; the others keep theirs`, async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    const token = (i: number) => `ct_user_${String(i).padStart(5, "0")}`;
    const annotate = (id: number, intent: string) =>
      bytes({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { intent, signal_type: "other" } },
      });
    const reportFor = (who: string) => {
      const report = bytes({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "baton_session_report" } });
      return JSON.stringify(exchange.fromClient(report, classifyLine(report), ctx(who)).answers);
    };
    for (let i = 0; i <= MAX_TOKEN_REPORTS; i++) {
      const body = annotate(10 + i, `note of user ${i}`);
      exchange.fromClient(body, classifyLine(body), ctx(token(i)));
      if (i === 5) expect(reportFor(token(1))).toContain("note of user 1"); // used again: kept
    }
    expect(reportFor(token(0))).not.toContain("note of user 0");
    expect(reportFor(token(1))).toContain("note of user 1");
    expect(reportFor(token(MAX_TOKEN_REPORTS))).toContain(`note of user ${MAX_TOKEN_REPORTS}`);
    // Every annotation was recorded all the same: only the live report's memory is bounded.
    expect((await delivered()).filter((e) => e.event_type === "annotation")).toHaveLength(MAX_TOKEN_REPORTS + 1);
  });

  test("a token's report folds every event it recorded, not just its latest", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const exchange = open(ctx("ct_handshake_1"));
    roundTrip(exchange, initialize, initialized, ctx("ct_handshake_1"));
    for (const [id, intent] of [
      [10, "first note"],
      [11, "second note"],
    ] as const) {
      const body = bytes({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { intent, signal_type: "other" } },
      });
      exchange.fromClient(body, classifyLine(body), ctx("ct_user_a"));
    }
    const report = bytes({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "baton_session_report" } });
    const text = JSON.stringify(exchange.fromClient(report, classifyLine(report), ctx("ct_user_a")).answers);
    expect(text).toContain("first note");
    expect(text).toContain("second note");
    await delivered();
  });
});

describe("engine exchange: one POST of a stateless group (forPost), each client numbering its requests alike", () => {
  type Exchange = ReturnType<ReturnType<typeof setup>["open"]>;
  const modernMeta = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": { name: "group-agent", version: "1" },
  };
  const toolCall = (id: number, name: string) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name, arguments: {}, _meta: modernMeta },
  });
  const send = (exchange: Exchange, message: unknown, context = ctx()) => {
    const body = bytes(message);
    return exchange.fromClient(body, classifyLine(body), context);
  };
  const reply = (exchange: Exchange, message: unknown) => {
    const body = bytes(message);
    return exchange.fromServer(body, classifyLine(body));
  };
  const outcomes = (events: readonly BatonEvent[]) =>
    events
      .filter((e) => e.event_type === "tool_call_end" || e.event_type === "tool_call_error")
      .map((e) => {
        const payload = e.payload as { tool_name: string; duration_ms: number; error_type?: string };
        return [e.event_type, payload.tool_name, payload.duration_ms, payload.error_type ?? null];
      });

  test("two POSTs with id 1 at once: each call ends with its own answer and its own duration, in one event session", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const group = open(ctx());
    const slow = group.forPost();
    const fast = group.forPost();
    send(slow, toolCall(1, "slow"));
    clock.now = 100;
    send(fast, toolCall(1, "add"));
    clock.now = 110;
    expect(reply(fast, answer(1))).toBeUndefined();
    clock.now = 400;
    expect(reply(slow, answer(1))).toBeUndefined();
    const events = await delivered();
    expect(new Set(events.map((e) => e.session_id)).size).toBe(1);
    expect(outcomes(events)).toEqual([
      ["tool_call_end", "add", 10, null],
      ["tool_call_end", "slow", 400, null],
    ]);
  });

  test("a failed POST ends only its own call; the other client's call of the same id still ends with its answer", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const group = open(ctx());
    const first = group.forPost();
    const second = group.forPost();
    send(first, toolCall(1, "slow"));
    send(second, toolCall(1, "add"));
    clock.now = 50;
    second.upstreamFailed([1], "the client went away", "cancelled");
    clock.now = 70;
    reply(first, answer(1));
    expect(outcomes(await delivered())).toEqual([
      ["tool_call_error", "add", 50, "cancelled"],
      ["tool_call_end", "slow", 70, null],
    ]);
  });

  test("a failure meant for requests started by a time leaves a later request that reused the id (a call resumed, then a new call id 1)", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const session = open(ctx());
    send(session, toolCall(1, "resumed"));
    clock.now = 20;
    reply(session, answer(1)); // answered on the resumed stream
    clock.now = 40;
    send(session, toolCall(1, "next")); // the client numbers a new call 1
    clock.now = 60;
    session.upstreamFailed([1], "the client went away", "cancelled", 30); // the first POST's deferred failure
    clock.now = 90;
    reply(session, answer(1));
    send(session, toolCall(2, "dropped"));
    clock.now = 100;
    session.upstreamFailed([2], "the client went away", "cancelled", 100);
    expect(outcomes(await delivered())).toEqual([
      ["tool_call_end", "resumed", 20, null],
      ["tool_call_end", "next", 50, null],
      ["tool_call_error", "dropped", 10, "cancelled"],
    ]);
  });

  test("an answer over the inspection cap closes its own POST's call from its edges, as a stdio line that long; the other POST's call of that id stays open", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const group = open(ctx());
    const first = group.forPost();
    const second = group.forPost();
    send(first, toolCall(1, "slow"));
    send(second, toolCall(1, "big"));
    clock.now = 30;
    const head = new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"xxx');
    const tail = new TextEncoder().encode('xxx"}]}}');
    second.fromServerLongLine({ size: 9 * 1048576, head, tail });
    second.upstreamFailed([1], "not shown by its edges", "evicted"); // what the POST does next: already closed, skipped
    clock.now = 70;
    reply(first, answer(1));
    const events = await delivered();
    expect(outcomes(events)).toEqual([
      ["tool_call_end", "big", 30, null],
      ["tool_call_end", "slow", 70, null],
    ]);
    expect(JSON.stringify(events[2]?.payload)).toContain(
      "over the inspection limit; forwarded unchanged, not inspected",
    );
  });

  test("a cancel POSTed on its own reaches the one POST holding that id; with two holding it, neither is guessed at", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const group = open(ctx());
    const cancel = (id: number) => ({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: id, reason: "timeout" },
    });
    const alone = group.forPost();
    send(alone, toolCall(7, "alone"));
    clock.now = 30;
    expect(send(group.forPost(), cancel(7)).forward).toBeDefined(); // forwarded unchanged
    const one = group.forPost();
    const other = group.forPost();
    send(one, toolCall(1, "one"));
    send(other, toolCall(1, "other"));
    clock.now = 60;
    send(group.forPost(), cancel(1));
    clock.now = 90;
    reply(other, answer(1));
    reply(one, answer(1));
    expect(outcomes(await delivered())).toEqual([
      ["tool_call_error", "alone", 30, "cancelled"],
      ["tool_call_end", "other", 60, null],
      ["tool_call_end", "one", 60, null],
    ]);
  });

  test("close and sweep reach every POST's calls; the session's own ids (no forPost) stay one space, a reused id evicting as before", async () => {
    const { open, delivered, clock } = setup({ BATON_CONSENT_TOKEN: "ct_process_01" });
    const group = open(ctx());
    send(group.forPost(), toolCall(1, "old"));
    clock.now = 16 * 60_000;
    send(group.forPost(), toolCall(1, "young"));
    group.sweep();
    send(group, toolCall(2, "first"));
    send(group, toolCall(2, "reuser"));
    group.close("the proxy is stopping");
    const events = await delivered();
    expect(outcomes(events).map(([type, tool, , error]) => [type, tool, error])).toEqual([
      ["tool_call_error", "old", "evicted"],
      ["tool_call_error", "first", "evicted"],
      ["tool_call_error", "reuser", "proxy_shutdown"],
      ["tool_call_error", "young", "proxy_shutdown"],
    ]);
  });

  test("per-request mode: two POSTs listing tools with id 1 at once: the snapshot carries the token of the listing its answer came back to", async () => {
    const { open, delivered } = setup({ BATON_CONSENT_MODE: "per-request" });
    const group = open(ctx("ct_opening_01"));
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: modernMeta } };
    const listed = { jsonrpc: "2.0", id: 1, result: { tools: [{ name: "t", inputSchema: { type: "object" } }] } };
    const alice = group.forPost();
    const bob = group.forPost();
    send(alice, list, ctx("ct_alice_0001"));
    send(bob, list, ctx("ct_bob_000001"));
    reply(alice, listed);
    reply(bob, listed);
    const events = await delivered();
    // Each answer's snapshot carries its own listing's token (each token's record gets the surface once).
    expect(events.map((e) => [e.event_type, e.consent_token])).toEqual([
      ["surface_snapshot", "ct_alice_0001"],
      ["surface_snapshot", "ct_bob_000001"],
    ]);
  });
});
