// The otlp: sink's export: protobuf body decoded with OpenTelemetry's generated code, headers, gzip, and E_SINK failures that never show a header value.

import { describe, expect, test } from "bun:test";
import { createDispatcher } from "../src/telemetry/dispatcher.ts";
import type { OtlpSettings } from "../src/telemetry/otlp/otlp-settings.ts";
import { MAX_OPEN_CALLS } from "../src/telemetry/otlp/span-builder.ts";
import { createOtlpSink } from "../src/telemetry/sinks/otlp-sink.ts";
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
    expect(spans[0]?.resource).toEqual({ "service.name": "svc" });
    expect(sink.label).toBe("otlp:http://collector.test:4318");
  });

  test("a non-2xx answer, a network error or a timeout rejects with E_SINK and never shows a header value", async () => {
    const failures: [string, () => Promise<Response>][] = [
      ["HTTP 503", async () => new Response("busy", { status: 503 })],
      [
        "refused key-that-is-secret",
        async () => Promise.reject(new Error("connection refused (x-api-key: key-that-is-secret)")),
      ],
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
      expect(error?.message).toContain(
        expected.replace(" key-that-is-secret", "").replace("refused", "connection refused"),
      );
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
