import { describe, expect, test } from "bun:test";
import { MAX_LINE_BYTES, type LineEdges } from "../src/wire/framing.ts";
import { parseSseEvent, renderSseEvent, sseDataEdges, type SseEvent } from "../src/wire/sse.ts";
import { SseSplitter, type SseOverflow } from "../src/wire/sse-splitter.ts";
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

  test.each([
    ["while it waits for the upstream", false],
    ["before it starts (a stream registered after the drain's deadline)", true],
  ])(
    "a cut %s ends the client's stream cleanly after the bytes finished() returns, and cancels the upstream",
    async (_, early) => {
      let cancelled = false;
      // One event, then an upstream that stays open and silent.
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes("data: one\n\n"));
        },
        cancel() {
          cancelled = true;
        },
      });
      const cut = new AbortController();
      if (early) cut.abort();
      const outcomes: string[] = [];
      const reader = relaySse(source, {
        rewrite: () => undefined,
        cut: cut.signal,
        finished: (outcome) => {
          outcomes.push(outcome);
          return bytes("data: last\n\n");
        },
      }).getReader();
      let got = "";
      if (!early) {
        got += text((await reader.read()).value!);
        cut.abort();
      }
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        got += text(value);
      }
      expect(got).toEndWith("data: last\n\n");
      expect(outcomes).toEqual(["error"]);
      expect(cancelled).toBe(true);
    },
  );

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

describe("an SSE event over the inspection cap", () => {
  const MiB = 1024 * 1024;
  const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
  const head = bytes(
    'event: message\nid: 9\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"',
  );
  const tail = bytes('"}]}}\n\n');
  const after = bytes('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n');

  test("goes through the relay as it arrives, unchanged, with a bounded part of it held; its edges reach the hook, the next event is read as before", async () => {
    const pieces = 384; // 96 MiB
    let produced = 0;
    let sent = -1;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const piece =
            sent === -1
              ? head
              : sent < pieces
                ? PIECE
                : sent === pieces
                  ? tail
                  : sent === pieces + 1
                    ? after
                    : undefined;
          sent++;
          if (piece === undefined) return controller.close();
          produced += piece.length;
          controller.enqueue(piece);
        },
      },
      { highWaterMark: 0 },
    );
    const longEvents: LineEdges[] = [];
    const rewritten: (string | undefined)[] = [];
    const relayed = relaySse(source, {
      rewrite: (event) => void rewritten.push(event.data),
      finished: () => undefined,
      longEvent: (edges) => void longEvents.push(edges),
    });
    let received = 0;
    let held = 0;
    let xs = 0;
    let last = "";
    for await (const chunk of relayed) {
      held = Math.max(held, produced - received);
      received += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x78) xs++;
      last = (last + text(chunk.subarray(Math.max(0, chunk.length - 200)))).slice(-200);
    }
    const size = head.length + pieces * PIECE.length + tail.length;
    expect(received).toBe(size + after.length);
    expect(xs).toBe(pieces * PIECE.length + 2);
    expect(last).toEndWith(text(tail) + text(after));
    // The cap and the relay's reads, never the whole event.
    expect(held).toBeLessThan(MAX_LINE_BYTES + 2 * MiB);
    expect(longEvents.map((edges) => edges.size)).toEqual([size]);
    expect(rewritten).toEqual([text(after).slice(21, -2)]);
    const data = sseDataEdges(longEvents[0] as LineEdges);
    expect(text(data?.head as Uint8Array).slice(0, 33)).toBe('{"jsonrpc":"2.0","id":1,"result":');
    expect(text(data?.tail as Uint8Array)).toEndWith('xx"}]}}');
  });

  test("the splitter keeps events up to its cap whole; a longer one's pieces join to its bytes, its edges its first and last", () => {
    const stream = 'data: {"a":1}\n\nid: 4\ndata: ' + "y".repeat(100) + "\n\ndata: 2\n\n";
    // Chunks under the cap, as socket reads are (an event inside one chunk is already held: it is handed out whole, as a stdio line is).
    for (const size of [1, 7, 30]) {
      const splitter = new SseSplitter(50);
      const out: (SseEvent | SseOverflow)[] = [];
      for (let i = 0; i < stream.length; i += size) splitter.push(bytes(stream.slice(i, i + size)), out);
      expect(out.map((item) => text(item.raw)).join("")).toBe(stream);
      const whole = out.filter((item): item is SseEvent => !("overflow" in item)).map((event) => event.data);
      expect(whole).toEqual(['{"a":1}', "2"]);
      const edges = out.flatMap((item) => ("overflow" in item && item.edges !== undefined ? [item.edges] : []));
      expect(edges.map((e) => [e.size, text(e.head).slice(0, 12), text(e.tail).slice(-4)])).toEqual([
        [114, "id: 4\ndata: ", "yy\n\n"],
      ]);
      expect(text(sseDataEdges(edges[0] as LineEdges)?.head as Uint8Array).slice(0, 3)).toBe("yyy");
    }
  });

  test("the data's edges: past the fields before it; none for another event type", () => {
    const edges = (head: string, tail: string) => ({ size: 1, head: bytes(head), tail: bytes(tail) });
    expect(text(sseDataEdges(edges("event: message\r\nid: 1\r\ndata:{x", "x}\r\n\r\n"))?.head as Uint8Array)).toBe(
      "{x",
    );
    expect(text(sseDataEdges(edges("data: {x", "x}\n\n"))?.tail as Uint8Array)).toBe("x}");
    expect(sseDataEdges(edges("event: other\ndata: {x", "x}\n\n"))).toBeUndefined();
    expect(sseDataEdges(edges("id: 1", "x}\n\n"))).toBeUndefined();
  });
});
