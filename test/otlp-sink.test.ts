// The otlp: sink's export: protobuf body decoded with OpenTelemetry's generated code, headers, gzip, and E_SINK failures that never show a header value.

import { describe, expect, test } from "bun:test";
import { createDispatcher } from "../src/telemetry/dispatcher.ts";
import type { OtlpSettings } from "../src/telemetry/otlp/otlp-settings.ts";
import { MAX_OPEN_CALLS } from "../src/telemetry/otlp/span-builder.ts";
import { CLOSING_RETRY_DELAY_MS, createOtlpSink, PROCESS_INSTANCE_ID } from "../src/telemetry/sinks/otlp-sink.ts";
import { FIRST_RETRY_DELAY_MS, MAX_EXPORT_ATTEMPTS, MAX_RETRY_DELAY_MS } from "../src/telemetry/otlp/export-retry.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { VERSION } from "../src/version.ts";
import { makeCall } from "./fixtures/report/build-events.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { decodeRequest } from "./support/otlp-receiver.ts";

describe("createOtlpSink", () => {
  const settings = {
    endpoint: "http://collector.test:4318/v1/traces",
    protocol: "http/protobuf" as const,
    headers: { "x-api-key": "key-that-is-secret" },
    gzip: true,
    timeoutMs: 50,
    resource: { "service.name": "svc" },
    captureContent: false,
    propagate: false,
  };
  const call = makeCall(1, "c1", "t", {}, { durationMs: 1 });

  test("POSTs gzip protobuf with the configured headers; the body decodes with the generated code", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const sink = createOtlpSink({
      settings,
      transport: "pipe",
      fetch: async (url, init) => (seen.push({ url, init }), new Response(null, { status: 200 })),
    });
    for (const e of call) sink.write(e, JSON.stringify(e));
    await sink.flush();
    await sink.flush(); // nothing new: no request
    expect(seen).toHaveLength(1);
    const headers = new Headers(seen[0]?.init.headers);
    expect(seen[0]?.url).toBe(settings.endpoint);
    expect(headers.get("x-api-key")).toBe("key-that-is-secret");
    expect(headers.get("content-encoding")).toBe("gzip");
    expect(headers.get("user-agent")).toBe(`baton-proxy/${VERSION}`); // names the exporter (OTLP spec)
    const spans = decodeRequest({ headers, body: seen[0]?.init.body as Uint8Array });
    expect(spans.map((s) => [s.name, s.kind])).toEqual([
      ["tools/call t", 2],
      ["tools/call t", 3],
    ]);
    expect(spans[0]?.resource).toEqual({ "service.name": "svc", "service.instance.id": PROCESS_INSTANCE_ID });
    expect(sink.label).toBe("otlp:http://collector.test:4318");
  });

  test("a final non-2xx answer (4xx but 429) or a timeout rejects with E_SINK and never shows a header value", async () => {
    const failures: [string, () => Promise<Response>][] = [
      ["HTTP 400", async () => new Response("bad", { status: 400 })],
      ["HTTP 404", async () => new Response("key-that-is-secret", { status: 404 })],
      ["no answer within 50 ms", () => new Promise<Response>(() => {})],
    ];
    for (const [expected, answer] of failures) {
      const sink = createOtlpSink({
        settings,
        transport: "pipe",
        fetch: (_url, init) =>
          Promise.race([
            answer(),
            new Promise<Response>((_, reject) =>
              init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
            ),
          ]),
      });
      for (const e of call) sink.write(e, JSON.stringify(e));
      const error = await sink.flush().then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe("E_SINK");
      expect(error?.message).not.toContain("key-that-is-secret");
      expect(error?.message).toContain(expected);
    }
  });

  /** A fetch answering from a script, one entry per request (the last repeats), counting requests. */
  const scripted = (...answers: (() => Response)[]) => {
    const bodies: Uint8Array[] = [];
    const fetch = async (_url: string, init: RequestInit): Promise<Response> => {
      bodies.push(init.body as Uint8Array);
      return (answers[Math.min(bodies.length, answers.length) - 1] as () => Response)();
    };
    return { fetch, bodies };
  };
  const status =
    (code: number, headers: Record<string, string> = {}) =>
    () =>
      new Response("busy", { status: code, headers });
  const refused = () => {
    throw new Error("connection refused (x-api-key: key-that-is-secret)");
  };
  const ok = () => new Response(null, { status: 200 });
  /** Lets the sink's background retry (a fetch and its body read) run after a timer fired. */
  const settle = () => Bun.sleep(2);
  const T0 = Date.parse("2026-03-01T12:00:00Z");

  test("429, 502, 503, 504 and network errors are retried in the background with backoff, honouring Retry-After (seconds or HTTP date)", async () => {
    const clock = createFakeClock(T0);
    const collector = scripted(
      status(503, { "Retry-After": "3" }),
      status(429, { "Retry-After": new Date(T0 + 3_000 + 5_000).toUTCString() }),
      refused,
      status(502),
      ok,
    );
    const sink = createOtlpSink({
      settings,
      transport: "pipe",
      fetch: collector.fetch,
      clock,
      wallNow: clock.now,
      random: () => 0.999,
    });
    for (const e of call) sink.write(e, "");
    await sink.flush(); // the collector pushes back: the flush itself succeeds, the spans wait
    expect(collector.bodies).toHaveLength(1);
    clock.advance(2_999);
    await settle();
    expect(collector.bodies).toHaveLength(1); // Retry-After: 3 is honoured
    clock.advance(1);
    await settle();
    expect(collector.bodies).toHaveLength(2);
    clock.advance(4_999);
    await settle();
    expect(collector.bodies).toHaveLength(2); // the HTTP date, 5 s later
    clock.advance(1);
    await settle();
    expect(collector.bodies).toHaveLength(3); // refused: backoff after the 3rd failure, about 4 s
    clock.advance(FIRST_RETRY_DELAY_MS * 4);
    await settle();
    expect(collector.bodies).toHaveLength(4); // 502: about 8 s
    clock.advance(FIRST_RETRY_DELAY_MS * 8);
    await settle();
    expect(collector.bodies).toHaveLength(5);
    clock.advance(60_000);
    await settle();
    expect(collector.bodies).toHaveLength(5); // delivered: no more requests
    expect(new Set(collector.bodies).size).toBe(1); // the same body each time
    expect(sink.takeDrops?.()).toEqual([]);
    await sink.close();
  });

  test("while spans wait for a retry, newer ones queue behind them (never sent into the push-back), then go in order", async () => {
    const clock = createFakeClock(T0);
    const collector = scripted(status(503, { "Retry-After": "1" }), ok);
    const sink = createOtlpSink({ settings, transport: "pipe", fetch: collector.fetch, clock });
    for (const e of call) sink.write(e, "");
    await sink.flush();
    for (const e of makeCall(3, "c2", "later", {}, { durationMs: 1 })) sink.write(e, "");
    await sink.flush();
    expect(collector.bodies).toHaveLength(1);
    clock.advance(1_000);
    await settle();
    await settle();
    const names = collector.bodies
      .slice(1)
      .flatMap((body) => decodeRequest({ headers: new Headers({ "content-encoding": "gzip" }), body }))
      .map((span) => span.name);
    expect(names).toEqual(["tools/call t", "tools/call t", "tools/call later", "tools/call later"]);
    await sink.close();
  });

  test("with the system clock (monotonic, no date), a Retry-After HTTP date is read against the wall clock: a short wait is waited, not given up", async () => {
    const collector = scripted(status(503, { "Retry-After": new Date(Date.now() + 2_000).toUTCString() }));
    const sink = createOtlpSink({ settings, transport: "pipe", fetch: collector.fetch });
    for (const e of call) sink.write(e, "");
    await sink.flush();
    expect(sink.takeDrops?.()).toEqual([]);
    await sink.close(0);
  });

  test("given up after MAX_EXPORT_ATTEMPTS, or at once for a final answer or a too long Retry-After: counted as drops, never a header value", async () => {
    const cases: [(() => Response)[], string][] = [
      [[refused], `after ${MAX_EXPORT_ATTEMPTS} attempts: connection refused (x-api-key: [redacted])`],
      [[status(503), status(401)], "answered HTTP 401"],
      [[status(429, { "Retry-After": "3600" })], "HTTP 429 asked to wait 3600 s"],
    ];
    for (const [answers, detail] of cases) {
      const clock = createFakeClock(T0);
      const collector = scripted(...answers);
      const sink = createOtlpSink({ settings, transport: "pipe", fetch: collector.fetch, clock });
      for (const e of call) sink.write(e, "");
      await sink.flush();
      for (let i = 0; i < 10; i++) {
        clock.advance(MAX_RETRY_DELAY_MS);
        await settle();
      }
      expect(collector.bodies.length).toBeLessThanOrEqual(MAX_EXPORT_ATTEMPTS);
      const drops = sink.takeDrops?.() ?? [];
      expect(drops).toEqual([{ count: 2, kind: "export failed", detail: expect.stringContaining(detail) }]);
      expect(JSON.stringify(drops)).not.toContain("key-that-is-secret");
      await sink.close();
    }
  });

  test("spans waiting for a retry stay under the byte bound: the oldest go first, counted", async () => {
    const clock = createFakeClock(T0);
    const collector = scripted(status(503));
    const sink = createOtlpSink({
      settings,
      transport: "pipe",
      fetch: collector.fetch,
      clock,
      maxWaitingBytes: 1,
    });
    for (const e of call) sink.write(e, "");
    await sink.flush();
    expect(sink.takeDrops?.()).toEqual([
      { count: 2, kind: "memory bound", detail: expect.stringContaining("waiting for a retry") },
    ]);
    await sink.close();
  });

  test("at exit, retries only within the time left; what is still waiting then is counted, and close never outlasts it", async () => {
    // Retry-After beyond what is left: given up at once, no wait.
    const clock = createFakeClock(T0);
    const late = scripted(status(503, { "Retry-After": "5" }));
    const sink = createOtlpSink({ settings, transport: "pipe", fetch: late.fetch, clock });
    for (const e of call) sink.write(e, "");
    await sink.flush();
    await sink.close(1_000);
    expect(late.bodies).toHaveLength(1);
    expect(sink.takeDrops?.()).toEqual([
      { count: 2, kind: "shutdown deadline", detail: expect.stringContaining("not exported") },
    ]);
    // A quick retry fits: delivered during close.
    const clock2 = createFakeClock(T0);
    const quick = scripted(status(503), ok);
    const sink2 = createOtlpSink({ settings, transport: "pipe", fetch: quick.fetch, clock: clock2 });
    for (const e of call) sink2.write(e, "");
    const closed = sink2.close(1_000); // the first attempt is made by close itself
    await settle();
    clock2.advance(CLOSING_RETRY_DELAY_MS);
    await closed;
    expect(quick.bodies).toHaveLength(2);
    expect(sink2.takeDrops?.()).toEqual([]);
  });

  test("through the dispatcher: at exit a push-back is retried within the shutdown deadline; one that lasts is given up before it, logged and counted", async () => {
    let answers = 0;
    let recovers = true;
    const collector = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        answers++ === 0 || !recovers
          ? new Response("busy", { status: 503, headers: { "Retry-After": "1" } })
          : new Response(null, { status: 200 }),
    });
    try {
      {
        const logger = createMemoryLogger();
        const sink = createOtlpSink({
          settings: { ...settings, endpoint: `http://127.0.0.1:${collector.port}/v1/traces` },
          transport: "pipe",
        });
        const dispatcher = createDispatcher({ sinks: [sink], logger });
        for (const e of call) dispatcher.enqueue(e);
        await dispatcher.shutdown(2_000);
        expect(answers).toBe(2); // the retry after Retry-After: 1 fits in what was left of the 2 s
        expect(dispatcher.dropped).toBe(0);
      }
      recovers = false;
      const logger = createMemoryLogger();
      const sink = createOtlpSink({
        settings: { ...settings, endpoint: `http://127.0.0.1:${collector.port}/v1/traces` },
        transport: "pipe",
      });
      const dispatcher = createDispatcher({ sinks: [sink], logger });
      for (const e of call) dispatcher.enqueue(e);
      await dispatcher.shutdown(2_000);
      expect(dispatcher.dropped).toBe(2);
      expect(logger.lines.join("\n")).toContain("shutdown deadline");
      expect(logger.lines.join("\n")).not.toContain("key-that-is-secret");
    } finally {
      await collector.stop(true);
    }
  });

  test("redirects: followed within the collector's origin, never to another (the headers stay home); one log line, counted as dropped", async () => {
    const elsewhere: string[] = [];
    const other = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => {
        elsewhere.push(`${request.method} ${request.headers.get("x-api-key")}`);
        return new Response(null, { status: 200 });
      },
    });
    let home = 0;
    const collector = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/old/v1/traces") return new Response(null, { status: 308, headers: { location: "/v1/traces" } });
        if (path === "/moved/v1/traces") return Response.redirect(`http://localhost:${other.port}/v1/traces`, 307);
        home += request.headers.get("x-api-key") === "key-that-is-secret" ? 1 : 0;
        return new Response(null, { status: 200 });
      },
    });
    const sinkAt = (path: string) =>
      createOtlpSink({
        settings: { ...settings, endpoint: `http://127.0.0.1:${collector.port}${path}` },
        transport: "pipe",
      });
    try {
      const same = sinkAt("/old/v1/traces");
      for (const e of call) same.write(e, JSON.stringify(e));
      await same.flush();
      expect(home).toBe(1);
      const logger = createMemoryLogger();
      const dispatcher = createDispatcher({ sinks: [sinkAt("/moved/v1/traces")], logger });
      for (const e of call) dispatcher.enqueue(e);
      await dispatcher.shutdown();
      expect(dispatcher.dropped).toBe(call.length);
      const said = logger.lines.filter((l) => l.includes("another origin, not followed"));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(`HTTP 307: a redirect to http://localhost:${other.port}/v1/traces, another origin`);
      expect(logger.lines.join("\n")).not.toContain("key-that-is-secret");
      expect(elsewhere).toEqual([]);
    } finally {
      await collector.stop(true);
      await other.stop(true);
    }
  });

  test("spans the collector rejects in a partial success (HTTP 200) are handed to the dispatcher as drops, protobuf or JSON", async () => {
    const protobuf = new Uint8Array([
      0x0a,
      0x17,
      0x08,
      0x02,
      0x12,
      0x13,
      ...new TextEncoder().encode("too many attributes"),
    ]);
    const json = JSON.stringify({
      partialSuccess: { rejectedSpans: "1", errorMessage: "bad key-that-is-secret span" },
    });
    const answers: [OtlpSettings, Response, { count: number; detail: string }][] = [
      [
        settings,
        new Response(protobuf, { headers: { "Content-Type": "application/x-protobuf" } }),
        { count: 2, detail: "too many attributes" },
      ],
      [
        { ...settings, protocol: "http/json" as const },
        new Response(json, { headers: { "Content-Type": "application/json" } }),
        { count: 1, detail: "bad [redacted] span" },
      ],
    ];
    for (const [own, answer, drop] of answers) {
      const sink = createOtlpSink({ settings: own, transport: "pipe", fetch: async () => answer });
      for (const e of call) sink.write(e, "");
      await sink.flush(); // a partial success is a success: the flush resolves (the OTLP spec: no retry)
      expect(sink.takeDrops?.()).toEqual([
        { count: drop.count, kind: "rejected by the collector", detail: expect.stringContaining(drop.detail) },
      ]);
      expect(sink.takeDrops?.()).toEqual([]);
    }
    // An empty partial_success (or none) is a full success.
    const sink = createOtlpSink({
      settings,
      transport: "pipe",
      fetch: async () => new Response(new Uint8Array([0x0a, 0x00])),
    });
    for (const e of call) sink.write(e, "");
    await sink.flush();
    expect(sink.takeDrops?.()).toEqual([]);
  });

  test("calls forgotten by the span builder's bound are handed to the dispatcher as drops, once", () => {
    const sink = createOtlpSink({ settings, transport: "pipe", fetch: async () => new Response(null) });
    for (let i = 0; i <= MAX_OPEN_CALLS; i++) {
      const [start] = makeCall(i * 2 + 1, `c${i}`, "t", {}, { durationMs: 1 });
      sink.write(start, "");
    }
    expect(sink.takeDrops?.()).toEqual([
      { count: 1, kind: "open calls forgotten", detail: expect.stringContaining("oldest") },
    ]);
    expect(sink.takeDrops?.()).toEqual([]);
  });
});
