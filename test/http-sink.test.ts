// Unit tests for src/telemetry/sinks/http-sink.ts against a real local Bun.serve (ok, 500, refused, hanging).

import { afterAll, describe, expect, test } from "bun:test";
import { sinkLabel } from "../src/config.ts";
import { LocalError } from "../src/errors.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { createDispatcher } from "../src/telemetry/dispatcher.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { buildBodies, createHttpSink, EVENTS_PATH, MAX_HTTP_BODY_BYTES } from "../src/telemetry/sinks/http-sink.ts";
import { SDK_VERSION } from "../src/version.ts";

const API_KEY = "sk-test-5f3c9a1e-do-not-log";
const event = {} as BatonEvent; // the sink only sends the pre-serialised line
const line = (i: number): string => JSON.stringify({ sequence_number: i });

interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

type Mood = "ok" | "fail";
const seen: Seen[] = [];
let mood: Mood = "ok";
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    seen.push({
      method: request.method,
      path: new URL(request.url).pathname,
      headers: request.headers,
      body: await request.text(),
    });
    return mood === "ok" ? new Response("{}", { status: 202 }) : new Response(`bad ${API_KEY}`, { status: 500 });
  },
});
const hanging = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>(() => {}) });
const dead = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
const deadUrl = `http://127.0.0.1:${dead.port}`;
await dead.stop(true); // a port nobody listens on: connection refused
afterAll(async () => {
  await server.stop(true);
  await hanging.stop(true);
});

function sinkFor(url: string, timeoutMs = 1_500) {
  return createHttpSink({ url, label: sinkLabel({ kind: "http", url }), apiKey: API_KEY, timeoutMs });
}

async function send(url: string, count: number, timeoutMs?: number): Promise<unknown> {
  const sink = sinkFor(url, timeoutMs);
  for (let i = 0; i < count; i++) sink.write(event, line(i));
  return sink.flush().then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("http sink", () => {
  test("ok: POSTs {url}/v0/events with Bearer, JSON content type, user agent and an events array", async () => {
    seen.length = 0;
    mood = "ok";
    expect(await send(`http://127.0.0.1:${server.port}`, 3)).toBeUndefined();
    expect(seen).toHaveLength(1);
    const [request] = seen as [Seen];
    expect(request.method).toBe("POST");
    expect(request.path).toBe(EVENTS_PATH);
    expect(request.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.headers.get("user-agent")).toBe(SDK_VERSION);
    expect(JSON.parse(request.body)).toEqual({ events: [0, 1, 2].map((i) => ({ sequence_number: i })) });
  });

  test("ok: a batch over the per-request limit is split into several bodies", async () => {
    seen.length = 0;
    mood = "ok";
    expect(await send(`http://127.0.0.1:${server.port}`, 1_200)).toBeUndefined();
    expect(seen.map((s) => (JSON.parse(s.body) as { events: unknown[] }).events.length)).toEqual([500, 500, 200]);
  });

  test("no body is over 1 MiB on the wire, whatever the script (UTF-8 bytes counted, the wrapper too)", async () => {
    seen.length = 0;
    mood = "ok";
    const sink = sinkFor(`http://127.0.0.1:${server.port}`);
    // Events the privacy stage lets through (64 KiB per field): 3 bytes per UTF-16 unit in CJK text.
    const lines = Array.from({ length: 60 }, (_, i) =>
      JSON.stringify({ sequence_number: i, text: "漢".repeat(21_000) }),
    );
    for (const text of lines) sink.write(event, text);
    await sink.flush();
    const sizes = seen.map((s) => Buffer.byteLength(s.body));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_HTTP_BODY_BYTES);
    expect(seen.flatMap((s) => (JSON.parse(s.body) as { events: unknown[] }).events)).toEqual(
      lines.map((l) => JSON.parse(l)),
    );
  });

  test.each([
    ["500", () => `http://127.0.0.1:${server.port}`, "HTTP 500", 1_500],
    ["connection refused", () => deadUrl, "POST /v0/events failed", 1_500],
    ["hanging", () => `http://127.0.0.1:${hanging.port}`, "no answer within 200 ms", 200],
  ])("%s: flush rejects with E_SINK and no secret in the message", async (_mood, url, expected, timeoutMs) => {
    mood = "fail";
    const started = performance.now();
    const error = await send(url(), 2, timeoutMs);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(LocalError);
    expect((error as LocalError).code).toBe("E_SINK");
    expect((error as LocalError).message).toContain(expected);
    expect((error as LocalError).message).not.toContain(API_KEY);
  });

  test("credentials in the URL never reach an error message", async () => {
    const url = `http://user:${API_KEY}@127.0.0.1:${dead.port}`;
    const error = (await send(url, 1)) as LocalError;
    expect(error.message).toContain("http://***@127.0.0.1");
    expect(error.message).not.toContain(API_KEY);
  });

  test("a fetch error that quotes the URL or the API key is reported with the sink's label in their place", async () => {
    const url = `https://user:pw-in-url@console.example`;
    const label = sinkLabel({ kind: "http", url });
    const sink = createHttpSink({
      url,
      label,
      apiKey: API_KEY,
      fetch: async (target, init) => {
        const auth = (init.headers as Record<string, string>).Authorization;
        throw new TypeError(`cannot reach ${target} with ${auth}`);
      },
    });
    sink.write(event, line(0));
    const error = (await sink.flush().then(
      () => undefined,
      (e: unknown) => e,
    )) as LocalError;
    expect(error.message).toBe(
      `${label}: POST /v0/events failed: cannot reach ${label}/v0/events with Bearer ${label}`,
    );
    expect(error.message).not.toContain("pw-in-url");
  });

  test("a redirect elsewhere whose path quotes the API key is reported without it", async () => {
    const url = "https://console.example";
    const label = sinkLabel({ kind: "http", url });
    const sink = createHttpSink({
      url,
      label,
      apiKey: API_KEY,
      fetch: async () =>
        new Response(null, { status: 307, headers: { location: `https://elsewhere.example/${API_KEY}` } }),
    });
    sink.write(event, line(0));
    const error = (await sink.flush().then(
      () => undefined,
      (e: unknown) => e,
    )) as LocalError;
    expect(error.message).toContain("HTTP 307: a redirect to https://elsewhere.example/");
    expect(error.message).not.toContain(API_KEY);
  });

  test("through the dispatcher, failures are logged without the API key", async () => {
    mood = "fail";
    const logger = createMemoryLogger(); // deliberately without secrets: the sink itself must not leak
    const sinks = [sinkFor(`http://127.0.0.1:${server.port}`), sinkFor(deadUrl)];
    const dispatcher = createDispatcher({ sinks, logger });
    for (let i = 0; i < 5; i++) dispatcher.enqueue({ ...event, sequence_number: i } as BatonEvent);
    await dispatcher.shutdown();
    expect(dispatcher.dropped).toBe(10);
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(logger.lines.join("\n")).not.toContain(API_KEY);
  });

  test("a batch cut short after the console accepted some of its requests counts only the rest as dropped", async () => {
    let posts = 0;
    const accepted: number[] = [];
    const flaky = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const { events } = (await request.json()) as { events: { sequence_number: number }[] };
        if (posts++ === 1) return new Response("busy", { status: 503 });
        accepted.push(...events.map((e) => e.sequence_number));
        return new Response(null, { status: 204 });
      },
    });
    const logger = createMemoryLogger();
    const dispatcher = createDispatcher({ sinks: [sinkFor(`http://127.0.0.1:${flaky.port}`)], logger });
    // 512 events make one dispatcher batch: requests of 500 (accepted) and 12 (refused).
    for (let i = 1; i <= 512; i++) dispatcher.enqueue({ ...event, sequence_number: i } as BatonEvent);
    await dispatcher.shutdown();
    await flaky.stop(true);
    expect(accepted).toHaveLength(500);
    expect(dispatcher.dropped).toBe(12);
    expect(logger.lines.join("\n")).toContain("dropped 12 event(s)");
  });

  test("redirects: followed within the console's origin, never to another (events and key stay home); one log line, counted as dropped", async () => {
    const elsewhere: string[] = [];
    const other = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        elsewhere.push(`${request.method} ${request.headers.get("authorization")} ${await request.text()}`);
        return new Response("{}", { status: 202 });
      },
    });
    let home = 0;
    const redirecting = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (request) => {
        const path = new URL(request.url).pathname;
        if (path === `/old${EVENTS_PATH}`)
          return new Response(null, { status: 308, headers: { location: EVENTS_PATH } });
        if (path === `/moved${EVENTS_PATH}`)
          return Response.redirect(`http://localhost:${other.port}/steal?k=${API_KEY}`, 307);
        home += (await request.text()).length > 0 ? 1 : 0;
        return new Response("{}", { status: 202 });
      },
    });
    try {
      expect(await send(`http://127.0.0.1:${redirecting.port}/old`, 2)).toBeUndefined();
      expect(home).toBe(1);
      const error = (await send(`http://127.0.0.1:${redirecting.port}/moved`, 2)) as LocalError;
      expect(error.code).toBe("E_SINK");
      expect(error.message).toContain(
        `HTTP 307: a redirect to http://localhost:${other.port}/steal?***, another origin`,
      );
      expect(error.message).not.toContain(API_KEY);
      const logger = createMemoryLogger();
      const dispatcher = createDispatcher({ sinks: [sinkFor(`http://127.0.0.1:${redirecting.port}/moved`)], logger });
      for (let i = 0; i < 3; i++) dispatcher.enqueue({ ...event, sequence_number: i } as BatonEvent);
      await dispatcher.shutdown();
      expect(dispatcher.dropped).toBe(3);
      expect(logger.lines.filter((l) => l.includes("another origin, not followed"))).toHaveLength(1);
      expect(elsewhere).toEqual([]);
    } finally {
      await redirecting.stop(true);
      await other.stop(true);
    }
  });

  test("a hanging console never holds shutdown past its deadline", async () => {
    const dispatcher = createDispatcher({
      sinks: [sinkFor(`http://127.0.0.1:${hanging.port}`)],
      logger: createMemoryLogger(),
    });
    dispatcher.enqueue({ ...event, sequence_number: 0 } as BatonEvent);
    const started = performance.now();
    await dispatcher.shutdown(300);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(dispatcher.dropped).toBe(1);
  });
});

describe("buildBodies", () => {
  test.each([
    ["empty", [], 500, 1_000, []],
    ["one", ["1"], 500, 1_000, ['{"events":[1]}']],
    ["split by count", ["1", "2", "3"], 2, 1_000, ['{"events":[1,2]}', '{"events":[3]}']],
    ["split by size (of the whole body)", ["11", "22", "33"], 10, 18, ['{"events":[11,22]}', '{"events":[33]}']],
    ["UTF-8 bytes, not UTF-16 units", ['"漢漢"', '"漢漢"'], 10, 24, ['{"events":["漢漢"]}', '{"events":["漢漢"]}']],
    [
      "an oversized event goes alone",
      ["1", "x".repeat(20), "2"],
      10,
      16,
      ['{"events":[1]}', `{"events":[${"x".repeat(20)}]}`, '{"events":[2]}'],
    ],
  ])("%s", (_name, lines, maxEvents, maxBytes, expected) => {
    expect(buildBodies(lines, maxEvents, maxBytes)).toEqual(expected);
  });
});
