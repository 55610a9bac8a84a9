// Unit: serve's counting wrapper around each sink (for /metrics) keeps everything the dispatcher reads from the sink, and counts the sink's own losses as dropped.

import { describe, expect, test } from "bun:test";
import { countingSinks, type SinkCounts } from "../src/serve/counting-sink.ts";
import { PartialFlushError, type Sink, type SinkDrop } from "../src/telemetry/sinks/sink.ts";
import { LocalError } from "../src/errors.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";

function backgroundSink(): Sink & { lose(count: number): void } {
  let drops: SinkDrop[] = [];
  return {
    label: "s3://events/x",
    usesEvent: false,
    usesLine: true,
    batchEvents: 64,
    write: () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
    takeDrops() {
      const out = drops;
      drops = [];
      return out;
    },
    lose(count) {
      drops.push({ count, kind: "upload failed", detail: "HTTP 500" });
    },
  };
}

describe("countingSinks", () => {
  test("the sink's own losses (an S3 upload given up after its retries) reach the dispatcher and count as dropped", async () => {
    const inner = backgroundSink();
    const counts: SinkCounts[] = [];
    const [sink] = countingSinks([inner], counts) as [Sink];
    for (let i = 0; i < 3; i++) sink.write({} as BatonEvent, "{}");
    await sink.flush();
    expect(counts[0]).toMatchObject({ emitted: 3, failed: 0 });
    inner.lose(3);
    expect(sink.takeDrops?.()).toEqual([{ count: 3, kind: "upload failed", detail: "HTTP 500" }]);
    expect(sink.takeDrops?.()).toEqual([]);
    // Counters only grow: the handed-over events stay emitted, the loss is added to dropped.
    expect(counts[0]).toMatchObject({ emitted: 3, failed: 3 });
  });

  test("a flush cut short (a file's size limit) counts as dropped only the events it lost; those written whole count as emitted", async () => {
    const inner = backgroundSink();
    let cut = false;
    inner.flush = async () => {
      if (cut) throw new PartialFlushError("file:///x: cannot write (EFBIG); 1 event(s) dropped", 1);
    };
    const counts: SinkCounts[] = [];
    const [sink] = countingSinks([inner], counts) as [Sink];
    for (let i = 0; i < 3; i++) sink.write({} as BatonEvent, "{}");
    cut = true;
    await expect(sink.flush()).rejects.toThrow("EFBIG");
    expect(counts[0]).toMatchObject({ emitted: 2, failed: 1 });
    for (let i = 0; i < 2; i++) sink.write({} as BatonEvent, "{}");
    inner.flush = async () => Promise.reject(new LocalError("E_SINK", "file:///x: not open"));
    await expect(sink.flush()).rejects.toThrow("not open");
    expect(counts[0]).toMatchObject({ emitted: 2, failed: 3 });
  });

  test("what the dispatcher reads from a sink is kept: which of event/line it uses, its batch size", () => {
    const [sink] = countingSinks([backgroundSink()], []) as [Sink];
    expect([sink.usesEvent, sink.usesLine, sink.batchEvents]).toEqual([false, true, 64]);
  });
});
