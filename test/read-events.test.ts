// Unit tests of JSONL reading: line verdicts, malformed lines, session index and choice, byte-stream line splitting.

import { describe, expect, test } from "bun:test";
import {
  findLatestSession,
  listSessions,
  MAX_LINE_BYTES,
  matchSession,
  parseEventLine,
  splitLines,
  type ParsedLine,
} from "../src/report/read-events.ts";
import { readEventsText } from "./support/read-events-text.ts";
import { makeEvent } from "./fixtures/report/build-events.ts";

const line = (seq: number, session: string, at: number, client = "claude-code"): string =>
  JSON.stringify(
    makeEvent("tool_call_start", seq, { tool_name: "t", params: {} }, { session, at, client, callId: `c${seq}` }),
  );

async function* chunksOf(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === "string" ? new TextEncoder().encode(part) : part;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines) out.push(l);
  return out;
}

describe("parseEventLine", () => {
  test.each([
    ["", "blank"],
    ["   \t", "blank"],
    ["not json", "malformed"],
    ["[1,2]", "malformed"],
    ["null", "malformed"],
    ['"a string"', "malformed"],
    ['{"event_type":"annotation","session_id":"s"}', "malformed"],
    ['{"event_type":"annotation","session_id":"","sequence_number":1}', "malformed"],
    ['{"event_type":"annotation","session_id":"s","sequence_number":"1"}', "malformed"],
    ['{"event_type":7,"session_id":"s","sequence_number":1}', "malformed"],
    ['{"event_type":"annotation","session_id":"s","sequence_number":1}', "event"],
    ['\uFEFF{"event_type":"annotation","session_id":"s","sequence_number":0}', "event"],
    ['{"event_type":"annotation","session_id":"s","sequence_number":1}\r', "event"],
  ])("%j is %s", (text, kind) => {
    expect(parseEventLine(text).kind).toBe(kind as ParsedLine["kind"]);
  });
});

test("a call's params keep the numbers the proxy wrote (the report shows the inputs as sent, not JSON.parse's rounding)", () => {
  const params = '{"order":12345678901234567890,"price":1.10,"n":2}';
  const text = `{"event_type":"tool_call_start","session_id":"s","sequence_number":1,"payload":{"tool_name":"t","params":${params}}}`;
  const parsed = parseEventLine(text);
  if (parsed.kind !== "event") throw new Error("not an event");
  expect(JSON.stringify((parsed.event.payload as { params: unknown }).params)).toBe(params);
  expect(parsed.event.sequence_number).toBe(1); // the envelope's numbers stay numbers
});

describe("readEventsText", () => {
  test("groups by session, sorts by sequence number, skips and counts malformed lines", () => {
    const text = [
      line(2, "A", 20),
      "garbage {",
      line(1, "A", 10),
      "",
      line(1, "B", 5),
      '{"no":"fields"}',
      line(3, "A", 30),
      "",
    ].join("\n");
    const { index, sessions } = readEventsText(text);
    expect(index.malformedLines).toBe(2);
    expect(sessions.get("A")?.map((e) => e.sequence_number)).toEqual([1, 2, 3]);
    expect(sessions.get("B")).toHaveLength(1);
    const a = index.sessions.get("A");
    expect(a).toMatchObject({
      events: 3,
      calls: 3,
      client: "claude-code",
      firstAt: "2026-08-10T12:00:00.010000Z",
      lastAt: "2026-08-10T12:00:00.030000Z",
    });
  });

  test("equal sequence numbers keep their file order", () => {
    const first = JSON.stringify({ ...makeEvent("annotation", 5, { intent: "first" }), event_id: "x1" });
    const second = JSON.stringify({ ...makeEvent("annotation", 5, { intent: "second" }), event_id: "x2" });
    expect(
      readEventsText(`${first}\n${second}\n`)
        .sessions.get(makeEvent("annotation", 0, {}).session_id)
        ?.map((e) => e.event_id),
    ).toEqual(["x1", "x2"]);
  });

  test("an empty text has no sessions and no malformed lines", () => {
    const { index, sessions } = readEventsText("");
    expect(sessions.size).toBe(0);
    expect(index.malformedLines).toBe(0);
    expect(findLatestSession(index)).toBeUndefined();
  });
});

describe("session index", () => {
  const { index } = readEventsText(
    [
      line(1, "aaa-1", 50),
      line(1, "aaa-2", 90, "unknown"),
      line(1, "bbb", 70),
      line(2, "aaa-2", 95, "cursor"),
      line(3, "aaa-2", 99, "unknown"),
    ].join("\n"),
  );

  test("lists sessions by when each was last written (its latest line); the latest is the last one", () => {
    expect(listSessions(index).map((s) => s.sessionId)).toEqual(["aaa-1", "bbb", "aaa-2"]);
    expect(findLatestSession(index)?.sessionId).toBe("aaa-2");
  });

  test("the client is the latest name other than unknown", () => {
    expect(index.sessions.get("aaa-2")?.client).toBe("cursor");
  });

  test.each([
    ["bbb", "found", ["bbb"]],
    ["b", "found", ["bbb"]],
    ["aaa-1", "found", ["aaa-1"]],
    ["aaa", "ambiguous", ["aaa-1", "aaa-2"]],
    ["zzz", "none", []],
    ["", "none", []],
  ])("matchSession(%j) is %s", (query, kind, ids) => {
    const match = matchSession(index, query);
    expect(match.kind).toBe(kind as typeof match.kind);
    const found = match.kind === "found" ? [match.session] : match.kind === "ambiguous" ? match.candidates : [];
    expect(found.map((s) => s.sessionId)).toEqual(ids);
  });

  test("a full id wins even when it prefixes another id", () => {
    const { index: nested } = readEventsText([line(1, "abc", 1), line(1, "abcd", 2)].join("\n"));
    expect(matchSession(nested, "abc")).toMatchObject({ kind: "found", session: { sessionId: "abc" } });
  });
});

describe("splitLines", () => {
  test("splits across chunks, drops \\r, keeps a last line without newline", async () => {
    expect(await collect(splitLines(chunksOf("a\r\nb", "c\n", "\n", "d")))).toEqual(["a", "bc", "", "d"]);
  });

  test("a multi-byte character split between chunks is decoded whole", async () => {
    const bytes = new TextEncoder().encode("é🔧\n");
    expect(await collect(splitLines(chunksOf(bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4))))).toEqual([
      "é🔧",
    ]);
  });

  test("no chunks, or a final newline, yield no extra empty line", async () => {
    expect(await collect(splitLines(chunksOf()))).toEqual([]);
    expect(await collect(splitLines(chunksOf("x\n")))).toEqual(["x"]);
  });
});

describe("splitLines on a line with no end in sight (a file's zero-filled tail after a crash, binary garbage)", () => {
  test(`a line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB is not held: it comes out cut and marked (malformed, never an event), and the lines after it whole`, async () => {
    // Every chunk of such a line was held until its newline, then copied twice: 200 MB of NULs took 718 MB of RSS.
    const zeros = new Uint8Array(1024 * 1024);
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('{"event_type":"tool_call_start","session_id":"s","sequence_number":1}');
      for (let i = 0; i < MAX_LINE_BYTES / zeros.length + 1; i++) yield zeros;
      yield new TextEncoder().encode('\n{"ok":1}\n');
    };
    const lines = await collect(splitLines(chunks()));
    expect(lines.length).toBe(2);
    expect(lines[0]?.length).toBeLessThanOrEqual(4096);
    expect(lines[0]?.startsWith('{"event_type":"tool_call_start"')).toBe(true);
    expect(parseEventLine(lines[0] ?? "").kind).toBe("malformed");
    expect(lines[1]).toBe('{"ok":1}');
  });

  test("a line of exactly the bound is read whole, one byte more is cut, in one chunk or across several; the next line is whole", async () => {
    const exact = `{"x":"${"é".repeat(4)}"}`; // 16 bytes
    expect(await collect(splitLines(chunksOf(exact, "\nok\n"), undefined, 16))).toEqual([exact, "ok"]);
    expect(await collect(splitLines(chunksOf(exact.slice(0, 5), exact.slice(5), "\nok"), undefined, 16))).toEqual([
      exact,
      "ok",
    ]);
    const over = `${exact} `;
    const cut = await collect(splitLines(chunksOf(`${over}\nok\n`), undefined, 16));
    expect(cut).toEqual([`${exact}…`, "ok"]);
    expect(parseEventLine(cut[0] ?? "").kind).toBe("malformed");
    const ending = { unterminated: false };
    expect(await collect(splitLines(chunksOf("ok\n", over.slice(0, 9), over.slice(9)), ending, 16))).toEqual([
      "ok",
      `${exact}…`,
    ]);
    expect(ending.unterminated).toBe(true);
  });
});
