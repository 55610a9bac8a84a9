import { describe, expect, test } from "bun:test";
import { parseSseEvent, renderSseEvent, SseSplitter, type SseEvent } from "../src/wire/sse.ts";
import { relaySse } from "../src/serve/sse-relay.ts";
import { seededRandom } from "./support/seeded-random.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function split(chunks: string[]): { events: SseEvent[]; rest: string | undefined } {
  const splitter = new SseSplitter();
  const events: SseEvent[] = [];
  for (const chunk of chunks) splitter.push(bytes(chunk), events);
  const rest = splitter.rest();
  return { events, rest: rest === undefined ? undefined : text(rest) };
}

describe("SseSplitter", () => {
  const stream = 'event: message\nid: 7\ndata: {"a":1}\n\n: keep-alive\n\nid: 8\ndata: line one\ndata: line two\n\n';

  test.each([1, 2, 3, 7, 1000])("events and their raw bytes survive any chunking (chunk size %p)", (size) => {
    const chunks: string[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
    const { events, rest } = split(chunks);
    expect(events.map((e) => text(e.raw)).join("")).toBe(stream);
    expect(rest).toBeUndefined();
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ["7", "message", '{"a":1}'],
      [undefined, undefined, undefined],
      ["8", undefined, "line one\nline two"],
    ]);
  });

  test("CRLF and lone CR line ends; an unfinished tail is kept as rest", () => {
    const { events, rest } = split(["data: a\r\n\r\ndata: b\r\rdata: c\n", "data: partial"]);
    expect(events.map((e) => e.data)).toEqual(["a", "b"]);
    expect(text(events[0]!.raw)).toBe("data: a\r\n\r\n");
    expect(rest).toBe("data: c\ndata: partial");
  });

  test("field parsing follows the HTML spec (one space dropped, colon-less field, retry)", () => {
    const event = parseSseEvent(bytes("data:  two spaces\ndata\nretry: 3000\nid:\n\n"));
    expect(event.data).toBe(" two spaces\n");
    expect(event.retry).toBe("3000");
    expect(event.id).toBe("");
  });

  test("the byte parser reads every event as the text reading of the spec does (data as text and as bytes)", () => {
    const samples = [
      'event: message\nid: 7\ndata: {"a":"é 漢字 🎉"}\n\n',
      "data: one\ndata:two\ndata\n: comment\nretry: 10\nid\n\n",
      "event:custom\nunknown: field\ndata:  lead\n\n",
      ": only a comment\n\n",
      "id: 5\nid: 6\n\n",
      "data: x:y: z\n\n",
      "id: 1\nid: a\0b\nretry: 20\nretry: soon\ndata: x\n\n",
      "data: a\r\ndata: b\r\n\r\n",
      "data: a\rdata: b\r\r",
      "data: tail without blank line",
    ];
    for (const sample of samples) {
      const event = parseSseEvent(bytes(sample));
      const expected = specReading(sample);
      expect([event.id, event.event, event.retry, event.data]).toEqual(expected);
      expect(event.dataBytes === undefined ? undefined : text(event.dataBytes)).toBe(expected[3]);
      expect(text(event.raw)).toBe(sample);
    }
  });

  test("a stream switching between LF and CR line ends mid-event gives the same events however it is chunked", () => {
    const chunks = ["data: a\n", "\rdata: b\r", "\n\r\ndata: c\n", "\n: x\r", "\r"];
    const whole = split([chunks.join("")]);
    const byByte = split([...chunks.join("")]);
    const chunked = split(chunks);
    for (const run of [byByte, chunked]) {
      // The LF of a CRLF blank line that arrives in the next chunk starts the next event's bytes: relayed all the same.
      expect(run.events.map((e) => text(e.raw)).join("")).toBe(whole.events.map((e) => text(e.raw)).join(""));
      expect(run.events.map((e) => [e.id, e.event, e.data])).toEqual(whole.events.map((e) => [e.id, e.event, e.data]));
    }
    expect(whole.events.map((e) => e.data)).toEqual(["a", "b", "c", undefined]);
  });

  test("a byte order mark at the stream's start is relayed but not read as part of the first field", () => {
    const { events } = split(["\uFEFFid: 1\ndata: a\n\n", "\uFEFFdata: b\n\n"]);
    expect(events[0]!.raw).toEqual(bytes("\uFEFFid: 1\ndata: a\n\n")); // bytes: a TextDecoder would drop the mark
    expect([events[0]!.id, events[0]!.data]).toEqual(["1", "a"]);
    expect(events[1]!.data).toBeUndefined(); // later, it is text: a field named "\uFEFFdata"
  });

  test("renderSseEvent round-trips through the parser", () => {
    const rendered = renderSseEvent({ id: "42", event: "message", data: '{"x":"a\\nb"}' });
    const { events } = split([rendered]);
    expect(events[0]).toMatchObject({ id: "42", event: "message", data: '{"x":"a\\nb"}' });
  });
});

/** The HTML spec's reading of one event (id, event, retry, data), from its text: any line end, one space dropped, ids with NUL and retry values other than digits ignored. */
function specReading(sample: string): (string | undefined)[] {
  let id: string | undefined;
  let event: string | undefined;
  let retry: string | undefined;
  let data: string[] | undefined;
  for (const line of sample.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") (data ??= []).push(value);
    else if (field === "id" && !value.includes("\0")) id = value;
    else if (field === "event") event = value;
    else if (field === "retry" && /^\d+$/.test(value)) retry = value;
  }
  return [id, event, retry, data?.join("\n")];
}

describe("seeded streams: any events, line ends and chunking", () => {
  const values = ["", " lead", "x:y", "é", "漢字 🎉", '{"jsonrpc":"2.0","method":"m"}', "a b c", ":", "1500", "a\0b"];
  const names = ["data", "data", "data", "id", "event", "retry", "unknown", "x", ""];
  test.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "seed %p: raw bytes relay whole and every event reads as the spec reads it",
    (seed) => {
      const next = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const ends = ["\n", "\n", "\n", "\r\n", "\r"];
      let stream = "";
      for (let e = 0; e < 40; e++) {
        const end = pick(ends); // one line end per event: "\r" then "\n" would be one CRLF, not two ends
        for (let f = 1 + Math.floor(next() * 4); f > 0; f--) {
          const name = pick(names);
          stream += name === "" ? `: comment${end}` : next() < 0.15 ? `${name}${end}` : `${name}:${pick(values)}${end}`;
        }
        stream += end;
      }
      const all = bytes(stream);
      const splitter = new SseSplitter();
      const events: SseEvent[] = [];
      for (let at = 0; at < all.length; ) {
        const size = 1 + Math.floor(next() * (next() < 0.5 ? 8 : 300));
        splitter.push(all.subarray(at, at + size), events);
        at += size;
      }
      expect(splitter.rest()).toBeUndefined();
      expect(events.map((e) => text(e.raw)).join("")).toBe(stream);
      expect(events).toHaveLength(40); // every field line has text: only the line after each event's fields is blank
      for (const event of events) {
        const reading = specReading(text(event.raw));
        expect([event.id, event.event, event.retry, event.data]).toEqual(reading);
        expect(event.dataBytes === undefined ? undefined : text(event.dataBytes)).toBe(reading[3]);
      }
    },
  );
});

describe("relaySse", () => {
  test("the events one upstream read completes go to the client as one chunk, byte for byte", async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\nda"));
        controller.enqueue(bytes("ta: c\n\n"));
        controller.close();
      },
    });
    const reader = relaySse(source, {
      rewrite: (e) => (e.id === "2" ? bytes("id: 2\ndata: B\n\n") : undefined),
      finished: () => undefined,
    }).getReader();
    expect(text((await reader.read()).value!)).toBe("id: 1\ndata: a\n\nid: 2\ndata: B\n\n");
    expect(text((await reader.read()).value!)).toBe("id: 3\ndata: c\n\n");
    expect((await reader.read()).done).toBe(true);
  });

  test("relays each event as soon as it is complete, before the upstream ends", async () => {
    let push!: (chunk: string) => void;
    let end!: () => void;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (chunk) => controller.enqueue(bytes(chunk));
        end = () => controller.close();
      },
    });
    const outcomes: string[] = [];
    const relayed = relaySse(source, {
      rewrite: (e) => (e.id === "2" ? bytes("id: 2\ndata: REWRITTEN\n\n") : undefined),
      finished: (o) => void outcomes.push(o),
    });
    const reader = relayed.getReader();
    push("id: 1\ndata: first\n\nid: 2\nda");
    expect(text((await reader.read()).value!)).toBe("id: 1\ndata: first\n\n");
    push("ta: second\n\n");
    expect(text((await reader.read()).value!)).toBe("id: 2\ndata: REWRITTEN\n\n");
    end();
    expect((await reader.read()).done).toBe(true);
    expect(outcomes).toEqual(["complete"]);
  });

  test("a stream quiet past HEAD_COMMIT_MS starts with one comment (so the head goes out); a byte order mark after it is dropped", async () => {
    let push!: (chunk: string) => void;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (chunk) => controller.enqueue(bytes(chunk));
      },
    });
    const reader = relaySse(source, { rewrite: () => undefined, finished: () => undefined }).getReader();
    // Nothing from the upstream: the first read resolves only through the timer.
    expect(text((await reader.read()).value!)).toBe(":\n\n");
    push("\ufeffid: 1\ndata: a\n\n");
    // Compared as bytes: TextDecoder would hide a byte order mark.
    expect([...(await reader.read()).value!]).toEqual([...bytes("id: 1\ndata: a\n\n")]);
    push("id: 2\ndata: b\n\n");
    expect(text((await reader.read()).value!)).toBe("id: 2\ndata: b\n\n");
    await reader.cancel();
  });

  test("a throwing rewrite forwards the event unchanged (fail-open); cancel reaches the upstream", async () => {
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(bytes("data: x\n\n"));
      },
      cancel(reason) {
        cancelled = reason ?? "cancelled";
      },
    });
    const outcomes: string[] = [];
    const reader = relaySse(source, {
      rewrite: () => {
        throw new Error("bug");
      },
      finished: (o) => void outcomes.push(o),
    }).getReader();
    expect(text((await reader.read()).value!)).toBe("data: x\n\n");
    await reader.cancel("client went away");
    expect(cancelled).toBe("client went away");
    expect(outcomes).toEqual(["cancelled"]);
  });

  test("a broken upstream ends the client's stream cleanly after the bytes finished() returns", async () => {
    let step = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (step++ === 0) controller.enqueue(bytes("data: one\n\n"));
        else controller.error(new Error("upstream died"));
      },
    });
    const seen: string[] = [];
    const relayed = relaySse(source, {
      rewrite: () => undefined,
      finished: (o, e) => (seen.push(`${o}: ${String(e)}`), bytes("data: farewell\n\n")),
    });
    expect(await new Response(relayed).text()).toBe("data: one\n\ndata: farewell\n\n");
    expect(seen).toEqual(["error: Error: upstream died"]);
  });
});
