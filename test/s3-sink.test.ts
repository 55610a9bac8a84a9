// The S3 sink: key layout, per-session batching by time and size, retries with backoff then counted drops, the memory bound, close; and a real upload through Bun's S3 client.

import { afterEach, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { createDispatcher } from "../src/telemetry/dispatcher.ts";
import { SYSTEM_CLOCK } from "../src/telemetry/clock.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { buildObjectKey, encodeSegment, listingPrefix, parseObjectKey } from "../src/telemetry/sinks/s3-keys.ts";
import { createBunS3Put, type S3Put } from "../src/telemetry/sinks/s3-put.ts";
import {
  CLOSE_DEADLINE_MS,
  createS3Sink,
  FIRST_RETRY_DELAY_MS,
  MAX_CONCURRENT_UPLOADS,
  MAX_RETRY_DELAY_MS,
  MAX_UPLOAD_ATTEMPTS,
  UPLOAD_TIMEOUT_MS,
} from "../src/telemetry/sinks/s3-sink.ts";
import { makeEvent } from "./fixtures/report/build-events.ts";
import { assertValidEvent } from "./support/events.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY, startLocalS3 } from "./support/s3-server.ts";

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function event(seq: number, session = "s-1", tenant = "customer:acme"): BatonEvent {
  const e = makeEvent(
    "tool_call_start",
    seq,
    { tool_name: "echo", params: {}, call_intent: null, call_expected: null, call_workflow: null, intent_source: null },
    { session, callId: `c${seq}` },
  );
  return { ...e, tenant_id: tenant };
}

/** An uploader that records objects; `failures` makes the next N calls reject (with a message holding the secret). */
function recordingPut() {
  const objects: { key: string; text: string; type: string }[] = [];
  let failures = 0;
  let hang = false;
  const put: S3Put = async (key, body, type) => {
    if (hang) return new Promise<void>(() => {});
    if (failures > 0) {
      failures--;
      throw new Error("503 SlowDown (signed with super-secret-key-1)");
    }
    const text = type === "application/gzip" ? gunzipSync(body).toString("utf8") : new TextDecoder().decode(body);
    objects.push({ key, text, type });
  };
  return { put, objects, fail: (n: number) => void (failures = n), hang: () => void (hang = true) };
}

function makeSink(
  overrides: Partial<{ batchMs: number; batchBytes: number; gzip: boolean; maxBufferedBytes: number }> = {},
) {
  const clock = createFakeClock(1_000_000);
  const store = recordingPut();
  const sink = createS3Sink({
    label: "s3://events/baton",
    prefix: "baton",
    settings: {
      batchMs: overrides.batchMs ?? 10_000,
      batchBytes: overrides.batchBytes ?? 8 * 1024 * 1024,
      gzip: overrides.gzip ?? false,
    },
    put: store.put,
    clock,
    secrets: ["super-secret-key-1"],
    maxBufferedBytes: overrides.maxBufferedBytes,
  });
  const write = (e: BatonEvent): void => sink.write(e, JSON.stringify(e));
  return { sink, clock, store, write };
}

describe("object keys", () => {
  test("layout: prefix/tenant/YYYY/MM/DD/session/first-last.jsonl[.gz], zero-padded so keys sort", () => {
    const parts = {
      prefix: "baton/prod",
      tenantId: "customer:acme",
      sessionId: "019a-s",
      firstCapturedAt: "2026-08-10T23:59:59.999999Z",
      firstSequence: 9,
      lastSequence: 10,
      gzip: false,
    };
    expect(buildObjectKey(parts)).toBe("baton/prod/customer:acme/2026/08/10/019a-s/000000000009-000000000010.jsonl");
    expect(buildObjectKey({ ...parts, prefix: "", gzip: true })).toBe(
      "customer:acme/2026/08/10/019a-s/000000000009-000000000010.jsonl.gz",
    );
    expect(
      buildObjectKey({ ...parts, firstSequence: 9 }) <
        buildObjectKey({ ...parts, firstSequence: 10, lastSequence: 12 }),
    ).toBe(true);
    expect(parseObjectKey(buildObjectKey(parts))).toEqual({ sessionId: "019a-s", firstSequence: 9, gzip: false });
    expect(listingPrefix("baton", "customer:acme")).toBe("baton/customer:acme/");
    expect(listingPrefix("")).toBe("");
  });

  test("hostile ids cannot leave their folder", () => {
    expect(encodeSegment("a/../b")).toBe("a%2F..%2Fb");
    expect(encodeSegment("..")).toBe("%2E%2E");
    expect(encodeSegment("100%\n")).toBe("100%25%0A");
    const key = buildObjectKey({
      prefix: "p",
      tenantId: "../x",
      sessionId: "s/1",
      firstCapturedAt: "2026-01-02T00:00:00.000000Z",
      firstSequence: 1,
      lastSequence: 1,
      gzip: false,
    });
    expect(key).toBe("p/..%2Fx/2026/01/02/s%2F1/000000000001-000000000001.jsonl");
    expect(parseObjectKey(key)?.sessionId).toBe("s/1");
  });
});

describe("createS3Sink", () => {
  test("one object per session per time window, written by the timer even without a flush", async () => {
    const { sink, clock, store, write } = makeSink();
    write(event(1, "s-1"));
    write(event(1, "s-2"));
    write(event(2, "s-1"));
    await sink.flush();
    await settle();
    expect(store.objects).toHaveLength(0); // the window is still open
    clock.advance(10_000);
    await settle();
    expect(store.objects.map((o) => o.key).sort()).toEqual([
      "baton/customer:acme/2026/08/10/s-1/000000000001-000000000002.jsonl",
      "baton/customer:acme/2026/08/10/s-2/000000000001-000000000001.jsonl",
    ]);
    const lines = store.objects.find((o) => o.key.includes("/s-1/"))?.text.split("\n") ?? [];
    expect(lines.at(-1)).toBe(""); // NDJSON: every line ends with a newline
    for (const line of lines.slice(0, -1)) assertValidEvent(JSON.parse(line));
    expect(store.objects[0]?.type).toBe("application/x-ndjson");
  });

  test("the size bound seals an object early; sequence ranges follow each other", async () => {
    const line = JSON.stringify(event(1)).length + 1;
    const { sink, store, write } = makeSink({ batchBytes: line * 2 + 10 });
    for (let seq = 1; seq <= 5; seq++) write(event(seq));
    await sink.flush();
    await settle();
    expect(store.objects.map((o) => o.key.split("/").at(-1))).toEqual([
      "000000000001-000000000002.jsonl",
      "000000000003-000000000004.jsonl",
    ]);
    await sink.close();
    expect(store.objects.map((o) => o.key.split("/").at(-1))).toContain("000000000005-000000000005.jsonl");
  });

  test("the size bound counts the object's UTF-8 bytes (CJK text is 3 bytes a UTF-16 unit)", async () => {
    const { sink, store } = makeSink({ batchBytes: 4_000 });
    for (let seq = 1; seq <= 6; seq++) {
      const e = { ...event(seq), payload: { tool_name: "漢".repeat(500) } } as unknown as BatonEvent;
      sink.write(e, JSON.stringify(e));
    }
    await sink.close();
    expect(store.objects.length).toBeGreaterThan(1);
    for (const object of store.objects) expect(Buffer.byteLength(object.text)).toBeLessThanOrEqual(4_000);
    expect(store.objects.flatMap((o) => o.text.trim().split("\n")).map((l) => JSON.parse(l).sequence_number)).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  test("a failed upload is retried with doubling backoff, then succeeds", async () => {
    const { sink, clock, store, write } = makeSink({ batchMs: 1 });
    store.fail(2);
    write(event(1));
    clock.advance(1); // the window closes: first attempt (fails)
    await settle();
    clock.advance(FIRST_RETRY_DELAY_MS - 1);
    await settle();
    expect(store.objects).toHaveLength(0); // the backoff has not elapsed
    clock.advance(1); // second attempt (fails)
    await settle();
    clock.advance(FIRST_RETRY_DELAY_MS * 2 - 1);
    await settle();
    expect(store.objects).toHaveLength(0); // the second backoff is twice the first
    clock.advance(1); // third attempt (succeeds)
    await settle();
    expect(store.objects).toHaveLength(1);
    expect(sink.droppedEvents).toBe(0);
    expect(sink.takeDrops()).toEqual([]);
  });

  test("after the last attempt the object is dropped and counted, reported once without secrets", async () => {
    const { sink, clock, store, write } = makeSink({ batchMs: 1 });
    store.fail(100);
    write(event(1));
    write(event(2));
    for (let i = 0; i < 10; i++) {
      clock.advance(10_000);
      await settle();
    }
    expect(sink.droppedEvents).toBe(2);
    const drops = sink.takeDrops();
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ count: 2, kind: "upload failed" });
    expect(drops[0]?.detail).toContain(`not uploaded after ${MAX_UPLOAD_ATTEMPTS} attempts`);
    expect(drops[0]?.detail).toContain("[redacted]");
    expect(drops[0]?.detail).not.toContain("super-secret-key-1");
    expect(sink.takeDrops()).toEqual([]); // handed over once
    expect(clock.timers()).toBe(0); // nothing left to retry: no timer keeps running
  });

  test("the dispatcher counts and logs the sink's own drops (dropped, one log line, the exit summary)", async () => {
    const clock = createFakeClock(1_000_000);
    const logger = createMemoryLogger();
    const store = recordingPut();
    store.fail(1_000);
    const sink = createS3Sink({
      label: "s3://events/baton",
      prefix: "baton",
      settings: { batchMs: 1, batchBytes: 1 << 20, gzip: false },
      put: store.put,
      clock,
      secrets: ["super-secret-key-1"],
    });
    const dispatcher = createDispatcher({ sinks: [sink], logger, clock });
    for (let seq = 1; seq <= 3; seq++) dispatcher.enqueue(event(seq));
    // Small steps: a fake clock fires every due timer inside one advance(), before any promise settles.
    for (let i = 0; i < 80; i++) {
      clock.advance(250);
      await settle();
    }
    await dispatcher.shutdown(1_000);
    expect(sink.droppedEvents).toBe(3);
    expect(dispatcher.dropped).toBe(3);
    const text = logger.lines.join("\n");
    expect(text).toContain("s3://events/baton: upload failed");
    expect(text).not.toContain("super-secret-key-1");
  });

  test("memory stays bounded while uploads hang: the oldest waiting object goes first", async () => {
    const line = JSON.stringify(event(1)).length + 1;
    const { sink, store, write } = makeSink({ batchBytes: line, maxBufferedBytes: line * 6 });
    store.hang();
    for (let seq = 1; seq <= 20; seq++) {
      write(event(seq, `s-${seq}`)); // one session each, so the size bound seals nothing: the buffer bound must act
      await sink.flush();
    }
    expect(sink.droppedEvents).toBeGreaterThan(0);
    expect(sink.droppedEvents).toBeLessThanOrEqual(20 - 4); // what fits stays: uploads in flight plus the newest
  });

  test("a PUT that timed out keeps its slot until it ends (it cannot be aborted): never more than 4 PUTs open", async () => {
    const clock = createFakeClock(1_000_000);
    let open = 0;
    const sink = createS3Sink({
      label: "s3://events/baton",
      prefix: "baton",
      settings: { batchMs: 1_000, batchBytes: 8 * 1024 * 1024, gzip: false },
      // An endpoint that accepts and never answers: each PUT holds its body until the connection dies.
      put: () => {
        open++;
        return new Promise<void>(() => {});
      },
      clock,
    });
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 8; i++) {
        const e = event(round * 8 + i + 1, `s-${i}`);
        sink.write(e, JSON.stringify(e));
      }
      await sink.flush();
      clock.advance(UPLOAD_TIMEOUT_MS + MAX_RETRY_DELAY_MS);
      await settle();
    }
    expect(open).toBe(MAX_CONCURRENT_UPLOADS);
  });

  test("close gives up at its deadline on uploads that hang, counting what they held", async () => {
    const { sink, clock, store, write } = makeSink();
    store.hang();
    write(event(1, "s-1"));
    write(event(2, "s-1"));
    write(event(1, "s-2"));
    let closed = false;
    const closing = sink.close().then(() => void (closed = true));
    await settle();
    clock.advance(CLOSE_DEADLINE_MS - 1);
    await settle();
    expect(closed).toBe(false);
    clock.advance(1);
    await closing;
    expect(sink.droppedEvents).toBe(3);
    expect(sink.takeDrops()).toEqual([
      {
        count: 3,
        kind: "shutdown deadline",
        detail: `2 object(s) not uploaded within ${CLOSE_DEADLINE_MS} ms of exit`,
      },
    ]);
  });

  test("close uploads open batches at once, gzip when asked, and ignores later writes", async () => {
    const { sink, store, write } = makeSink({ gzip: true });
    write(event(1));
    await sink.close();
    expect(store.objects).toHaveLength(1);
    expect(store.objects[0]?.key).toEndWith(".jsonl.gz");
    expect(store.objects[0]?.type).toBe("application/gzip");
    assertValidEvent(JSON.parse(store.objects[0]?.text.trim() ?? ""));
    write(event(2));
    await sink.close();
    expect(store.objects).toHaveLength(1);
  });
});

describe("Bun's S3 client against a local signature-checking S3", () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  test("uploads are signed, survive a 503 and read back with the AWS SDK; a wrong secret is dropped and never logged", async () => {
    const s3 = await startLocalS3(["events"]);
    stop = () => s3.stop();
    const settings = {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      sessionToken: undefined,
      region: S3_REGION,
      endpoint: s3.endpoint,
      batchMs: 10_000,
      batchBytes: 1 << 20,
      gzip: false,
    };
    const sink = createS3Sink({
      label: "s3://events",
      prefix: "",
      settings,
      put: createBunS3Put("events", settings),
      clock: SYSTEM_CLOCK,
      secrets: [S3_SECRET_ACCESS_KEY],
    });
    s3.failNext(1);
    const e = event(7);
    sink.write(e, JSON.stringify(e));
    await sink.close();
    expect(s3.requests.filter((r) => r.method === "PUT")).toHaveLength(2);
    expect(s3.requests.every((r) => r.signed)).toBe(true);
    const sdk = new S3Client({
      endpoint: s3.endpoint,
      region: S3_REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
    });
    const got = await sdk.send(
      new GetObjectCommand({ Bucket: "events", Key: "customer:acme/2026/08/10/s-1/000000000007-000000000007.jsonl" }),
    );
    expect(await got.Body?.transformToString()).toBe(`${JSON.stringify(e)}\n`);
    sdk.destroy();

    const wrong = { ...settings, secretAccessKey: "not-the-right-secret" };
    const bad = createS3Sink({
      label: "s3://events",
      prefix: "",
      settings: wrong,
      put: createBunS3Put("events", wrong),
      clock: SYSTEM_CLOCK,
      secrets: [wrong.secretAccessKey],
    });
    bad.write(e, JSON.stringify(e));
    await bad.close();
    expect(bad.droppedEvents).toBe(1);
    const detail = bad
      .takeDrops()
      .map((d) => d.detail)
      .join("\n");
    expect(detail).toContain("SignatureDoesNotMatch");
    expect(detail).not.toContain("not-the-right-secret");
  });
});
