import { describe, expect, test } from "bun:test";
import { parseSseEvent, renderSseEvent, SseSplitter, type SseEvent } from "../src/serve/sse.ts";
import { relaySse } from "../src/serve/sse-relay.ts";

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

  test("renderSseEvent round-trips through the parser", () => {
    const rendered = renderSseEvent({ id: "42", event: "message", data: '{"x":"a\\nb"}' });
    const { events } = split([rendered]);
    expect(events[0]).toMatchObject({ id: "42", event: "message", data: '{"x":"a\\nb"}' });
  });
});

describe("relaySse", () => {
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
