// Black-box: serve's operations (health, readiness, metrics checked by promtool and scraped by a real Prometheus, idle expiry, SIGTERM drain, upstream loss).

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { binaryPath } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { freePort, startHttpFixture, waitFor, postOnSession } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const metricValue = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);

function requireTool(name: string): string {
  const path = Bun.which(name);
  if (path === null) throw new Error(`${name} not found: apt-get install -y prometheus (see .ci/run)`);
  return path;
}

describe("admin listener", () => {
  test("/healthz is ok; /readyz follows the upstream (any status counts); /metrics after traffic passes promtool", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url]);
    try {
      const health = await fetch(`${proxy.adminUrl}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, "ok"]);
      expect((await fetch(`${proxy.adminUrl}/readyz`)).status).toBe(200);
      const client = new Client({ name: "metrics-agent", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
      await client.callTool({ name: "echo", arguments: { message: "m" } });
      await client.callTool({ name: "fail", arguments: {} });
      await client.close();
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call"\} 1/);
      expect(metrics).toMatch(
        /mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call",error_type="tool_error"\} 1/,
      );
      expect(metrics).toMatch(/baton_tool_calls_total\{outcome="ok"\} 1/);
      expect(metrics).toMatch(/baton_tool_calls_total\{outcome="tool_error"\} 1/);
      expect(metrics).toMatch(
        /baton_http_server_requests_total\{route="mcp",http_request_method="POST",http_response_status_code="200"\} \d+/,
      );
      const check = Bun.spawnSync([requireTool("promtool"), "check", "metrics"], {
        stdin: new TextEncoder().encode(metrics),
      });
      expect(`${check.stdout.toString()}${check.stderr.toString()}`).toBe("");
      expect(check.exitCode).toBe(0);
      await upstream.stop();
      // The cached probe result may live up to 5 s; readiness then turns 503.
      await waitFor(
        async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 503,
        "readiness to notice the upstream is gone",
        8_000,
      );
      expect((await fetch(`${proxy.adminUrl}/healthz`)).status).toBe(200);
    } finally {
      expect(await proxy.stop()).toBe(0);
      await upstream.stop();
    }
  }, 20_000);

  test("a real Prometheus scrapes /metrics", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url]);
    const dir = mkdtempSync(join(tmpdir(), "baton-prom-"));
    const port = await freePort();
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: baton\n    static_configs:\n      - targets: ["${new URL(proxy.adminUrl).host}"]\n`,
    );
    const prometheus = Bun.spawn(
      [
        requireTool("prometheus"),
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      const client = new Client({ name: "scraped-agent", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
      await client.callTool({ name: "echo", arguments: { message: "scrape me" } });
      const query = async (q: string) => {
        try {
          const body = (await (
            await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`)
          ).json()) as { data?: { result?: { value: [number, string] }[] } };
          return body.data?.result ?? [];
        } catch {
          return [];
        }
      };
      await waitFor(
        async () => (await query('up{job="baton"}'))[0]?.value[1] === "1",
        "Prometheus to scrape the admin listener",
        20_000,
      );
      await waitFor(
        async () => (await query("baton_sessions_open")).length === 1,
        "baton_sessions_open in Prometheus",
        10_000,
      );
      const counts = await query('mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"}');
      expect(Number(counts[0]?.value[1])).toBe(1);
      await client.close();
    } finally {
      prometheus.kill("SIGTERM");
      await prometheus.exited;
      rmSync(dir, { recursive: true, force: true });
      expect(await proxy.stop()).toBe(0);
      await upstream.stop();
    }
  }, 40_000);
});

describe("listen addresses", () => {
  // Bun.serve sets SO_REUSEPORT unless told otherwise when `development` is false: a second serve
  // then shared the port (the kernel splitting connections, so sessions, between two processes).
  test.each(["--listen", "--admin-listen"])(
    "%s on an address another serve holds: exit 1, cannot listen",
    async (flag) => {
      const first = await startServe(["--upstream", "http://127.0.0.1:1/mcp"]);
      try {
        const taken = new URL(flag === "--listen" ? first.url : first.adminUrl).host;
        const other = flag === "--listen" ? "--admin-listen" : "--listen";
        const second = Bun.spawn(
          [await binaryPath(), "serve", "--upstream", "http://127.0.0.1:1/mcp", flag, taken, other, "127.0.0.1:0"],
          { env: { PATH: process.env.PATH ?? "", BATON_EVENT_SINK: "stderr:" }, stdout: "pipe", stderr: "pipe" },
        );
        const timer = setTimeout(() => second.kill("SIGINT"), 5_000);
        const code = await second.exited;
        clearTimeout(timer);
        expect(await new Response(second.stderr).text()).toContain("cannot listen");
        expect(code).toBe(1);
      } finally {
        expect(await first.stop()).toBe(0);
      }
    },
  );
});

describe("sessions", () => {
  test("idle sessions are forgotten after --session-idle-ms (gauge down, session duration observed)", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url, "--session-idle-ms", "300"]);
    try {
      const client = new Client({ name: "idle-agent", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
      await client.callTool({ name: "echo", arguments: { message: "then idle" } });
      const before = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metricValue(before, /baton_sessions_open (\d+)/)).toBe(1);
      // The SDK client keeps a GET stream open: a session with an open stream is busy, never expired.
      await client.close();
      await waitFor(
        async () =>
          metricValue(await (await fetch(`${proxy.adminUrl}/metrics`)).text(), /baton_sessions_open (\d+)/) === 0,
        "the idle session to be forgotten",
        5_000,
      );
      const after = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metricValue(after, /mcp_server_session_duration_seconds_count (\d+)/)).toBe(1);
    } finally {
      expect(await proxy.stop()).toBe(0);
      await upstream.stop();
    }
  });

  test("a session whose POST answer is still streaming (a subscriptions/listen stream) is busy, never forgotten while it streams", async () => {
    const upstream = listenUpstream({ tools: [] });
    const proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`, "--session-idle-ms", "300"]);
    const post = (id: number, method: string, client: string, signal?: AbortSignal) =>
      fetch(proxy.url, {
        method: "POST",
        signal,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method,
          params: {
            _meta: {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientInfo": { name: client, version: "1" },
            },
          },
        }),
      });
    const metrics = async () => (await fetch(`${proxy.adminUrl}/metrics`)).text();
    try {
      const stop = new AbortController();
      const stream = await post(1, "subscriptions/listen", "streamer", stop.signal);
      const reader = stream.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("acknowledged");
      // Another client's group, idle at once: once it is forgotten, the idle bound has passed for the streamer too.
      await (await post(2, "tools/list", "control")).arrayBuffer();
      await waitFor(
        async () => metricValue(await metrics(), /mcp_server_session_duration_seconds_count (\d+)/) >= 1,
        "the idle control group to be forgotten",
        5_000,
      );
      expect(metricValue(await metrics(), /baton_sessions_open (\d+)/)).toBe(1);
      stop.abort();
      await reader.cancel().catch(() => undefined);
      await waitFor(
        async () => metricValue(await metrics(), /baton_sessions_open (\d+)/) === 0,
        "the streamer forgotten once its stream ended",
        5_000,
      );
    } finally {
      expect(await proxy.stop()).toBe(0);
      upstream.stop(true);
    }
  });

  test("upstream lost mid-session: the next call gets a prompt 502 and its tool_call_error says upstream_unreachable", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url]);
    try {
      const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
      const client = new Client({ name: "stranded-agent", version: "1" });
      await client.connect(transport);
      await upstream.stop();
      const response = await postOnSession(proxy.url, transport.sessionId as string, {
        jsonrpc: "2.0",
        id: 41,
        method: "tools/call",
        params: { name: "echo", arguments: { message: "into the void" } },
      });
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({ id: 41, error: { code: -32001 } });
      let events: Record<string, any>[] = [];
      await waitFor(() => {
        events = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === "stranded-agent");
        return events.some((e) => e.event_type === "tool_call_error");
      }, "the tool_call_error event");
      expect(events.find((e) => e.event_type === "tool_call_error")?.payload).toMatchObject({
        tool_name: "echo",
        error_type: "upstream_unreachable",
      });
      await client.close().catch(() => undefined);
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/baton_tool_calls_total\{outcome="upstream_unreachable"\} 1/);
    } finally {
      expect(await proxy.stop()).toBe(0);
      await upstream.stop();
    }
  });
});

describe("SIGTERM drain", () => {
  test("readiness 503 at once, new sessions 503, existing sessions served during the floor, the call in flight finishes, open GET streams close, events flushed, exit 0", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url, "--drain-timeout-ms", "10000"]);
    try {
      const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
        reconnectionOptions: {
          maxRetries: 0,
          initialReconnectionDelay: 60_000,
          maxReconnectionDelay: 60_000,
          reconnectionDelayGrowFactor: 1,
        },
      });
      const client = new Client({ name: "draining-agent", version: "1" });
      await client.connect(transport);
      // A raw GET stream of our own, to watch it being closed by the proxy.
      const stream = await fetch(proxy.url, {
        headers: {
          accept: "text/event-stream",
          "mcp-session-id": transport.sessionId as string,
          "mcp-protocol-version": "2025-11-25",
        },
      });
      const streamClosed = (async () => {
        const reader = stream.body!.getReader();
        while (!(await reader.read()).done) {}
        return true;
      })().catch(() => true);
      let progressed = false;
      const slow = client.callTool({ name: "slow", arguments: { steps: 6, ms: 150 } }, undefined, {
        onprogress: () => void (progressed = true),
      });
      await waitFor(() => progressed, "the slow call to be under way");
      const started = performance.now();
      proxy.process.kill("SIGTERM");
      await waitFor(
        async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 503,
        "readiness to turn 503",
        2_000,
      );
      const fresh = await fetch(proxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "late", version: "1" } },
        }),
      });
      expect(fresh.status).toBe(503);
      // Still listening (unready) for the SIGTERM floor: requests on existing sessions are served.
      const onSession = await postOnSession(proxy.url, transport.sessionId as string, {
        jsonrpc: "2.0",
        id: 90,
        method: "tools/call",
        params: { name: "echo", arguments: { message: "during the drain" } },
      });
      expect(onSession.status).toBe(200);
      expect(await onSession.text()).toContain("Echo: during the drain");
      expect(await Promise.race([streamClosed, Bun.sleep(3_000).then(() => false)])).toBe(true);
      expect(JSON.stringify(await slow)).toContain("done after 6 steps");
      const code = await proxy.process.exited;
      expect(code).toBe(0);
      expect(performance.now() - started).toBeLessThan(10_000);
      const events = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === "draining-agent");
      expect(events.map((e) => e.event_type)).toEqual([
        "tool_call_start",
        "tool_call_start",
        "tool_call_end",
        "tool_call_end",
      ]);
      await client.close().catch(() => undefined);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  }, 20_000);

  test("with nothing in flight, SIGTERM still keeps the listener open (unready) for the floor, so a late request is served, then exit 0", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url, "--drain-timeout-ms", "3000"]);
    try {
      proxy.process.kill("SIGTERM");
      await waitFor(
        async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 503,
        "readiness to turn 503",
        2_000,
      );
      // A load balancer that has not yet withdrawn the endpoint still sends traffic: it is answered.
      const late = await fetch(`${proxy.origin}/echo-headers`);
      expect(late.status).toBe(200);
      await late.arrayBuffer();
      expect(await proxy.process.exited).toBe(0);
      await waitFor(() => proxy.log.some((l) => l.includes("listening for at least 3000 ms")), "the drain log line");
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });
});

describe("SIGTERM drain past its timeout", () => {
  test("calls still streaming their answers at the drain timeout are answered with an error each, on a stream that ends cleanly (not cut: a client would wait for them until its own timeout)", async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url, "--drain-timeout-ms", "1000"]);
    try {
      // Two sessions, each with a call far longer than the drain; its progress makes the answer an SSE stream.
      const calls = await Promise.all(
        [1, 2].map(async (n) => {
          const client = new Client({ name: `cut-agent-${n}`, version: "1" });
          const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
          await client.connect(transport);
          const response = await postOnSession(proxy.url, transport.sessionId as string, {
            jsonrpc: "2.0",
            id: 40 + n,
            method: "tools/call",
            params: { name: "slow", arguments: { steps: 200, ms: 100 }, _meta: { progressToken: n } },
          });
          expect(response.headers.get("content-type")).toContain("text/event-stream");
          const reader = response.body!.getReader();
          const first = new TextDecoder().decode((await reader.read()).value);
          const rest = (async () => {
            let text = first;
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return { clean: true, text };
              text += new TextDecoder().decode(value);
            }
          })().catch((error: unknown) => ({ clean: false, text: String(error) }));
          return { id: 40 + n, rest, client };
        }),
      );
      proxy.process.kill("SIGTERM");
      for (const call of calls) {
        const { clean, text } = await call.rest;
        expect(clean).toBe(true);
        const answers = text
          .split("\n")
          .filter((line) => line.startsWith("data: "))
          .map((line) => JSON.parse(line.slice(6)) as { id?: unknown; error?: { message: string } });
        const answer = answers.find((a) => a.id === call.id);
        expect(answer?.error?.message).toContain("shutting down");
      }
      expect(await proxy.process.exited).toBe(0);
      const errors = readValidatedEvents(proxy.eventsFile).filter((e) => e.event_type === "tool_call_error");
      expect(errors.map((e) => e.payload.error_type)).toEqual(["proxy_shutdown", "proxy_shutdown"]);
      for (const call of calls) await call.client.close().catch(() => undefined);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  }, 20_000);
});

describe("SIGTERM drain, a GET stream still waiting for its head", () => {
  test("a GET stream whose upstream has not sent its head yet (a Bun server sends it with the first event) is closed by the drain too, cleanly, not held to the timeout", async () => {
    // The upstream takes the GET and says nothing (no head, no event) until it goes away.
    let reached!: () => void;
    const waiting = new Promise<void>((resolve) => (reached = resolve));
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: (request) => {
        if (request.method !== "GET") return new Response(null, { status: 405 });
        reached();
        return new Promise<Response>(() => undefined);
      },
    });
    const proxy = await startServe([
      "--upstream",
      `http://127.0.0.1:${upstream.port}/mcp`,
      "--drain-timeout-ms",
      "3000",
    ]);
    try {
      const stream = fetch(proxy.url, {
        headers: { accept: "text/event-stream", "mcp-session-id": "s-1", "mcp-protocol-version": "2025-11-25" },
      });
      // Answered when the proxy gives up on it: an end of stream (or any answer) rather than a connection cut.
      const outcome = stream.then(
        async (response) => `${response.status} ${await response.text()}`,
        (error: unknown) => `cut: ${String(error)}`,
      );
      await waiting;
      proxy.process.kill("SIGTERM");
      expect(await proxy.process.exited).toBe(0);
      expect(await outcome).not.toStartWith("cut");
      expect(proxy.log.join("\n")).not.toContain("drain timeout");
    } finally {
      await proxy.stop();
      upstream.stop(true);
    }
  }, 20_000);
});

describe("SIGTERM drain, modern era", () => {
  test("an open subscriptions/listen stream (the 2026 GET stream) is closed by the proxy itself, cleanly; a new one gets 503", async () => {
    const upstream = listenUpstream({});
    const proxy = await startServe([
      "--upstream",
      `http://127.0.0.1:${upstream.port}/mcp`,
      "--drain-timeout-ms",
      "3000",
    ]);
    const listen = (id: number) =>
      fetch(proxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id,
          method: "subscriptions/listen",
          params: {
            notifications: { toolsListChanged: true },
            _meta: {
              "io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientInfo": { name: "listener", version: "1" },
            },
          },
        }),
      });
    try {
      const stream = await listen(1);
      const reader = stream.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("subscriptions/acknowledged");
      const ended = (async () => {
        let text = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return { clean: true, text };
          text += new TextDecoder().decode(value);
        }
      })().catch((error: unknown) => ({ clean: false, text: String(error) }));
      proxy.process.kill("SIGTERM");
      await waitFor(
        async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 503,
        "readiness to turn 503",
        2_000,
      );
      // Closed by the proxy at once, as an end of stream (the client listens again elsewhere), not an error.
      expect(await Promise.race([ended, Bun.sleep(2_000).then(() => ({ clean: false, text: "still open" }))])).toEqual({
        clean: true,
        text: "",
      });
      const late = await listen(2);
      expect(late.status).toBe(503);
      // Not -32002: 2025-11-25 gives it "resource not found", and 2026-07-28 forbids emitting it at all.
      expect(((await late.json()) as { error: { code: number } }).error.code).toBe(-32603);
      expect(await proxy.process.exited).toBe(0);
      expect(proxy.log.join("\n")).not.toContain("drain timeout");
    } finally {
      await proxy.stop();
      upstream.stop(true);
    }
  }, 20_000);
});

/**
 * A 2026-era upstream: `subscriptions/listen` gets an SSE answer that acknowledges the subscription
 * and stays open until the client (the proxy) goes away, as a listen stream does; any other request
 * gets `result`; anything but a POST gets 405.
 */
function listenUpstream(result: Record<string, unknown>) {
  const encoder = new TextEncoder();
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (request) => {
      // The proxy's readiness probe (HEAD) has no body: reading one would throw in the test.
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const message = (await request.json()) as { id: number; method: string };
      if (message.method !== "subscriptions/listen") return Response.json({ jsonrpc: "2.0", id: message.id, result });
      const acknowledged = {
        jsonrpc: "2.0",
        method: "notifications/subscriptions/acknowledged",
        params: { _meta: { "io.modelcontextprotocol/subscriptionId": message.id } },
      };
      return new Response(
        new ReadableStream({
          start: (controller) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(acknowledged)}\n\n`)),
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    },
  });
}

describe("sinks' own losses", () => {
  test("an S3 upload given up after its retries is logged and counted in serve, as over stdio", async () => {
    const upstream = await startHttpFixture();
    const s3 = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("no", { status: 500 }) });
    const proxy = await startServe(["--upstream", upstream.url], {
      BATON_EVENT_SINK: "s3://events/x",
      BATON_CONSENT_TOKEN: "consent-for-tests",
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "example-secret-access-key",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${s3.port}`,
    });
    try {
      const client = new Client({ name: "s3-loss", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
      await client.callTool({ name: "echo", arguments: { text: "hi" } });
      await client.close();
      // At SIGTERM the sink seals its object and retries quickly; every attempt gets a 500.
      expect(await proxy.stop()).toBe(0);
      expect(proxy.log.join("\n")).toMatch(/dropped \d+ event\(s\) for s3:\/\/events\/x: upload failed/);
    } finally {
      s3.stop(true);
      await upstream.stop();
    }
  }, 30_000);
});
