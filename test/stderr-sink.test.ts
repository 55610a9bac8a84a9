// Unit tests for src/telemetry/sinks/stderr-sink.ts with injected writers (sync, slow, failing).

import { describe, expect, test } from "bun:test";
import { LocalError } from "../src/errors.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createStderrSink, createStreamWriter, maskConsentTokens } from "../src/telemetry/sinks/stderr-sink.ts";

const event = {} as BatonEvent; // the sink only writes the pre-serialised line
const line = (i: number): string => JSON.stringify({ sequence_number: i });

/** A writer whose writes stay pending until `finish()`. */
function createSlowWriter() {
  const texts: string[] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  return {
    texts,
    write: (text: string): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        texts.push(text);
        pending.push({ resolve, reject });
      }),
    finish: () => pending.splice(0).forEach((p) => p.resolve()),
    fail: (error: Error) => pending.splice(0).forEach((p) => p.reject(error)),
  };
}

describe("stderr sink", () => {
  test("maskConsentTokens: the consent_token member is masked, escapes included; the same words inside a string are not a member", () => {
    const line = JSON.stringify({
      consent_token: 'ct_"quoted\\token',
      payload: { params: { note: '"consent_token":"inside"', consent_token: "arg-token" } },
    });
    expect(maskConsentTokens(line)).toBe(
      JSON.stringify({
        consent_token: "[masked]",
        payload: { params: { note: '"consent_token":"inside"', consent_token: "[masked]" } },
      }),
    );
    expect(maskConsentTokens('{"sequence_number":1}')).toBe('{"sequence_number":1}');
  });

  test("with maskConsentTokens (per-request consent) the written lines carry no token; without it they are as given", async () => {
    const masked: string[] = [];
    const plain: string[] = [];
    const withMask = createStderrSink({
      write: (t) => void masked.push(t),
      logger: createMemoryLogger(),
      maskConsentTokens: true,
    });
    const without = createStderrSink({ write: (t) => void plain.push(t), logger: createMemoryLogger() });
    const given = JSON.stringify({ consent_token: "ct_live_secret_1", sequence_number: 1 });
    withMask.write(event, given);
    without.write(event, given);
    await withMask.close();
    await without.close();
    expect(masked.join("")).toBe('{"consent_token":"[masked]","sequence_number":1}\n');
    expect(plain.join("")).toBe(`${given}\n`);
  });

  // JSON.stringify escapes C0 only; VTE (GNOME Terminal) and screen act on UTF-8 C1 controls, and stderr
  // is a terminal or a host log someone tails. The same JSON value, spelled with escapes.
  test("C1 controls, DEL, U+2028/9 and bidi controls in an event are written as JSON escapes", async () => {
    const texts: string[] = [];
    const sink = createStderrSink({ write: (t) => void texts.push(t), logger: createMemoryLogger() });
    const value = { tool_name: "t\u009d0;pwned\u009c", params: { q: "\u009b2J\u007f\u2028\u202eevil\u2066" } };
    sink.write(event, JSON.stringify(value));
    await sink.close();
    expect(texts).toHaveLength(1);
    const written = texts[0] as string;
    expect(written).toBe(
      '{"tool_name":"t\\u009d0;pwned\\u009c","params":{"q":"\\u009b2J\\u007f\\u2028\\u202eevil\\u2066"}}\n',
    );
    expect(JSON.parse(written)).toEqual(value);
  });

  test("one write per flush, one JSON line per event, nothing on an empty flush", async () => {
    const texts: string[] = [];
    const sink = createStderrSink({ write: (t) => void texts.push(t), logger: createMemoryLogger() });
    await sink.flush();
    for (let i = 0; i < 3; i++) sink.write(event, line(i));
    await sink.flush();
    sink.write(event, line(3));
    await sink.close();
    sink.write(event, line(4)); // after close: ignored
    await sink.flush();
    expect(texts).toEqual([`${line(0)}\n${line(1)}\n${line(2)}\n`, `${line(3)}\n`]);
    expect(sink.label).toBe("stderr:");
  });

  test("a slow writer never blocks flush; beyond the backlog whole batches are dropped with E_SINK", async () => {
    const writer = createSlowWriter();
    const sink = createStderrSink({ write: writer.write, logger: createMemoryLogger(), maxBacklogBytes: 100 });
    const results: Array<"ok" | "dropped"> = [];
    for (let batch = 0; batch < 6; batch++) {
      for (let i = 0; i < 2; i++) sink.write(event, line(batch * 2 + i)); // ~44 bytes per batch
      results.push(
        await sink.flush().then(
          () => "ok" as const,
          (e: unknown) => (expect(e).toBeInstanceOf(LocalError), "dropped" as const),
        ),
      );
    }
    expect(results).toEqual(["ok", "ok", "dropped", "dropped", "dropped", "dropped"]);
    expect(writer.texts).toHaveLength(2);
    writer.finish();
    await new Promise((resolve) => setImmediate(resolve)); // lets the settled writes release the backlog
    sink.write(event, line(99));
    await sink.flush(); // backlog drained: accepted again
    expect(writer.texts).toHaveLength(3);
    const closed = sink.close();
    writer.finish();
    await closed;
  });

  test("a synchronous writer that throws fails the flush with E_SINK", async () => {
    const sink = createStderrSink({
      write: () => {
        throw Object.assign(new Error("EPIPE: broken pipe"), { code: "EPIPE" });
      },
      logger: createMemoryLogger(),
    });
    sink.write(event, line(0));
    await expect(sink.flush()).rejects.toThrow("EPIPE");
  });

  test("an asynchronous write failure is counted in `lost` and logged once per streak", async () => {
    const writer = createSlowWriter();
    const logger = createMemoryLogger();
    const sink = createStderrSink({ write: writer.write, logger });
    for (let round = 0; round < 3; round++) {
      sink.write(event, line(round));
      await sink.flush();
      writer.fail(new Error("EPIPE: broken pipe"));
    }
    await sink.close();
    expect(sink.lost).toBe(3);
    expect(logger.lines.filter((l) => l.includes("EPIPE"))).toHaveLength(1);
  });

  test("createStreamWriter settles when the stream calls back", async () => {
    const callbacks: Array<(error?: Error | null) => void> = [];
    const write = createStreamWriter({ write: (_chunk, cb) => (callbacks.push(cb), false) });
    const ok = write("a\n");
    const bad = write("b\n");
    callbacks[0]?.();
    callbacks[1]?.(new Error("EPIPE"));
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow("EPIPE");
  });
});
