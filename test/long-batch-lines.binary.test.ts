// Black-box: a batch line over the 8 MiB inspection cap (2025-03-26), either way. Every request it answers is closed from that answer (never answered a second time at exit, never recorded as lost), and every call it makes is tracked, as for a single message that long.

import { describe, expect, test } from "bun:test";
import type { Scenario, Step } from "./support/conversation-model.ts";
import { checkRun, runConversation } from "./support/conversation-run.ts";

const INIT =
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}';
const INIT_ANSWER =
  '{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"}}}';
const call = (id: number, name: string, text = "") =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${name}","arguments":{"s":"${text}"}}}`;
const answer = (id: number, text: string, isError = false) =>
  `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${text}"}]${isError ? ',"isError":true' : ""}}}`;
/** Over the cap, with braces and escaped quotes in its strings (the member scan must not count them). */
const BIG = `{\\"}[${"h".repeat(9 * 1024 * 1024)}`;

/** A session whose every line must pass byte for byte, ending at the client's EOF. */
function session(steps: Step[], calls: Scenario["calls"]): Scenario {
  const all: Step[] = [
    { from: "client", text: INIT, after: 0 },
    { from: "server", text: INIT_ANSWER, after: 1 },
    ...steps,
  ];
  return {
    seed: 0,
    era: "2025-03-26",
    intentOff: false,
    steps: all,
    toServer: all.filter((s) => s.from === "client").map((s) => ({ text: s.text, check: "bytes" })),
    toClient: all
      .filter((s) => s.from === "server")
      .map((s) => ({ text: s.text, check: s.text === INIT_ANSWER ? "handshake" : "bytes" })),
    calls,
    annotations: 0,
    goalAnnotation: false,
    snapshots: 0,
    owedAtEnd: [],
    end: "eof",
  };
}

describe("a batch line over the inspection cap", () => {
  test("from the server: each answer in it closes its call, and nothing is answered again at exit", async () => {
    const batch = `[${answer(1, "small")},${answer(2, BIG)},${answer(3, "broke", true)}]`;
    const scenario = session(
      [
        { from: "client", text: call(1, "a"), after: 1 },
        { from: "client", text: call(2, "b"), after: 1 },
        { from: "client", text: call(3, "c"), after: 1 },
        { from: "server", text: batch, after: 4 },
      ],
      [
        { method: "tools/call", tool: "a", params: { s: "" }, outcome: "end" },
        { method: "tools/call", tool: "b", params: { s: "" }, outcome: "end" },
        { method: "tools/call", tool: "c", params: { s: "" }, outcome: "tool_error" },
      ],
    );
    checkRun(scenario, await runConversation(scenario, true));
  }, 30_000);

  test("from the client: each call in it is tracked, and closed by its answer (a call of our tools in it is not the server's)", async () => {
    const ours =
      '{"jsonrpc":"2.0","id":"ours","method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"x"}}}';
    const batch = `[${call(1, "a")},${ours},${call(2, "b", BIG)}]`;
    const scenario = session(
      [
        { from: "client", text: batch, after: 1 },
        { from: "server", text: answer(2, "two"), after: 2 },
        { from: "server", text: answer(1, "one"), after: 2 },
      ],
      [
        { method: "tools/call", tool: "a", params: "unread", outcome: "end" },
        { method: "tools/call", tool: "b", params: "unread", outcome: "end" },
      ],
    );
    const run = await runConversation(scenario, true);
    checkRun(scenario, run);
    expect(run.events.filter((e) => e.event_type === "tool_call_end").map((e) => e.payload.result[0].text)).toEqual([
      "two",
      "one",
    ]);
  }, 30_000);
});
