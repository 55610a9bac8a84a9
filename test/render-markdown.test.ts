// Golden tests of the Markdown report (fixtures under test/fixtures/report/) plus the inline text helpers.

import { describe, expect, test } from "bun:test";
import { MAX_DURATION_SAMPLES_PER_TOOL } from "../src/report/duration-stats.ts";
import { describeErrorType, stripCodePrefix } from "../src/report/error-names.ts";
import {
  formatInstant,
  formatMs,
  formatRate,
  joinList,
  renderCode,
  renderText,
  renderTimeOfDay,
} from "../src/report/markdown-text.ts";
import { readEventsText } from "./support/read-events-text.ts";
import { MAX_TABLE_ROWS, renderReport } from "../src/report/render-markdown.ts";
import { MAX_TRACKED_TOOLS } from "../src/report/fold-calls.ts";
import { createReportState, foldEvent } from "../src/report/report-state.ts";
import { summarizeReport } from "../src/report/summarize-json.ts";
import type { ReportState } from "../src/report/report-types.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { generateManyCallsSession, makeCall, makeEvent } from "./fixtures/report/build-events.ts";

const FIXTURES = `${import.meta.dir}/fixtures/report`;
/** Set UPDATE_GOLDEN=1 to rewrite the expected .md files (then read the diff before committing). */
const UPDATE_GOLDEN = Bun.env.UPDATE_GOLDEN === "1";

function fold(events: readonly BatonEvent[]): ReportState {
  const state = createReportState();
  for (const event of events) foldEvent(state, event);
  return state;
}

async function expectGolden(name: string, actual: string): Promise<void> {
  const file = Bun.file(`${FIXTURES}/${name}.md`);
  if (UPDATE_GOLDEN) await Bun.write(file, actual);
  expect(actual).toBe(await file.text());
  expectWellFormed(actual);
}

/** Renders with Bun's GFM renderer: no HTML leaks through, every row has its table's cell count (7 for tools, 3 for resources/prompts), each numbered section is one list. */
function expectWellFormed(markdown: string): void {
  const html = Bun.markdown.html(markdown, { tables: true });
  expect(html).not.toMatch(/<(script|img|b)\b/);
  for (const table of html.match(/<table>.*?<\/table>/gs) ?? []) {
    const width = table.includes("<th>Request</th>") ? 3 : 7;
    for (const row of table.match(/<tr>.*?<\/tr>/gs) ?? []) expect(row.match(/<t[hd][ >]/g)).toHaveLength(width);
  }
  const numberedSections = (markdown.match(/^### (Errored calls|Slow calls|Annotations)/gm) ?? []).length;
  expect((html.match(/<ol[ >]/g) ?? []).length).toBe(numberedSections);
  expect((html.match(/<h[23]>/g) ?? []).length).toBe((markdown.match(/^#{2,3} /gm) ?? []).length);
}

describe("renderReport golden files", () => {
  for (const name of ["realistic", "empty", "odd-characters", "signals"]) {
    test(`${name}.jsonl renders as ${name}.md`, async () => {
      const { sessions } = readEventsText(await Bun.file(`${FIXTURES}/${name}.jsonl`).text());
      expect(sessions.size).toBe(1);
      const state = fold([...sessions.values()][0] ?? []);
      await expectGolden(
        name,
        renderReport(state, { slowCallMs: 1000, eventsLocation: `test/fixtures/report/${name}.jsonl` }),
      );
    });
  }

  test("a generated 3000-call session renders bounded output as many-calls.md", async () => {
    const events = generateManyCallsSession();
    expect(events.filter((e) => e.event_type === "tool_call_start")).toHaveLength(3000);
    const markdown = renderReport(fold(events), { slowCallMs: 1000, eventsLocation: "/tmp/baton-proxy.jsonl" });
    expect(markdown.length).toBeLessThan(40_000);
    await expectGolden("many-calls", markdown);
  });
});

describe("renderReport details", () => {
  test("a state with no events at all still has a header and a friendly note", () => {
    const markdown = renderReport(createReportState(), { slowCallMs: 1000 });
    expect(markdown).toContain("## Baton friction report");
    expect(markdown).toContain("- **Session:** —");
    expect(markdown).toContain("- **Window:** no events yet");
    expect(markdown).toContain("Nothing captured yet");
    expect(markdown).toContain("_Raw events: the event sinks configured in `BATON_EVENT_SINK`._");
    expect(markdown).not.toContain("### Tools");
  });

  test("the table keeps MAX_TABLE_ROWS rows and sums up the rest", () => {
    const events = Array.from({ length: MAX_TABLE_ROWS + 3 }, (_, i) =>
      makeCall(i * 2, `c${i}`, `t${i}`, {}, { durationMs: 5 }),
    ).flat();
    const markdown = renderReport(fold(events), { slowCallMs: 1000 });
    expect(markdown.split("\n").filter((l) => /^\| t\d+ \|/.test(l))).toHaveLength(MAX_TABLE_ROWS);
    expect(markdown).toContain("…and 3 more tools (3 calls, 0 errors).");
  });

  test("rows summed up below the table never count the (other tools) pool as one tool", () => {
    // 200 tools failing once each fill the named rows; 30 more tools, called once without error, share the pool.
    const named = Array.from({ length: MAX_TRACKED_TOOLS }, (_, i) =>
      makeCall(i * 2, `n${i}`, `t${i}`, {}, { durationMs: 5, errorType: "tool_error" }),
    );
    const pooled = Array.from({ length: 30 }, (_, i) =>
      makeCall(1000 + i * 2, `p${i}`, `late${i}`, {}, { durationMs: 5 }),
    );
    const markdown = renderReport(fold([...named, ...pooled].flat()), { slowCallMs: 1000 });
    expect(markdown).toContain(
      `…and ${MAX_TRACKED_TOOLS - MAX_TABLE_ROWS} more tools and \`(other tools)\`, the tools past the first ${MAX_TRACKED_TOOLS} (${MAX_TRACKED_TOOLS - MAX_TABLE_ROWS + 30} calls, ${MAX_TRACKED_TOOLS - MAX_TABLE_ROWS} errors).`,
    );
  });

  test("events missing from the session are counted in the header; now gives pending calls an age", () => {
    const first = makeEvent("annotation", 1, { intent: "x" }, { at: 0 });
    const start = makeEvent("tool_call_start", 4, { tool_name: "slow", params: {} }, { callId: "p", at: 0 });
    const state = fold([first, start]);
    const now = new Date(Date.parse(start.captured_at) + 4500);
    const markdown = renderReport(state, { slowCallMs: 1000, now });
    expect(markdown).toContain("- **Dropped events:** 2 (missing from the events read");
    expect(markdown).toContain("(4.5 s before this report)");
  });

  test("live, calls without an outcome are in flight (the longest's age so far); offline, the report does not claim they ended", () => {
    const first = makeEvent("tool_call_start", 1, { tool_name: "slow", params: {} }, { callId: "p", at: 0 });
    const second = makeEvent("tool_call_start", 2, { tool_name: "slower", params: {} }, { callId: "q", at: 1000 });
    const state = fold([first, second]);
    const now = new Date(Date.parse(first.captured_at) + 4500);
    const live = renderReport(state, { slowCallMs: 1000, now, live: true });
    expect(live).toContain("**In flight:** 2");
    expect(factsOf(live)).toContain(
      "- 2 calls were still running when this report was made (the longest for 4.5 s so far).",
    );
    expect(live).toContain("### In flight (2)");
    expect(live).toContain(", running for 3.5 s so far — input:");
    const offline = renderReport(state, { slowCallMs: 1000 });
    expect(offline).toContain("**No outcome:** 2");
    expect(factsOf(offline)).toContain(
      "- 2 calls have no outcome in these events (still running, or the proxy stopped before writing it).",
    );
    for (const markdown of [live, offline]) expect(markdown).not.toContain("never");
  });

  test("resources and prompts requests without an outcome are in flight (live) or without one (offline), never counted as tool calls", () => {
    const call = makeEvent("tool_call_start", 1, { tool_name: "slow", params: {} }, { callId: "c", at: 0 });
    const read = makeEvent("resource_read_start", 2, { uri: "file:///big.log", params: {} }, { callId: "r", at: 1000 });
    const get = makeEvent("prompt_get_start", 3, { name: "review", params: {} }, { callId: "g", at: 1000 });
    const got = makeEvent("prompt_get_end", 4, { name: "review", duration_ms: 5 }, { callId: "g", at: 1005 });
    // A start without a call id (an older producer) ends by its kind, oldest first.
    const list = makeEvent("resource_list_start", 5, {}, { at: 1010 });
    const listed = makeEvent("resource_list_end", 6, { count: 2, duration_ms: 1 }, { at: 1011 });
    const now = new Date(Date.parse(call.captured_at) + 4500);
    const live = renderReport(fold([call, read, get, got, list, listed]), { slowCallMs: 1000, now, live: true });
    expect(live).toContain("**Calls:** 1 · **Errors:** 0 (0.0%) · **In flight:** 1");
    expect(factsOf(live)).toContain(
      "- 1 resources/prompts request (not a tool call) was still running when this report was made.",
    );
    expect(live).toContain("### In flight (1 tool call and 1 resources/prompts request)");
    expect(live).toContain(
      "Resources and prompts requests (not tool calls):\n\n- resources/read `file:///big.log` started at 12:00:01, running for 3.5 s so far",
    );
    expect(live).not.toContain("prompts/get `review` started");
    // Only a request in flight: the session is not empty, and the section says what it holds.
    const alone = fold([read]);
    const offline = renderReport(alone, { slowCallMs: 1000 });
    expect(offline).not.toContain("Nothing captured yet");
    expect(offline).toContain("### No outcome recorded (1 resources/prompts request)");
    expect(offline).toContain("- resources/read `file:///big.log` started at 12:00:01");
    expect(factsOf(offline)).toContain(
      "- 1 resources/prompts request (not a tool call) has no outcome in these events (still running, or the proxy stopped before writing it).",
    );
    expect(summarizeReport(alone).totals).toMatchObject({ calls: 0, no_outcome: 0, requests_no_outcome: 1 });
    // An outcome read before its start (events out of order) leaves nothing pending.
    expect(summarizeReport(fold([got, get])).totals.requests_no_outcome).toBe(0);
  });

  test("a tool with more timed calls than the sample cap says its percentiles are sampled", () => {
    const events = Array.from({ length: MAX_DURATION_SAMPLES_PER_TOOL + 1 }, (_, i) =>
      makeCall(i * 2, `c${i}`, "busy", {}, { durationMs: i % 100 }),
    ).flat();
    const markdown = renderReport(fold(events), { slowCallMs: 1000 });
    expect(markdown).toContain("| busy | 10,001 | 0 | — |");
    expect(markdown).toContain("For tools with more than 10,000 timed calls, p50/p95 come from a uniform sample.");
    // No call reached the threshold (the max says so): the count of slow calls is exact, not an estimate.
    expect(summarizeReport(fold(events), { slowCallMs: 1000 }).totals).toMatchObject({
      slow_calls: 0,
      slow_calls_exact: true,
    });
    expect(summarizeReport(fold(events), { slowCallMs: 50 }).totals.slow_calls_exact).toBe(false);
  });

  test("the slow threshold is the caller's: the same state lists more calls under a lower one", () => {
    const state = fold([
      ...makeCall(1, "a", "x", {}, { durationMs: 400 }),
      ...makeCall(3, "b", "x", {}, { durationMs: 1200 }),
    ]);
    expect(renderReport(state, { slowCallMs: 1000 })).toContain("### Slow calls (≥ 1,000 ms): 1");
    expect(renderReport(state, { slowCallMs: 300 })).toContain("### Slow calls (≥ 300 ms): 2");
    expect(renderReport(state, { slowCallMs: 5000 })).not.toContain("### Slow calls");
  });
});

/** The "What stands out" bullets of a report. */
function factsOf(markdown: string): string[] {
  const section = markdown.split("### What stands out\n\n")[1] ?? "";
  return (section.split("\n\n")[0] ?? "").split("\n").filter((l) => l.startsWith("- "));
}

const annotate = (
  seq: number,
  tool: string,
  signal: string | null,
  suggestion: string | null,
  intent = "do the thing",
): BatonEvent =>
  makeEvent("annotation", seq, { intent, signal_type: signal, tool_name: tool, suggested_improvement: suggestion });

/** The demo's shape: two tools fail once each (3 and 1 calls), each annotated after its error with a different signal. */
function demoLikeSession(): BatonEvent[] {
  return [
    ...makeCall(1, "s1", "search_invoices", { customer: "ACME" }, { durationMs: 9 }),
    ...makeCall(
      3,
      "s2",
      "search_invoices",
      { status: "overdue" },
      { durationMs: 1, errorType: "jsonrpc_-32602", errorBody: "MCP error -32602: MCP error -32602: Invalid status" },
    ),
    annotate(5, "search_invoices", "parameter_confusion", "Declare status as an enum."),
    ...makeCall(6, "s3", "search_invoices", { status: "open" }, { durationMs: 1 }),
    ...makeCall(8, "g1", "get_invoice", { id: 1 }, { durationMs: 1 }),
    ...makeCall(
      10,
      "m1",
      "send_email",
      { to: "[email]" },
      { durationMs: 1, errorType: "tool_error", errorBody: "Attachments too large" },
    ),
    annotate(12, "send_email", "feature_gap", "Offer invoice links instead of PDFs"),
    ...makeCall(13, "e1", "export_report", { period: "Q3" }, { durationMs: 1200 }),
  ];
}

describe("What stands out", () => {
  test("a tie on error count is said as a tie (rate orders it), and each failing tool is linked to what the agent said after its error", () => {
    const facts = factsOf(renderReport(fold(demoLikeSession()), { slowCallMs: 1000 }));
    expect(facts).toEqual([
      "- `send_email` and `search_invoices` each failed once (of 1 and 3 calls).",
      "- After an error, the agent called the same tool again: `search_invoices` once (its last call succeeded).",
      "- The agent annotated `send_email` after its tool error (isError): `feature_gap` — ‘Offer invoice links instead of PDFs’.",
      "- The agent annotated `search_invoices` after its JSON-RPC error -32602 (Invalid params): `parameter_confusion` — ‘Declare status as an enum’.",
      "- The agent flagged `parameter_confusion` and `feature_gap` once each.",
      "- 1 call took 1,000 ms or longer; the slowest was `export_report` at 1.2 s.",
    ]);
  });

  test("retries: a tool called again after its error is named, with the same input or not, and whether its last call succeeded; overlapping calls are no retries", () => {
    const params = (priority: string) => ({ title: "Refund", priority });
    const state = fold([
      // create_ticket: fails twice, the agent changes the input each time, the third call succeeds.
      ...makeCall(1, "a", "create_ticket", params("urgent"), { durationMs: 1, errorType: "tool_error" }),
      ...makeCall(3, "b", "create_ticket", params("URGENT"), { durationMs: 1, errorType: "tool_error" }),
      ...makeCall(5, "c", "create_ticket", params("high"), { durationMs: 1 }),
      // charge: the same input three times, failing every time.
      ...makeCall(7, "d", "charge", { amount: 500 }, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(9, "e", "charge", { amount: 500 }, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(11, "f", "charge", { amount: 500 }, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      // search: two calls in flight together; the second started before the first failed.
      makeEvent("tool_call_start", 13, { tool_name: "search", params: { q: 1 } }, { callId: "g" }),
      makeEvent("tool_call_start", 14, { tool_name: "search", params: { q: 2 } }, { callId: "h" }),
      makeEvent(
        "tool_call_error",
        15,
        { tool_name: "search", error_type: "tool_error", duration_ms: 1 },
        { callId: "g" },
      ),
      makeEvent("tool_call_end", 16, { tool_name: "search", duration_ms: 1 }, { callId: "h" }),
    ]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    expect(factsOf(markdown)).toContain(
      "- After an error, the agent called the same tool again: `charge` twice (each time with the same input; its last call failed too) and `create_ticket` twice (its last call succeeded).",
    );
    const json = summarizeReport(state);
    const byTool = Object.fromEntries(
      json.tools.map((t) => [t.tool, [t.retries, t.retries_same_input, t.last_failed]]),
    );
    expect(byTool).toEqual({
      charge: [2, 2, true],
      create_ticket: [2, 0, false],
      search: [0, 0, false],
    });
  });

  test('one leader: its figures and error types, no "all" for a single error, "Only" when no other tool failed', () => {
    const one = fold([
      ...makeCall(1, "a", "t", {}, { durationMs: 1 }),
      ...makeCall(3, "b", "t", {}, { durationMs: 1, errorType: "tool_error" }),
      ...makeCall(5, "c", "t", {}, { durationMs: 1 }),
    ]);
    expect(factsOf(renderReport(one, { slowCallMs: 1000 }))[0]).toBe(
      "- Only `t` failed, 1 of 3 calls (33.3%): tool error (isError).",
    );
    const mixed = fold([
      ...makeCall(1, "a", "t", {}, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(3, "b", "t", {}, { durationMs: 1, errorType: "jsonrpc_-32602" }),
      ...makeCall(5, "c", "t", {}, { durationMs: 1, errorType: "upstream_exit" }),
      ...makeCall(7, "d", "u", {}, { durationMs: 1, errorType: "cancelled" }),
    ]);
    const facts = factsOf(renderReport(mixed, { slowCallMs: 1000 }));
    // The server's exit and the client's cancel are not what the tool answered: ranked without them, and said so.
    expect(facts[0]).toBe(
      "- Only `t` got errors from the server, 2 of 3 calls (66.7%): JSON-RPC error -32602 (Invalid params) ×2; not counted here, as no MCP error from the server: cancelled by the client ×1 and server exited ×1.",
    );
    expect(facts.slice(-2)).toEqual([
      "- The server exited with 1 call still in flight.",
      "- The client cancelled 1 call.",
    ]);
  });

  test("with events missing (gaps in the sequence), no error and a single failing tool are said of the events read, not of the session", () => {
    // Events 3 and 4 never reached the file: either may have been an error of any tool.
    const clean = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5 }),
      ...makeCall(5, "b", "echo", {}, { durationMs: 5 }),
    ]);
    const cleanFacts = factsOf(renderReport(clean, { slowCallMs: 1000 }));
    expect(cleanFacts).not.toContain("- No tool call returned an error.");
    expect(cleanFacts).toContain("- No tool call in these events returned an error (2 events are missing from them).");
    const one = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5, errorType: "tool_error" }),
      ...makeCall(4, "b", "other", {}, { durationMs: 5 }),
    ]);
    expect(factsOf(renderReport(one, { slowCallMs: 1000 }))[0]).toBe(
      "- Of the calls in these events (1 event is missing from them), only `echo` failed, 1 of 1 call (100.0%): tool error (isError).",
    );
    // Nothing missing: as before.
    const whole = fold(makeCall(1, "a", "echo", {}, { durationMs: 5 }));
    expect(factsOf(renderReport(whole, { slowCallMs: 1000 }))).toContain("- No tool call returned an error.");
  });

  test("tools past the tracked 200, counted together as (other tools), are never called one tool that failed most or did not fail", () => {
    // 200 tools called once each, then 100 more tools that fail once each: no single tool failed more than once.
    const named = Array.from({ length: MAX_TRACKED_TOOLS }, (_, i) =>
      makeCall(i * 2 + 1, `n${i}`, `tool_${i}`, {}, { durationMs: 1 }),
    );
    const pooled = Array.from({ length: 100 }, (_, i) =>
      makeCall(1000 + i * 2, `p${i}`, `late_${i}`, {}, { durationMs: 1, errorType: "tool_error" }),
    );
    const onlyPooled = factsOf(renderReport(fold([...named, ...pooled].flat()), { slowCallMs: 1000 }));
    expect(onlyPooled[0]).toBe(
      "- The tools past the first 200 named in this session are counted together as `(other tools)`: 100 of their 100 calls failed (100.0%).",
    );
    expect(onlyPooled.join("\n")).not.toContain("No tool call returned an error");
    expect(onlyPooled.join("\n")).not.toContain("`(other tools)` had the most errors");
    // A named tool failing once besides: not "Only", and not the most errors outright (one pooled tool may have more).
    const failing = makeCall(2000, "x", "tool_5", {}, { durationMs: 1, errorType: "tool_error" });
    const both = factsOf(renderReport(fold([...named, ...pooled, failing].flat()), { slowCallMs: 1000 }));
    expect(both.slice(0, 2)).toEqual([
      "- `tool_5` had the most errors of the tools tracked by name, 1 of 2 calls (50.0%): tool error (isError).",
      "- The tools past the first 200 named in this session are counted together as `(other tools)`: 100 of their 100 calls failed (100.0%).",
    ]);
  });

  test('more tied tools than are named are counted; equal call counts say "each"', () => {
    const calls = (tools: string[]) =>
      fold(tools.flatMap((t, i) => makeCall(i * 2, `c${i}`, t, {}, { durationMs: 1, errorType: "tool_error" })));
    expect(factsOf(renderReport(calls(["a", "b"]), { slowCallMs: 1000 }))[0]).toBe(
      "- `a` and `b` each failed once (of 1 call each).",
    );
    expect(factsOf(renderReport(calls(["a", "b", "c", "d", "e"]), { slowCallMs: 1000 }))[0]).toBe(
      "- 5 tools each failed once: `a`, `b`, `c` and 2 more.",
    );
  });

  test("the most errors are ranked by what the server answered with: a tool the client cancelled is not named for its cancels", () => {
    const state = fold([
      ...makeCall(1, "a", "search", {}, { durationMs: 9000, errorType: "cancelled" }),
      ...makeCall(3, "b", "search", {}, { durationMs: 9000, errorType: "cancelled" }),
      ...makeCall(5, "c", "search", {}, { durationMs: 9000, errorType: "cancelled" }),
      ...makeCall(7, "d", "get", {}, { durationMs: 5, errorType: "jsonrpc_-32602" }),
      ...makeCall(9, "e", "get", {}, { durationMs: 5, errorType: "jsonrpc_-32602" }),
      ...makeCall(11, "f", "list", {}, { durationMs: 5, errorType: "tool_error" }),
    ]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    expect(factsOf(markdown)[0]).toBe(
      "- `get` had the most errors from the server, 2 of 2 calls (100.0%): JSON-RPC error -32602 (Invalid params) ×2; not counted here, as no MCP error from the server: cancelled by the client ×3.",
    );
    // The raw counts stay as they are: the header and the table still count every error.
    expect(markdown).toContain("**Errors:** 6 (100.0%)");
    expect(markdown).toContain("| search | 3 | 3 | 100.0% |");
    expect(factsOf(markdown)).toContain("- The client cancelled 3 calls.");
    const onlyCancels = fold(makeCall(1, "a", "search", {}, { durationMs: 9000, errorType: "cancelled" }));
    expect(factsOf(renderReport(onlyCancels, { slowCallMs: 1000 }))[0]).toBe(
      "- No tool call got an MCP error from the server; the 1 error counted for tools is cancelled by the client ×1.",
    );
    // With tools past the tracked ones failing too, the statement is about the named ones only.
    const named = Array.from({ length: MAX_TRACKED_TOOLS }, (_, i) =>
      makeCall(i * 2 + 1, `n${i}`, `tool_${i}`, {}, { durationMs: 1, errorType: i === 0 ? "cancelled" : undefined }),
    );
    const pooled = makeCall(MAX_TRACKED_TOOLS * 2 + 1, "p", "late", {}, { durationMs: 1, errorType: "tool_error" });
    expect(factsOf(renderReport(fold([...named, pooled].flat()), { slowCallMs: 1000 }))[0]).toBe(
      "- No call of a tool tracked by name got an MCP error from the server; the 1 error counted for tools is cancelled by the client ×1.",
    );
  });

  test("--url: calls that failed between proxy and server (unreachable: never reached a tool; stream lost, HTTP 503: no MCP answer) are said to be the connection's, named in words", () => {
    const state = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5 }),
      ...makeCall(3, "b", "slow", {}, { durationMs: 8000, errorType: "upstream_stream_lost", errorBody: "broke" }),
      ...makeCall(5, "c", "echo", {}, { durationMs: 0, errorType: "upstream_unreachable", errorBody: "down" }),
      ...makeCall(7, "d", "echo", {}, { durationMs: 0, errorType: "upstream_unreachable", errorBody: "down" }),
      ...makeCall(9, "e", "echo", {}, { durationMs: 3, errorType: "http_503", errorBody: "busy" }),
    ]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    const facts = factsOf(markdown);
    expect(facts[0]).toBe(
      "- No tool call got an MCP error from the server; the 4 errors counted for tools are server unreachable ×2, HTTP 503 from the server ×1 and connection to the server lost ×1.",
    );
    expect(facts).toContain("- 2 calls failed on the way to the server, not in its tools: server unreachable ×2.");
    expect(facts).toContain(
      "- 2 calls were sent to the server but got no MCP answer from it (not an error a tool returned; the tool may have run): HTTP 503 from the server ×1 and connection to the server lost ×1.",
    );
    expect(markdown).toContain("   - Error: server unreachable — `down`\n");
    expect(markdown).toContain("took **8.0 s** at 12:00:08 and failed: connection to the server lost");
  });

  test("--url: a call the server got but did not answer in time is not said to have failed on the way to it (its tool may have run)", () => {
    // BATON_UPSTREAM_TIMEOUT=1 and a tool that takes 2.5 s: the server received the call and ran the tool.
    const state = fold([
      ...makeCall(1, "a", "fail", {}, { durationMs: 56, errorType: "tool_error", errorBody: "it failed" }),
      ...makeCall(
        3,
        "b",
        "slow",
        { ms: 2500 },
        { durationMs: 1056, errorType: "upstream_timeout", errorBody: "did not answer within 1 s" },
      ),
    ]);
    const facts = factsOf(renderReport(state, { slowCallMs: 1000 }));
    expect(facts.join("\n")).not.toContain("on the way to the server");
    expect(facts).toContain(
      "- 1 call was sent to the server but got no MCP answer from it (not an error a tool returned; the tool may have run): server timed out ×1.",
    );
  });

  test("serve: an upstream's HTTP error (upstream_http_<status>) is the connection's, named as --url's http_<status> is", () => {
    const state = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5 }),
      ...makeCall(3, "b", "echo", {}, { durationMs: 3, errorType: "upstream_http_503", errorBody: "busy" }),
      ...makeCall(5, "c", "echo", {}, { durationMs: 0, errorType: "upstream_unreachable", errorBody: "down" }),
    ]);
    const facts = factsOf(renderReport(state, { slowCallMs: 1000 }));
    expect(facts).toContain("- 1 call failed on the way to the server, not in its tools: server unreachable ×1.");
    expect(facts).toContain(
      "- 1 call was sent to the server but got no MCP answer from it (not an error a tool returned; the tool may have run): HTTP 503 from the server ×1.",
    );
    expect(describeErrorType("upstream_http_401")).toBe("HTTP 401 from the server");
  });

  test("events the Python proxy wrote: its bare codes and proxy_* types are named, its --url failures are the connection's", () => {
    // Upstream 0.5.3: error_type is str(error.code), and its bridge's failures are proxy_upstream_unreachable / proxy_no_response.
    const state = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5, errorType: "-32602", errorBody: "MCP error -32602: bad" }),
      ...makeCall(3, "b", "echo", {}, { durationMs: 0, errorType: "proxy_upstream_unreachable", errorBody: "down" }),
      ...makeCall(5, "c", "echo", {}, { durationMs: 0, errorType: "proxy_no_response", errorBody: "none" }),
      ...makeCall(7, "d", "echo", {}, { durationMs: 9, errorType: "proxy_pending_evicted", errorBody: "gone" }),
    ]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    expect(factsOf(markdown)).toContain(
      "- 1 call failed on the way to the server, not in its tools: server unreachable ×1.",
    );
    expect(factsOf(markdown)).toContain(
      "- 1 call was sent to the server but got no MCP answer from it (not an error a tool returned; the tool may have run): no answer from the server ×1.",
    );
    expect(markdown).toContain("   - Error: JSON-RPC error -32602 (Invalid params) — `bad`\n");
    expect(markdown).toContain("   - Error: no answer (stopped tracking) — `gone`\n");
  });

  test("failing resource reads and prompt gets stand out too; with no tool error the bullet says tool call", () => {
    const state = fold([
      ...makeCall(1, "a", "echo", {}, { durationMs: 5 }),
      makeEvent("resource_read_error", 3, {
        uri: "demo://nope",
        error_type: "jsonrpc_-32002",
        error_body: "not found",
        duration_ms: 1,
      }),
      makeEvent("resource_read_error", 4, {
        uri: "demo://gone",
        error_type: "jsonrpc_-32002",
        error_body: "not found",
        duration_ms: 1,
      }),
      makeEvent("resource_read_end", 5, { uri: "demo://ok", duration_ms: 1 }),
      makeEvent("prompt_get_error", 6, {
        name: "nope",
        error_type: "jsonrpc_-32602",
        error_body: "unknown",
        duration_ms: 1,
      }),
    ]);
    expect(factsOf(renderReport(state, { slowCallMs: 1000 }))).toEqual([
      "- No tool call returned an error.",
      "- Resource and prompt requests failed 3 times: resources/read 2 of 3 and prompts/get 1 of 1.",
    ]);
  });

  test("calls cancelled by the client are said even while another call is still running or the server exited", () => {
    const state = fold([
      ...makeCall(1, "a", "slow", {}, { durationMs: 300, errorType: "cancelled" }),
      makeEvent("tool_call_start", 3, { tool_name: "slow", params: {} }, { callId: "b" }),
    ]);
    const facts = factsOf(renderReport(state, { slowCallMs: 1000, live: true }));
    expect(facts).toContain("- 1 call was still running when this report was made.");
    expect(facts).toContain("- The client cancelled 1 call.");
    const exited = fold([
      ...makeCall(1, "a", "slow", {}, { durationMs: 300, errorType: "cancelled" }),
      ...makeCall(3, "b", "slow", {}, { durationMs: 300, errorType: "upstream_exit" }),
    ]);
    expect(factsOf(renderReport(exited, { slowCallMs: 1000 })).slice(-2)).toEqual([
      "- The server exited with 1 call still in flight.",
      "- The client cancelled 1 call.",
    ]);
  });

  test("an annotation before the first error says so; a third annotated tool is only named", () => {
    const events = [
      annotate(1, "a", null, null, "try a"),
      ...makeCall(2, "a1", "a", {}, { durationMs: 1, errorType: "weird_type" }),
      ...makeCall(4, "b1", "b", {}, { durationMs: 1, errorType: "tool_error" }),
      ...makeCall(6, "c1", "c", {}, { durationMs: 1, errorType: "tool_error" }),
      annotate(8, "b", "failure", null),
      annotate(9, "c", "failure", null),
    ];
    const facts = factsOf(renderReport(fold(events), { slowCallMs: 1000 }));
    expect(facts).toContain("- The agent annotated `a` before it failed: ‘try a’.");
    expect(facts).toContain("- The agent annotated `b` after its tool error (isError): `failure` — ‘do the thing’.");
    expect(facts).toContain("- The agent also annotated another failing tool: `c`.");
    expect(facts).toContain("- The agent flagged `failure`: 2 of 3 annotations.");
  });

  test("the note the proxy makes from a call's user_goal is not said to be the agent annotating the tool", () => {
    // What the proxy writes just before the first call that carries a user_goal (intent_source "injected_param").
    const fromGoal = makeEvent("annotation", 1, {
      intent: "find the overdue invoices",
      tool_name: "get_invoice",
      intent_source: "injected_param",
    });
    const state = fold([fromGoal, ...makeCall(2, "a", "get_invoice", {}, { durationMs: 3, errorType: "tool_error" })]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    expect(factsOf(markdown).join("\n")).not.toContain("The agent annotated");
    expect(markdown).toContain(
      "1. Note about `get_invoice` at 12:00:00, from the call's `user_goal` (not a `baton_annotate` call)\n",
    );
  });

  test("signals: a clear leader, a tie at the top, all tied (in order of first appearance)", () => {
    const signals = (list: string[]) =>
      factsOf(renderReport(fold(list.map((s, i) => annotate(i, "x", s, null))), { slowCallMs: 1000 }));
    expect(signals(["b", "a", "a"])).toContain("- The agent's most frequent signal was `a`: 2 of 3 annotations.");
    expect(signals(["c", "b", "a", "a", "b"])).toContain(
      "- The agent's most frequent signals were `b` and `a`, twice each (of 5 annotations).",
    );
    expect(signals(["z", "y", "z", "y"])).toContain("- The agent flagged `z` and `y` twice each.");
    expect(signals(["a", "b", "c", "d", "e"])).toContain(
      "- The agent flagged 5 signals once each: `a`, `b`, `c`, `d` and 1 more.",
    );
  });
});

describe("renderReport header, table and error wording", () => {
  test("--url: the header names the server by its name and version and by the origin its events carry", () => {
    const surface = makeEvent("surface_snapshot", 1, {
      surface_hash: "sha256:abc",
      server_info: { name: "mcp-servers/everything", version: "2.0.0" },
      capabilities: { tools: {} },
      instructions: null,
      tools: [],
    });
    const origin = { meta: { "baton/server": "http://127.0.0.1:18931" } };
    const [start, end] = makeCall(2, "a", "echo", {}, { durationMs: 1 });
    const remote = fold([
      surface,
      { ...start, runtime_meta: { ...start.runtime_meta, ...origin.meta } },
      {
        ...end,
        runtime_meta: { ...end.runtime_meta, ...origin.meta },
      },
    ] as BatonEvent[]);
    expect(renderReport(remote, { slowCallMs: 1000 })).toContain(
      "- **Server:** mcp-servers/everything 2.0.0 at http://127.0.0.1:18931\n",
    );
    // Over stdio both say the same: once.
    const local = fold([
      surface,
      { ...start, runtime_meta: { ...start.runtime_meta, "baton/server": "mcp-servers/everything 2.0.0" } },
    ] as BatonEvent[]);
    expect(renderReport(local, { slowCallMs: 1000 })).toContain("- **Server:** mcp-servers/everything 2.0.0\n");
  });

  test("the window shows milliseconds under a minute, whole seconds from a minute on", () => {
    const short = fold([
      makeEvent("annotation", 1, { intent: "a" }, { at: 26_977 }),
      makeEvent("annotation", 2, { intent: "b" }, { at: 28_231 }),
    ]);
    expect(renderReport(short, { slowCallMs: 1000 })).toContain(
      "- **Window:** 2026-08-10 12:00:26.977 → 12:00:28.231 UTC (1.3 s)",
    );
    const long = fold([
      makeEvent("annotation", 1, { intent: "a" }, { at: 0 }),
      makeEvent("annotation", 2, { intent: "b" }, { at: 61_500 }),
    ]);
    expect(renderReport(long, { slowCallMs: 1000 })).toContain(
      "- **Window:** 2026-08-10 12:00:00 → 12:01:01 UTC (1 min 1 s)",
    );
  });

  test("redactions and truncations get one header line, only when there are any", () => {
    const meta = { "baton/scrubbed": { email: 1, token: 2 }, "baton/truncated": 3 };
    const state = fold([
      makeEvent("annotation", 1, { intent: "a" }, { meta }),
      makeEvent("annotation", 2, { intent: "b" }),
    ]);
    expect(renderReport(state, { slowCallMs: 1000 })).toContain(
      "- **Redacted before storage:** 2 tokens, 1 email · **Truncated values:** 3\n",
    );
    const onlyCut = fold([makeEvent("annotation", 1, { intent: "a" }, { meta: { "baton/truncated": 1 } })]);
    expect(renderReport(onlyCut, { slowCallMs: 1000 })).toContain("- **Truncated values:** 1\n");
    expect(renderReport(fold([makeEvent("annotation", 1, { intent: "a" })]), { slowCallMs: 1000 })).not.toMatch(
      /Redacted|Truncated/,
    );
  });

  test("the table shows a dash for no errors and no durations, and the footnote says what a dash means", () => {
    const state = fold([
      ...makeCall(1, "a", "ok_tool", {}, { durationMs: 5 }),
      makeEvent("tool_call_start", 3, { tool_name: "open_tool", params: {} }, { callId: "p" }),
    ]);
    const markdown = renderReport(state, { slowCallMs: 1000 });
    expect(markdown).toContain("| ok\\_tool | 1 | 0 | — | 5 | 5 | 5 |");
    expect(markdown).toContain("| open\\_tool | 1 | 0 | — | — | — | — |");
    expect(markdown).toContain("; a dash means no errors (Error rate) or no timed call (ms columns)._");
    const failing = renderReport(fold(makeCall(1, "a", "t", {}, { durationMs: 5, errorType: "tool_error" })), {
      slowCallMs: 1000,
    });
    expect(failing).toContain("| t | 1 | 1 | 100.0% | 5 | 5 | 5 |");
    expect(failing).not.toContain("a dash means");
  });

  test("a rate that rounds to 0.0% or 100.0% is never printed as such: 1 error in 3,000 calls is not 0.0%, 2,999 in 3,000 not 100.0%", () => {
    const session = (failing: (i: number) => boolean) =>
      fold(
        Array.from({ length: 3000 }, (_, i) =>
          makeCall(i * 2 + 1, `c${i}`, "t", {}, { durationMs: 1, ...(failing(i) ? { errorType: "tool_error" } : {}) }),
        ).flat(),
      );
    const rare = renderReport(
      session((i) => i === 0),
      { slowCallMs: 1000 },
    );
    expect(rare).toContain("| t | 3,000 | 1 | <0.1% | 1 | 1 | 1 |");
    expect(rare).toContain("- **Calls:** 3,000 · **Errors:** 1 (<0.1%)");
    expect(factsOf(rare)[0]).toBe("- Only `t` failed, 1 of 3,000 calls (<0.1%): tool error (isError).");
    const nearlyAll = renderReport(
      session((i) => i !== 0),
      { slowCallMs: 1000 },
    );
    expect(nearlyAll).toContain("| t | 3,000 | 2,999 | >99.9% | 1 | 1 | 1 |");
    expect(nearlyAll).toContain("- **Calls:** 3,000 · **Errors:** 2,999 (>99.9%)");
    expect(nearlyAll).not.toContain("0.0%");
    // The table reads the counts, not the JSON summary's rate rounded to 4 places (1 in 30,000 is 0 there).
    const rows = (errors: number) =>
      fold([
        ...makeCall(1, "e", "t", {}, { durationMs: 1, errorType: "tool_error" }),
        ...Array.from({ length: 30_000 - errors }, (_, i) =>
          makeCall(i * 2 + 3, `c${i}`, "t", {}, { durationMs: 1 }),
        ).flat(),
        ...Array.from({ length: errors - 1 }, (_, i) =>
          makeCall(i * 2 + 70_000, `d${i}`, "t", {}, { durationMs: 1, errorType: "tool_error" }),
        ).flat(),
      ]);
    expect(renderReport(rows(1), { slowCallMs: 1000 })).toContain("| t | 30,000 | 1 | <0.1% |");
    expect(renderReport(rows(29_999), { slowCallMs: 1000 })).toContain("| t | 30,000 | 29,999 | >99.9% |");
  });

  test("identical errors (same tool, input and error) are listed once with their count, so a flood of one error does not push the others out", () => {
    const events = [
      ...makeCall(1, "crash", "crash_tool", {}, { durationMs: 2, errorType: "tool_error", errorBody: "db down" }),
      ...Array.from({ length: 600 }, (_, i) =>
        makeCall(
          i * 2 + 3,
          `l${i}`,
          "lookup_customer",
          { email: "bad" },
          {
            durationMs: 5,
            errorType: "tool_error",
            errorBody: "not an email: bad",
          },
        ),
      ).flat(),
      ...makeCall(
        1300,
        "other",
        "lookup_customer",
        { email: "worse" },
        {
          durationMs: 5,
          errorType: "tool_error",
          errorBody: "not an email: worse",
        },
      ),
    ];
    const markdown = renderReport(fold(events), { slowCallMs: 1000 });
    const errored = markdown.slice(markdown.indexOf("### Errored calls"), markdown.indexOf("\n---"));
    expect(errored).toContain("### Errored calls (602)");
    expect(errored).toContain("Identical errors (same tool, input and error) are listed once, with their count.");
    expect(errored).toContain("1. `crash_tool` — `tool_error` after 2 ms at 12:00:00\n");
    expect(errored).toContain(
      '2. `lookup_customer` — `tool_error` ×600, the last after 5 ms at 12:00:01\n   - Error: tool error (isError) — `not an email: bad`\n   - Input: `{"email":"bad"}`',
    );
    expect(errored).toContain("3. `lookup_customer` — `tool_error` after 5 ms at 12:00:01\n");
    expect(errored).not.toContain("4. ");
    expect(errored).not.toContain("Showing");
    // 30 distinct errors, then 5 identical ones: 19 distinct + 1 entry of 5 are kept, 24 of 35 calls.
    const many = fold([
      ...Array.from({ length: 30 }, (_, i) =>
        makeCall(i * 2 + 1, `d${i}`, "t", { i }, { durationMs: 1, errorType: "tool_error", errorBody: `e${i}` }),
      ).flat(),
      ...Array.from({ length: 5 }, (_, i) =>
        makeCall(i * 2 + 101, `s${i}`, "t", {}, { durationMs: 1, errorType: "tool_error", errorBody: "same" }),
      ).flat(),
    ]);
    expect(renderReport(many, { slowCallMs: 1000 })).toContain(
      "Showing 24 of 35, the latest kept. Identical errors (same tool, input and error) are listed once, with their count.",
    );
  });

  test("errored calls keep the raw type in the heading, name it in words, and drop a repeated MCP error prefix", () => {
    const markdown = renderReport(fold(demoLikeSession()), { slowCallMs: 1000 });
    expect(markdown).toContain("`search_invoices` — `jsonrpc_-32602` after 1 ms");
    expect(markdown).toContain("   - Error: JSON-RPC error -32602 (Invalid params) — `Invalid status`\n");
    expect(markdown).toContain("   - Error: tool error (isError) — `Attachments too large`\n");
    expect(markdown).toContain("`export_report` took **1.2 s** at 12:00:01 and succeeded");
  });
});

describe("error names", () => {
  test.each([
    ["jsonrpc_-32700", "JSON-RPC error -32700 (Parse error)"],
    ["jsonrpc_-32600", "JSON-RPC error -32600 (Invalid request)"],
    ["jsonrpc_-32601", "JSON-RPC error -32601 (Method not found)"],
    ["jsonrpc_-32602", "JSON-RPC error -32602 (Invalid params)"],
    ["jsonrpc_-32603", "JSON-RPC error -32603 (Internal error)"],
    ["jsonrpc_-32002", "JSON-RPC error -32002 (Resource not found)"],
    ["jsonrpc_-32042", "JSON-RPC error -32042 (URL elicitation required)"],
    ["jsonrpc_-32000", "JSON-RPC error -32000 (Server error)"],
    ["jsonrpc_-32099", "JSON-RPC error -32099 (Server error)"],
    ["jsonrpc_-32100", "JSON-RPC error -32100"],
    ["jsonrpc_42", "JSON-RPC error 42"],
    ["tool_error", "tool error (isError)"],
    ["upstream_exit", "server exited"],
    ["proxy_shutdown", "proxy shut down"],
    ["cancelled", "cancelled by the client"],
    ["evicted", "no answer (stopped tracking)"],
    ["task_failed", "task failed"],
    ["jsonrpc_invalid", "invalid JSON-RPC answer (an error without a code, or no result or error)"],
    ["request_too_large", "request too large to send"],
    ["proxy_internal", "proxy failure"],
    ["upstream_unreachable", "server unreachable"],
    ["upstream_tls", "TLS error reaching the server"],
    ["upstream_timeout", "server timed out"],
    ["upstream_auth", "not authorized by the server"],
    ["session_expired", "server session expired"],
    ["upstream_no_response", "no answer from the server"],
    ["upstream_stream_lost", "connection to the server lost"],
    ["upstream_protocol", "unreadable answer from the server"],
    ["http_503", "HTTP 503 from the server"],
    ["http_abc", null],
    ["something_new", null],
    ["jsonrpc_abc", null],
  ])("describeErrorType(%p) is %p", (type, expected) => {
    expect(describeErrorType(type)).toBe(expected);
  });

  test("stripCodePrefix drops only prefixes that repeat the type's own code", () => {
    expect(stripCodePrefix("jsonrpc_-32602", "MCP error -32602: MCP error -32602: bad status")).toBe("bad status");
    expect(stripCodePrefix("jsonrpc_-32603", "MCP error -32602: bad status")).toBe("MCP error -32602: bad status");
    expect(stripCodePrefix("tool_error", "MCP error -32602: bad status")).toBe("MCP error -32602: bad status");
    expect(stripCodePrefix("jsonrpc_-32602", "MCP error -32602: ")).toBe("MCP error -32602: ");
    // A cancelled call's body starts with the type's own name: "cancelled by the client — `cancelled by the client: …`" said it twice.
    expect(stripCodePrefix("cancelled", "cancelled by the client: McpError: MCP error -32001: Request timed out")).toBe(
      "McpError: MCP error -32001: Request timed out",
    );
    expect(stripCodePrefix("cancelled", "cancelled by the client (tasks/cancel)")).toBe(
      "cancelled by the client (tasks/cancel)",
    );
    expect(stripCodePrefix("tool_error", "tool error (isError): x")).toBe("tool error (isError): x");
  });
});

describe("inline text helpers", () => {
  test.each([
    ["plain", "plain"],
    ["a|b", "a\\|b"],
    ["`code`", "\\`code\\`"],
    ["<b>x</b>", "\\<b\\>x\\</b\\>"],
    ["line1\nline2\r\nline3", "line1 line2 line3"],
    ["*a* _b_ [c](d) ~e~", "\\*a\\* \\_b\\_ \\[c\\](d) \\~e\\~"],
    ["R&D &amp; co", "R&D \\&amp; co"],
    ["back\\slash", "back\\\\slash"],
    ["tab\there\u0000", "tab here "],
    // Bidi embeddings, overrides and isolates reorder what a viewer or terminal shows ("Trojan Source").
    ["ok\u202egnp.exe", "ok gnp.exe"],
    ["a\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069b", "a        b"],
  ])("renderText(%j) is %j", (input, expected) => {
    expect(renderText(input, 100)).toBe(expected);
  });

  test.each([
    ["x", "`x`"],
    ["a`b", "``a`b``"],
    ["`a``", "``` `a`` ```"],
    ["multi\nline", "`multi line`"],
    ["   ", "_(empty)_"],
    [" a", "` a`"], // one space alone is kept by a code span: no padding needed
    [" a ", "`  a  `"], // a space on both sides would be stripped: padded
    ["a`", "`` a` ``"],
    ["delete_\u202eelif", "`delete_ elif`"],
  ])("renderCode(%j) is %j", (input, expected) => {
    expect(renderCode(input)).toBe(expected);
  });

  test.each([
    [[], 9, ""],
    [["a"], 9, "a"],
    [["a", "b"], 9, "a and b"],
    [["a", "b", "c"], 9, "a, b and c"],
    [["a", "b", "c", "d"], 2, "a, b and 2 more"],
  ])("joinList(%j, %p) is %p", (items, max, expected) => {
    expect(joinList(items, max)).toBe(expected);
  });

  test.each([
    [0, "0.0%"],
    [1 / 3000, "<0.1%"],
    [1 / 3, "33.3%"],
    [2999 / 3000, ">99.9%"],
    [1, "100.0%"],
  ])("formatRate(%p) is %p: only none is 0.0%% and only all is 100.0%%", (fraction, expected) => {
    expect(formatRate(fraction)).toBe(expected);
  });

  test("renderCode cuts long text with an ellipsis", () => {
    expect(renderCode("abcdefghij", 5)).toBe("`abcd…`");
  });

  test.each([
    [0, "0 ms"],
    [999, "999 ms"],
    [1000, "1.0 s"],
    [4870, "4.9 s"],
    [59_900, "59.9 s"],
    [60_000, "1 min 0 s"],
    [61_000, "1 min 1 s"],
    [3_599_999, "59 min 59 s"],
    [3_600_000, "1 h 0 min"],
    [7_380_000, "2 h 3 min"],
    // Rounding never leaves a value in the smaller unit's form (a producer's fractional milliseconds):
    [999.6, "1.0 s"],
    [59_960, "1 min 0 s"],
    [-1, "—"],
  ])("formatMs(%p) is %p", (ms, expected) => {
    expect(formatMs(ms)).toBe(expected);
  });

  test("formatInstant and renderTimeOfDay", () => {
    expect(formatInstant("2026-08-10T22:09:47.509187Z")).toEqual({
      date: "2026-08-10",
      clock: "22:09:47",
      millis: "509",
      zone: "UTC",
    });
    expect(formatInstant("2026-08-10T22:09:47.5Z")?.millis).toBe("500");
    expect(formatInstant("2026-08-10T22:09:47Z")?.millis).toBe("000");
    expect(formatInstant("2026-08-10T22:09:47+02:00")?.zone).toBe("+02:00");
    expect(formatInstant("yesterday")).toBeNull();
    expect(renderTimeOfDay("2026-08-10T22:09:47.5Z", "2026-08-10")).toBe("22:09:47");
    expect(renderTimeOfDay("2026-08-11T00:00:01Z", "2026-08-10")).toBe("2026-08-11 00:00:01");
    expect(renderTimeOfDay("not|a time", null)).toBe("not\\|a time");
  });
});
