// Black-box: clients that share one stateless group (same clientInfo and address; every client of a stateless legacy upstream) reuse JSON-RPC ids at once; each call still gets its own outcome.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { startHttpFixture, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

let modern: RemoteServer;
let legacy: Upstream;
let modernProxy: ServeHandle;
let legacyProxy: ServeHandle;

beforeAll(async () => {
  modern = await startRemoteFixture([], "modern-http");
  legacy = await startHttpFixture(["--stateless"]);
  modernProxy = await startServe(["--upstream", modern.url]);
  legacyProxy = await startServe(["--upstream", legacy.url]);
});

afterAll(async () => {
  expect(await modernProxy.stop()).toBe(0);
  expect(await legacyProxy.stop()).toBe(0);
  await modern.stop();
  await legacy.stop();
});

const MODERN_META = (name: string) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": { name, version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
});

function modernCall(url: string, id: number, tool: string, args: Record<string, unknown>, name: string) {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2026-07-28",
      "mcp-method": "tools/call",
      "mcp-name": tool,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: tool, arguments: args, _meta: MODERN_META(name) },
    }),
  }).then((r) => r.text());
}

function legacyCall(url: string, id: number, tool: string, args: Record<string, unknown>) {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: args } }),
  }).then((r) => r.text());
}

/** The tool-call events of one event session, in order; each call's start, then its one outcome. */
function callOutcomes(events: readonly Record<string, any>[]) {
  const starts = new Map<string, Record<string, any>>();
  const outcomes: { tool: string; type: string; error?: string; duration: number; started: string }[] = [];
  for (const e of events) {
    if (e.event_type === "tool_call_start") starts.set(e.runtime_meta["baton/call_id"], e);
    if (e.event_type !== "tool_call_end" && e.event_type !== "tool_call_error") continue;
    const start = starts.get(e.runtime_meta["baton/call_id"]);
    outcomes.push({
      tool: e.payload.tool_name,
      type: e.event_type,
      error: e.payload.error_type,
      duration: e.payload.duration_ms,
      started: start?.payload.tool_name,
    });
  }
  return outcomes;
}

describe("serve: clients of one stateless group reusing request ids", () => {
  test("2026-07-28: two clients with the same clientInfo, both id 1, slow then fast: each call ends with its own answer", async () => {
    const name = "shared-group-agent";
    const slow = modernCall(modernProxy.url, 1, "slow", { ms: 400 }, name);
    await Bun.sleep(100);
    const fast = modernCall(modernProxy.url, 1, "add", { a: 2, b: 40 }, name);
    expect(await fast).toContain('"42"');
    expect(await slow).toContain("slept 400 ms");
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(modernProxy.eventsFile).filter((e) => e.agent_runtime === name);
      return events.filter((e) => e.event_type !== "tool_call_start").length >= 2;
    }, "both calls' outcomes");
    // One group, one event session.
    expect(new Set(events.map((e) => e.session_id)).size).toBe(1);
    const outcomes = callOutcomes(events);
    expect(outcomes.map((o) => [o.type, o.tool, o.started, o.error])).toEqual([
      ["tool_call_end", "add", "add", undefined],
      ["tool_call_end", "slow", "slow", undefined],
    ]);
    // Each duration is its own call's: the slow one outlasted the fast one started after it.
    expect(outcomes[1]?.duration).toBeGreaterThan(outcomes[0]?.duration as number);
    expect(readValidatedEvents(modernProxy.eventsFile).some((e) => e.payload?.error_type === "evicted")).toBe(false);
  });

  test("stateless legacy upstream (no Mcp-Session-Id): two clients of one address, both id 1, answered on SSE streams: each call ends with its own answer", async () => {
    const slow = legacyCall(legacyProxy.url, 1, "slow", { steps: 2, ms: 200 });
    await Bun.sleep(100);
    const fast = legacyCall(legacyProxy.url, 1, "echo", { message: "quick" });
    expect(await fast).toContain("Echo: quick");
    expect(await slow).toContain("done after 2 steps");
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(legacyProxy.eventsFile).filter((e) => String(e.event_type).startsWith("tool_call"));
      return events.filter((e) => e.event_type !== "tool_call_start").length >= 2;
    }, "both calls' outcomes");
    const outcomes = callOutcomes(events);
    expect(outcomes.map((o) => [o.type, o.tool, o.started, o.error])).toEqual([
      ["tool_call_end", "echo", "echo", undefined],
      ["tool_call_end", "slow", "slow", undefined],
    ]);
    expect(outcomes[1]?.duration).toBeGreaterThan(outcomes[0]?.duration as number);
  });

  test("stateless legacy upstream: another client's handshake from the same address while a call is in flight: that call still ends with its answer", async () => {
    const initialize = (name: string) =>
      fetch(legacyProxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name, version: "1.0.0" } },
        }),
      }).then((r) => r.text());
    expect(await initialize("first-legacy-agent")).toContain("baton_annotate");
    const slow = legacyCall(legacyProxy.url, 2, "slow", { steps: 2, ms: 200 });
    await Bun.sleep(100);
    expect(await initialize("second-legacy-agent")).toContain("baton_annotate");
    expect(await slow).toContain("done after 2 steps");
    let events: Record<string, any>[] = [];
    await waitFor(() => {
      events = readValidatedEvents(legacyProxy.eventsFile).filter((e) => e.agent_runtime === "first-legacy-agent");
      return events.some((e) => e.event_type !== "tool_call_start" && e.payload.tool_name === "slow");
    }, "the first client's call outcome");
    expect(callOutcomes(events).map((o) => [o.type, o.tool, o.error])).toEqual([["tool_call_end", "slow", undefined]]);
  });
});
