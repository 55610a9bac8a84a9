// Unit tests for src/telemetry/sinks/line-batch-sink.ts: the batch text sinks share, and the shared sink shape (buffer, deliver once per flush, close once).

import { describe, expect, test } from "bun:test";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createFileSink } from "../src/telemetry/sinks/file-sink.ts";
import {
  batchText,
  createLineBatchSink,
  joinLines,
  LOCAL_WRITE_BATCH_EVENTS,
} from "../src/telemetry/sinks/line-batch-sink.ts";
import { createStderrSink } from "../src/telemetry/sinks/stderr-sink.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const event = {} as BatonEvent; // line sinks read the pre-serialised line only
const lines = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => JSON.stringify({ n: from + i, text: "naïve ✓" }));

describe("joinLines", () => {
  test("every line ends in a newline, the input is left as it was", () => {
    const input = ['{"a":1}', "", '{"c":"✓"}'];
    expect(joinLines(input)).toBe('{"a":1}\n\n{"c":"✓"}\n');
    expect(input).toEqual(['{"a":1}', "", '{"c":"✓"}']);
    expect(joinLines(["x"])).toBe("x\n");
  });
});

describe("batchText", () => {
  test("one line per entry, each ending in a newline", () => {
    expect(batchText(['{"a":1}', '{"b":2}'])).toBe('{"a":1}\n{"b":2}\n');
    expect(batchText(['{"c":3}'])).toBe('{"c":3}\n');
  });

  test("a second sink flushing the same lines in the same turn gets the same text", () => {
    const batch = lines(0, 512);
    const first = batchText([...batch]);
    expect(batchText([...batch])).toBe(first);
    expect(first).toBe(`${batch.join("\n")}\n`);
  });

  test("any other batch in the same turn gets its own text: one line changed, shorter, longer, reordered", () => {
    const batch = lines(0, 8);
    batchText(batch);
    const changed = [...batch];
    changed[5] = '{"n":"other"}';
    expect(batchText(changed)).toBe(`${changed.join("\n")}\n`);
    expect(batchText(batch.slice(0, 7))).toBe(`${batch.slice(0, 7).join("\n")}\n`);
    expect(batchText([...batch, '{"n":8}'])).toBe(`${[...batch, '{"n":8}'].join("\n")}\n`);
    const reversed = [...batch].reverse();
    expect(batchText(reversed)).toBe(`${reversed.join("\n")}\n`);
  });

  test("equal lines that are different strings still give the right text", () => {
    const batch = lines(0, 4);
    batchText(batch);
    const copies = batch.map((l) => JSON.stringify(JSON.parse(l)));
    expect(batchText(copies)).toBe(`${batch.join("\n")}\n`);
  });

  test("a later turn starts afresh", async () => {
    const batch = lines(0, 3);
    batchText(batch);
    await Promise.resolve();
    const next = lines(3, 6);
    expect(batchText(next)).toBe(`${next.join("\n")}\n`);
  });
});

describe("createLineBatchSink", () => {
  test("a batch size given is the sink's batchEvents; the local-write sinks (stderr, file) ask for small batches", () => {
    expect(createLineBatchSink("x", async () => {}).batchEvents).toBeUndefined(); // the dispatcher's own
    expect(createLineBatchSink("x", async () => {}, undefined, 7).batchEvents).toBe(7);
    const logger = createMemoryLogger();
    expect(createStderrSink({ write: () => undefined, logger }).batchEvents).toBe(LOCAL_WRITE_BATCH_EVENTS);
    // Opens lazily on the first flush: nothing is created here.
    expect(createFileSink({ path: "/nonexistent-dir/events.jsonl", logger }).batchEvents).toBe(
      LOCAL_WRITE_BATCH_EVENTS,
    );
    expect(LOCAL_WRITE_BATCH_EVENTS).toBeLessThan(512);
  });

  test("two sinks flushed back to back deliver the same text; each sink its own lines", async () => {
    const got: string[][] = [[], []];
    const sinks = got.map((into) =>
      createLineBatchSink("test:", async (batch) => {
        into.push(batchText(batch));
      }),
    );
    const batch = lines(0, 3);
    for (const sink of sinks) for (const line of batch) sink.write(event, line);
    await Promise.all(sinks.map((sink) => sink.flush()));
    (sinks[1] ?? sinks[0])?.write(event, '{"only":"second"}');
    await Promise.all(sinks.map((sink) => sink.flush()));
    expect(got[0]).toEqual([`${batch.join("\n")}\n`]);
    expect(got[1]).toEqual([`${batch.join("\n")}\n`, '{"only":"second"}\n']);
  });

  test("close flushes once, releases once, and later writes are ignored", async () => {
    const delivered: string[][] = [];
    let released = 0;
    const sink = createLineBatchSink(
      "test:",
      async (batch) => void delivered.push([...batch]),
      () => void released++,
    );
    sink.write(event, "a");
    await sink.close();
    await sink.close();
    sink.write(event, "b");
    await sink.flush();
    expect(delivered).toEqual([["a"]]);
    expect(released).toBe(1);
  });
});
