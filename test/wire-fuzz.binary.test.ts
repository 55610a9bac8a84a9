// Black-box, seeded: a pipelined mix of call spellings and answer shapes, written in random pieces, must cross the compiled proxy byte for byte both ways, with one start and one outcome event per call that say what a full parse of the lines says.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { FIXTURES, tempDir } from "./support/proxy-process.ts";
import { WireClient } from "./support/wire-client.ts";
import { seededRandom } from "./support/seeded-random.ts";

const CALLS = 300;
/** The answer shapes mirror-server.ts picks from (the fixture is a script: it cannot be imported). */
const ANSWER_SHAPES = 12;
/** Strings sent as arguments (and echoed back by shape 0): escapes, non-ASCII, a separator JSON allows, personal data. */
const STRINGS = [
  "plain",
  "ünïcödé",
  "tab\there",
  'quote"q',
  "emoji 😀",
  "a@b.co",
  "",
  "x".repeat(300),
  "\u2028sep",
  "back\\slash",
];

/** Call lines spelled five ways: key order, spaces and `_meta`, an escaped tool name, a CRLF ending. */
function callLine(id: string, n: number, v: number, s: string, form: number): string {
  const args = `{"v":${v},"s":${s}}`;
  switch (form) {
    case 0:
      return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"t","arguments":${args}}}`;
    case 1:
      return `{"id":${id},"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{"s":${s},"v":${v}},"name":"t"}}`;
    case 2:
      return ` { "jsonrpc":"2.0", "id": ${id}, "method":"tools/call", "params": { "name":"t", "arguments": {"v": ${v}, "s": ${s}}, "_meta": {"progressToken": ${n}} } } `;
    case 3:
      return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"\\u0074","arguments":${args}}}`;
    default:
      return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"t","arguments":${args}}}\r`;
  }
}

async function run(seed: number): Promise<void> {
  const next = seededRandom(seed);
  const dir = tempDir();
  const mirrorLog = join(dir, "mirror.jsonl");
  const eventsPath = join(dir, "events.jsonl");
  const client = await WireClient.start([process.execPath, join(FIXTURES, "mirror-server.ts")], {
    env: { MIRROR_LOG: mirrorLog, BATON_EVENT_SINK: `file://${eventsPath}` },
  });
  const calls: string[] = [];
  const requests: { v: number; s: string }[] = [];
  for (let n = 1; n <= CALLS; n++) {
    const id = next() < 0.3 ? JSON.stringify(`s-${n}`) : String(n);
    const v = Math.floor(next() * ANSWER_SHAPES);
    const s = STRINGS[Math.floor(next() * STRINGS.length)] as string;
    requests.push({ v, s });
    calls.push(callLine(id, n, v, JSON.stringify(s), Math.floor(next() * 5)));
  }
  await client.write(
    `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}\n`,
  );
  await client.until(() => (client.lines.length >= 1 ? true : undefined), "the initialize answer");
  const rest = Buffer.from(
    `{"jsonrpc":"2.0","method":"notifications/initialized"}\n{"jsonrpc":"2.0","id":"list","method":"tools/list"}\n${calls.join("\n")}\n`,
  );
  // Random pieces, mostly small, a few up to 4 000 bytes: lines split anywhere, several per piece.
  for (let at = 0; at < rest.length; ) {
    const size = Math.max(1, Math.floor(next() * next() * 4000));
    await client.write(rest.subarray(at, at + size));
    at += size;
  }
  await client.until(() => (client.lines.length >= CALLS + 2 ? true : undefined), `${CALLS + 2} answers`, 30_000);
  expect(await client.close()).toBe(0);

  const mirror = readFileSync(mirrorLog, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { r?: string; w?: string });
  const serverRead = new Set(mirror.flatMap((e) => (e.r === undefined ? [] : [e.r])));
  const serverWrote = mirror.flatMap((e) => (e.w === undefined ? [] : [e.w]));
  const received = client.lines.map((l) => l.toString("utf8"));
  const receivedSet = new Set(received);
  // Byte for byte both ways (the server's reader strips only the newline, so a CRLF line keeps its \r).
  expect(calls.filter((line) => !serverRead.has(line))).toEqual([]);
  const answers = serverWrote.filter((line) => !line.includes('"id":0,') && !line.includes('"id":"list"'));
  expect(answers.length).toBe(CALLS);
  expect(answers.filter((line) => !receivedSet.has(line))).toEqual([]);
  expect(received.length).toBe(CALLS + 2); // nothing of the proxy's own on the wire

  // Events: one start and one outcome per call, in the order the calls came (call ids c1..cN).
  const events = readValidatedEvents(eventsPath);
  checkCallPairs(events);
  const byCall = new Map<string, Record<string, any>[]>();
  for (const event of events) {
    const id = event.runtime_meta?.["baton/call_id"];
    if (typeof id === "string") byCall.set(id, [...(byCall.get(id) ?? []), event]);
  }
  expect(byCall.size).toBe(CALLS);
  const answerById = new Map(answers.map((line) => [JSON.stringify(JSON.parse(line).id), JSON.parse(line)]));
  requests.forEach(({ v, s }, i) => {
    const [start, outcome] = byCall.get(`c${i + 1}`) ?? [];
    expect(start?.event_type).toBe("tool_call_start");
    expect(start?.payload.tool_name).toBe("t");
    if (!s.includes("@")) expect(start?.payload.params).toEqual({ v, s });
    const sent = JSON.parse(calls[i] as string);
    const parsed = answerById.get(JSON.stringify(sent.id)) as Record<string, any>;
    // What a full parse of the answer says, before the privacy stage (shapes 5 and 11 are cut or redacted).
    if (parsed.error !== undefined) {
      expect(outcome?.event_type).toBe("tool_call_error");
      expect(outcome?.payload.error_type).toBe(`jsonrpc_${parsed.error.code}`);
    } else if (parsed.result.isError === true) {
      expect(outcome?.event_type).toBe("tool_call_error");
      expect(outcome?.payload.error_type).toBe("tool_error");
      expect(outcome?.payload.error_body).toBe("bad");
    } else if (v === 5) {
      expect(outcome?.runtime_meta["baton/truncated"]).toBe(1);
    } else if (v === 11) {
      expect(outcome?.payload.result).toEqual([{ type: "text", text: "mail [email]" }]);
    } else if (!(v === 0 && s.includes("@"))) {
      expect(outcome?.event_type).toBe("tool_call_end");
      const content = parsed.result.content;
      expect(outcome?.payload.result).toEqual(Array.isArray(content) ? content : parsed.result);
    }
  });
}

describe("seeded wire fuzz through the binary", () => {
  for (const seed of [1, 2, 3]) {
    test(
      `seed ${seed}: ${CALLS} pipelined calls in random pieces, both ways byte for byte, events as a full parse reads them`,
      () => run(seed),
      60_000,
    );
  }
});
