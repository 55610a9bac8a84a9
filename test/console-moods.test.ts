// Black-box: the compiled proxy against a real local console (HTTP sink) that is healthy, failing, gone or hanging; the pipe and the file sink must not care.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";
import { assertValidEvent, checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { eventually, fixture, INIT_PARAMS, runBinary, startProxy, tempDir } from "./support/proxy-process.ts";

/** The proxy must be gone this long after stdin EOF whatever the console does (SPEC §5/§8: "a few seconds"). */
const EXIT_BOUND_MS = 4000;

type Mood = "ok" | "500" | "refused" | "hanging";

interface Recorded {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: string;
}

interface Console {
  url: string;
  requests: Recorded[];
  stop(): void;
}

const servers: Server<undefined>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

/** A console on 127.0.0.1 (port 0) that records every request and answers according to its mood. */
function startConsole(mood: Mood): Console {
  const requests: Recorded[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      requests.push({
        method: request.method,
        path: new URL(request.url).pathname,
        authorization: request.headers.get("authorization"),
        contentType: request.headers.get("content-type"),
        body,
      });
      if (mood === "500") return new Response("console is sick", { status: 500 });
      if (mood === "hanging") return new Promise<Response>(() => undefined); // accepts, reads, never answers
      return Response.json({ accepted: true });
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  if (mood === "refused") {
    server.stop(true); // the port is now dead: connections are refused
    return { url, requests, stop: () => undefined };
  }
  servers.push(server);
  return { url, requests, stop: () => server.stop(true) };
}

describe("console moods", () => {
  for (const mood of ["ok", "500", "refused", "hanging"] as const) {
    test(`console ${mood}: calls answered, file sink complete, no secrets printed, no session report tool, exit within ${EXIT_BOUND_MS} ms of EOF`, async () => {
      const console_ = startConsole(mood);
      const events = join(tempDir(), "events.jsonl");
      const apiKey = `sk-test-${crypto.randomUUID()}`;
      const consent = `consent-${crypto.randomUUID()}`;
      const p = await startProxy(fixture("echo"), {
        env: {
          BATON_EVENT_SINK: `${console_.url},file://${events}`,
          BATON_API_KEY: apiKey,
          BATON_CONSENT_TOKEN: consent,
        },
      });

      const latencies: number[] = [];
      const timed = async (id: number, method: string, params: unknown) => {
        const started = performance.now();
        const response = await p.request(id, method, params);
        latencies.push(performance.now() - started);
        return response;
      };
      const init = await p.request(0, "initialize", INIT_PARAMS);
      expect(init.result.serverInfo.name).toBe("fixture");
      p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      const names = (await p.request(1, "tools/list", {})).result.tools.map((t: { name: string }) => t.name);
      expect(names).toContain("baton_annotate");
      expect(names).not.toContain("baton_session_report");

      const echo = await p.request(2, "tools/call", { name: "echo", arguments: { text: "hello console" } });
      expect(echo.result.content[0].text).toBe("hello console");
      if (mood !== "refused") {
        // Delivery happens in the background during the session, not only at shutdown; from here on the
        // console is answering (ok), failing (500) or holding a request open (hanging) while we keep calling.
        await eventually(
          () => console_.requests.some((r) => r.body.includes('"tool_call_end"')),
          5000,
          "the first events at the console",
        );
      }
      const failed = await timed(3, "tools/call", { name: "fail", arguments: {} });
      expect(failed.result.isError).toBe(true);
      const boom = await timed(4, "tools/call", { name: "boom", arguments: {} });
      expect(boom.error.code).toBe(-32000);
      const ack = await timed(5, "tools/call", {
        name: "baton_annotate",
        arguments: { intent: `annotate with the console ${mood}` },
      });
      expect(ack.result.isError).toBeUndefined();
      const report = await timed(6, "tools/call", { name: "baton_session_report", arguments: {} });
      // Not injected with a remote sink, so not ours to answer: the server gets it (and does not know it).
      expect(report.result).toEqual({
        content: [{ type: "text", text: "unknown tool baton_session_report" }],
        isError: true,
      });
      const after = await timed(7, "tools/call", { name: "echo", arguments: { text: "still answered" } });
      expect(after.result.content[0].text).toBe("still answered");

      // The calls above were never held up by the console: a stalled pipe would show the 1.5 s HTTP timeout.
      expect(Math.max(...latencies)).toBeLessThan(1000);

      const eofAt = performance.now();
      const code = await p.close();
      const exitMs = performance.now() - eofAt;
      expect(code).toBe(0);
      expect(exitMs).toBeLessThan(EXIT_BOUND_MS);

      const output = `${p.stderr()}\n${p.lines.join("\n")}`;
      expect(output).not.toContain(apiKey);
      expect(output).not.toContain(consent);
      if (mood === "ok") expect(p.stderr()).not.toContain("dropped");
      else expect(p.stderr()).toMatch(/dropped \d+ event/);

      const everything = readValidatedEvents(events);
      // The file holds every event whatever the console did: its report must not say any were dropped.
      const offline = await runBinary(["report", events]);
      expect(offline.code).toBe(0);
      expect(offline.stdout).toContain("- **Calls:** 5 ");
      expect(offline.stdout).not.toContain("Dropped events");
      expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
      const all = everything.filter((e) => e.event_type !== "surface_snapshot");
      checkCallPairs(all);
      expect(all.map((e) => [e.event_type, e.payload.tool_name])).toEqual([
        ["tool_call_start", "echo"],
        ["tool_call_end", "echo"],
        ["tool_call_start", "fail"],
        ["tool_call_error", "fail"],
        ["tool_call_start", "boom"],
        ["tool_call_error", "boom"],
        ["annotation", null],
        ["tool_call_start", "baton_session_report"],
        ["tool_call_error", "baton_session_report"],
        ["tool_call_start", "echo"],
        ["tool_call_end", "echo"],
      ]);
      for (const event of all) expect(event.consent_token).toBe(consent);

      if (mood === "refused") expect(console_.requests).toEqual([]);
      else expect(console_.requests.length).toBeGreaterThan(0);
      for (const request of console_.requests) {
        expect(request.method).toBe("POST");
        expect(request.path).toBe("/v0/events");
        expect(request.authorization).toBe(`Bearer ${apiKey}`);
        expect(request.contentType).toContain("application/json");
        const body = JSON.parse(request.body) as { events: Record<string, any>[] };
        expect(Object.keys(body)).toEqual(["events"]);
        expect(body.events.length).toBeGreaterThan(0);
        for (const event of body.events) {
          assertValidEvent(event);
          expect(event.consent_token).toBe(consent);
        }
      }
      if (mood === "ok") {
        // A healthy console receives every event, each once.
        const delivered = console_.requests.flatMap((r) =>
          (JSON.parse(r.body) as { events: { event_id: string }[] }).events.map((e) => e.event_id),
        );
        expect(delivered.sort()).toEqual(everything.map((e) => e.event_id).sort());
      }
    });
  }
});

describe("remote sink refusals", () => {
  test.each([
    ["no BATON_API_KEY", { BATON_CONSENT_TOKEN: "consent-real" }, "BATON_API_KEY"],
    ["the placeholder consent token", { BATON_API_KEY: "sk-refusal-secret-0000" }, "BATON_CONSENT_TOKEN"],
  ] as const)(
    "a remote sink with %s: refuses to start (exit 78), the server is never started, the console never called",
    async (_what, extra, named) => {
      const console_ = startConsole("ok");
      const marker = join(tempDir(), "started");
      const { stdout, stderr, code } = await runBinary(["--", "sh", "-c", `touch ${marker}`], {
        BATON_EVENT_SINK: console_.url,
        ...extra,
      });
      expect(code).toBe(78);
      expect(stdout).toBe("");
      expect(stderr).toContain(named);
      expect(stderr).not.toContain("sk-refusal-secret-0000");
      expect(existsSync(marker)).toBe(false);
      expect(console_.requests).toEqual([]);
    },
  );
});

describe("exit flush", () => {
  test("a stop signal during the exit flush (MCP SDK 1.x sends SIGTERM 2 s after EOF) neither loses the last events nor the server's exit status", async () => {
    const received: number[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let posts = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        const { events } = (await request.json()) as { events: { sequence_number: number }[] };
        if (posts++ === 0) await released; // the first batch is still in flight when the session ends
        received.push(...events.map((e) => e.sequence_number));
        return new Response(null, { status: 204 });
      },
    });
    servers.push(server);
    const p = await startProxy(fixture("echo"), {
      env: {
        BATON_EVENT_SINK: `http://127.0.0.1:${server.port}`,
        BATON_API_KEY: `sk-test-${crypto.randomUUID()}`,
        BATON_CONSENT_TOKEN: `consent-${crypto.randomUUID()}`,
      },
    });
    await p.request(1, "initialize", INIT_PARAMS);
    await p.request(2, "tools/call", { name: "echo", arguments: { text: "first" } });
    await eventually(() => posts === 1, 5000, "the first batch at the console");
    await p.request(3, "tools/call", { name: "echo", arguments: { text: "second" } });
    const closing = p.close();
    await eventually(() => p.stderr().includes("fixture stdin closed"), 5000, "the server told of EOF");
    await Bun.sleep(100); // the server has exited: the proxy is delivering its last events
    p.proc.kill("SIGTERM");
    release();
    expect(await closing).toBe(0);
    expect(received.sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
  });
});
