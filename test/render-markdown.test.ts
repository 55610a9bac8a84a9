// Golden tests of the Markdown report (fixtures under test/fixtures/report/) plus the inline text helpers.

import { describe, expect, test } from "bun:test";
import { MAX_DURATION_SAMPLES_PER_TOOL } from "../src/report/duration-stats.ts";
import { formatInstant, formatMs, renderCode, renderText, renderTimeOfDay } from "../src/report/markdown-text.ts";
import { readEventsText } from "../src/report/read-events.ts";
import { MAX_TABLE_ROWS, renderReport } from "../src/report/render-markdown.ts";
import { createReportState, foldEvent, type ReportState } from "../src/report/report-state.ts";
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

/** Renders with Bun's GFM renderer: no HTML leaks through, every table row has 7 cells, each numbered section is one list. */
function expectWellFormed(markdown: string): void {
  const html = Bun.markdown.html(markdown, { tables: true });
  expect(html).not.toMatch(/<(script|img|b)\b/);
  for (const row of html.match(/<tr>.*?<\/tr>/g) ?? []) expect(row.match(/<t[hd][ >]/g)).toHaveLength(7);
  const numberedSections = (markdown.match(/^### (Errored calls|Slow calls|Annotations)/gm) ?? []).length;
  expect((html.match(/<ol[ >]/g) ?? []).length).toBe(numberedSections);
  expect((html.match(/<h[23]>/g) ?? []).length).toBe((markdown.match(/^#{2,3} /gm) ?? []).length);
}

describe("renderReport golden files", () => {
  for (const name of ["realistic", "empty", "odd-characters"]) {
    test(`${name}.jsonl renders as ${name}.md`, async () => {
      const { sessions } = readEventsText(await Bun.file(`${FIXTURES}/${name}.jsonl`).text());
      expect(sessions.size).toBe(1);
      const state = fold([...sessions.values()][0] ?? []);
      await expectGolden(name, renderReport(state, { slowCallMs: 1000, eventsLocation: `test/fixtures/report/${name}.jsonl` }));
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
    const events = Array.from({ length: MAX_TABLE_ROWS + 3 }, (_, i) => makeCall(i * 2, `c${i}`, `t${i}`, {}, { durationMs: 5 })).flat();
    const markdown = renderReport(fold(events), { slowCallMs: 1000 });
    expect(markdown.split("\n").filter((l) => /^\| t\d+ \|/.test(l))).toHaveLength(MAX_TABLE_ROWS);
    expect(markdown).toContain("…and 3 more tools (3 calls, 0 errors).");
  });

  test("droppedEvents from the caller wins when larger; now gives pending calls an age", () => {
    const start = makeEvent("tool_call_start", 1, { tool_name: "slow", params: {} }, { callId: "p", at: 0, meta: { "baton/dropped_events": 2 } });
    const state = fold([start]);
    const now = new Date(Date.parse(start.captured_at) + 4500);
    const markdown = renderReport(state, { slowCallMs: 1000, droppedEvents: 7, now });
    expect(markdown).toContain("- **Dropped events:** 7");
    expect(markdown).toContain("(4.5 s before this report)");
    expect(renderReport(state, { slowCallMs: 1000 })).toContain("- **Dropped events:** 2");
  });

  test("a tool with more timed calls than the sample cap says its percentiles are sampled", () => {
    const events = Array.from({ length: MAX_DURATION_SAMPLES_PER_TOOL + 1 }, (_, i) => makeCall(i * 2, `c${i}`, "busy", {}, { durationMs: i % 100 })).flat();
    const markdown = renderReport(fold(events), { slowCallMs: 1000 });
    expect(markdown).toContain("| busy | 10,001 | 0 | 0.0% |");
    expect(markdown).toContain("For tools with more than 10,000 timed calls, p50/p95 come from a uniform sample.");
  });

  test("the slow threshold is the caller's: the same state lists more calls under a lower one", () => {
    const state = fold([...makeCall(1, "a", "x", {}, { durationMs: 400 }), ...makeCall(3, "b", "x", {}, { durationMs: 1200 })]);
    expect(renderReport(state, { slowCallMs: 1000 })).toContain("### Slow calls (≥ 1,000 ms): 1");
    expect(renderReport(state, { slowCallMs: 300 })).toContain("### Slow calls (≥ 300 ms): 2");
    expect(renderReport(state, { slowCallMs: 5000 })).not.toContain("### Slow calls");
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
  ])("renderText(%j) is %j", (input, expected) => {
    expect(renderText(input, 100)).toBe(expected);
  });

  test.each([
    ["x", "`x`"],
    ["a`b", "``a`b``"],
    ["`a``", "``` `a`` ```"],
    ["multi\nline", "`multi line`"],
    ["   ", "_(empty)_"],
  ])("renderCode(%j) is %j", (input, expected) => {
    expect(renderCode(input)).toBe(expected);
  });

  test("renderCode cuts long text with an ellipsis", () => {
    expect(renderCode("abcdefghij", 5)).toBe("`abcd…`");
  });

  test.each([
    [0, "0 ms"],
    [999, "999 ms"],
    [1000, "1.0 s"],
    [4870, "4.9 s"],
    [61_000, "1 min 1 s"],
    [7_380_000, "2 h 3 min"],
    [-1, "—"],
  ])("formatMs(%p) is %p", (ms, expected) => {
    expect(formatMs(ms)).toBe(expected);
  });

  test("formatInstant and renderTimeOfDay", () => {
    expect(formatInstant("2026-08-10T22:09:47.509187Z")).toEqual({ date: "2026-08-10", clock: "22:09:47", zone: "UTC" });
    expect(formatInstant("2026-08-10T22:09:47+02:00")?.zone).toBe("+02:00");
    expect(formatInstant("yesterday")).toBeNull();
    expect(renderTimeOfDay("2026-08-10T22:09:47.5Z", "2026-08-10")).toBe("22:09:47");
    expect(renderTimeOfDay("2026-08-11T00:00:01Z", "2026-08-10")).toBe("2026-08-11 00:00:01");
    expect(renderTimeOfDay("not|a time", null)).toBe("not\\|a time");
  });
});
