// Black-box: the compiled proxy fans events out to file://, s3:// (a local signature-checking S3) and otlp: (a local receiver) in one scripted session.

import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { gunzipSync } from "node:zlib";
import { assertValidEvent, checkCallPairs, checkEnvelopes, readValidatedEvents } from "./support/events.ts";
import { startOtlpReceiver, type DecodedSpan, type OtlpReceiver } from "./support/otlp-receiver.ts";
import { fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";
import { S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY, startLocalS3, type LocalS3 } from "./support/s3-server.ts";

const HOST_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const HOST_SPAN = "00f067aa0ba902b7";
const OTLP_SECRET = "Bearer otlp-secret-value-123";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** Reads every object under `prefix` with the AWS SDK (a second, independent S3 client). */
async function readObjects(s3: LocalS3, bucket: string, prefix: string): Promise<{ key: string; lines: string[] }[]> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
  });
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const objects: { key: string; lines: string[] }[] = [];
  for (const item of listed.Contents ?? []) {
    const key = item.Key as string;
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    const text = key.endsWith(".gz") ? gunzipSync(bytes).toString("utf8") : new TextDecoder().decode(bytes);
    expect(text.endsWith("\n")).toBe(true);
    objects.push({ key, lines: text.slice(0, -1).split("\n") });
  }
  client.destroy();
  return objects;
}

async function setup(
  extraEnv: Record<string, string> = {},
): Promise<{ s3: LocalS3; otlp: OtlpReceiver; dir: string; env: Record<string, string> }> {
  const s3 = await startLocalS3(["events"]);
  cleanup.push(() => s3.stop());
  const otlp = startOtlpReceiver();
  cleanup.push(() => otlp.stop());
  const dir = tempDir();
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")},s3://events/baton/prod,otlp:`,
    BATON_CONSENT_TOKEN: "consent-for-tests",
    BATON_TENANT_ID: "customer:acme",
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
    AWS_REGION: S3_REGION,
    AWS_ENDPOINT_URL: s3.endpoint,
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(OTLP_SECRET)}`,
    OTEL_SERVICE_NAME: "invoices-mcp",
    OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test",
    BATON_PROXY_LOG_FILE: join(dir, "proxy.log"),
    ...extraEnv,
  };
  return { s3, otlp, dir, env };
}

/** successes, a JSON-RPC error, isError, a cancellation, then an upstream crash with a call in flight. */
async function scriptedSession(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const proxy = await startProxy(fixture("echo"), { env });
  await proxy.request(1, "initialize", INIT_PARAMS);
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const meta = { traceparent: `00-${HOST_TRACE}-${HOST_SPAN}-01`, tracestate: "vendor=abc" };
  expect(
    (await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "hello" }, _meta: meta })).result,
  ).toBeDefined();
  expect((await proxy.request("three", "tools/call", { name: "boom", arguments: {} })).error.code).toBe(-32000);
  expect((await proxy.request(4, "tools/call", { name: "fail", arguments: {} })).result.isError).toBe(true);
  proxy.send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "never", arguments: {} } });
  proxy.send({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: 5, reason: "user pressed stop" },
  });
  expect((await proxy.request(6, "tools/call", { name: "echo", arguments: { text: "again" } })).result).toBeDefined();
  proxy.send({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "crash", arguments: {} } });
  const crashed = await proxy.next((m) => m?.id === 7);
  expect(crashed.error.code).toBe(-32603);
  const code = await proxy.proc.exited;
  return { code, stderr: proxy.stderr() };
}

describe("file://, s3:// and otlp: in fan-out", () => {
  test("every sink gets the session: S3 objects equal the file's events, spans follow the MCP conventions", async () => {
    const { s3, otlp, dir, env } = await setup({ BATON_OTEL_CAPTURE_CONTENT: "on" });
    const { stderr } = await scriptedSession(env);

    const fileEvents = readValidatedEvents(join(dir, "events.jsonl"));
    checkCallPairs(fileEvents);
    expect(fileEvents.filter((e) => e.event_type === "tool_call_start")).toHaveLength(6);

    // S3: read back with the AWS SDK; every line validates and the union is exactly the file's events.
    const objects = await readObjects(s3, "events", "baton/prod/");
    expect(objects.length).toBeGreaterThan(0);
    const s3Events = objects.flatMap((o) => o.lines.map((l) => JSON.parse(l)));
    for (const event of s3Events) assertValidEvent(event);
    checkEnvelopes(s3Events);
    expect(s3Events.map((e) => e.event_id)).toEqual(fileEvents.map((e) => e.event_id));
    const session = fileEvents[0]?.session_id as string;
    const day = String(fileEvents[0]?.captured_at).slice(0, 10).replaceAll("-", "/");
    for (const object of objects) {
      const seqs = object.lines.map((l) => JSON.parse(l).sequence_number as number);
      const range = `${String(seqs[0]).padStart(12, "0")}-${String(seqs.at(-1)).padStart(12, "0")}`;
      expect(object.key).toBe(`baton/prod/customer:acme/${day}/${session}/${range}.jsonl`);
    }
    expect(s3.requests.every((r) => r.signed)).toBe(true);

    // OTLP: decoded with the official generated protobuf code.
    expect(otlp.requests.every((r) => r.headers.get("authorization") === OTLP_SECRET)).toBe(true);
    expect(otlp.requests.every((r) => r.headers.get("content-type") === "application/x-protobuf")).toBe(true);
    const spans = otlp.spans();
    const servers = spans.filter((s) => s.kind === 2);
    const clients = spans.filter((s) => s.kind === 3);
    expect(servers).toHaveLength(6);
    expect(clients).toHaveLength(6);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const client of clients) {
      const parent = byId.get(client.parentSpanId) as DecodedSpan;
      expect(parent.kind).toBe(2);
      expect(parent.traceId).toBe(client.traceId);
      expect(parent.name).toBe(client.name);
      expect(client.start).toBeGreaterThanOrEqual(parent.start);
      expect(client.end).toBeLessThanOrEqual(parent.end);
    }
    const server = (requestId: string): DecodedSpan =>
      servers.find((s) => s.attributes["jsonrpc.request.id"] === requestId) as DecodedSpan;
    const client = (requestId: string): DecodedSpan =>
      clients.find((s) => s.attributes["jsonrpc.request.id"] === requestId) as DecodedSpan;

    const ok = server("2");
    expect(ok.name).toBe("tools/call echo");
    expect(ok.traceId).toBe(HOST_TRACE);
    expect(ok.parentSpanId).toBe(HOST_SPAN);
    expect(ok.traceState).toBe("vendor=abc");
    expect(ok.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "echo",
      "gen_ai.operation.name": "execute_tool",
      "mcp.protocol.version": "2025-06-18",
      "network.transport": "pipe",
      "baton.session.id": session,
      "gen_ai.tool.call.arguments": JSON.stringify({ text: "hello" }),
    });
    expect(ok.attributes["gen_ai.tool.call.result"]).toContain("hello");
    expect(ok.attributes["error.type"]).toBeUndefined();
    expect(ok.status.code).toBe(0);
    expect(ok.resource).toMatchObject({ "service.name": "invoices-mcp", "deployment.environment": "test" });
    expect(ok.scope).toBe("baton-proxy");
    const fileStart = fileEvents.find(
      (e) => e.event_type === "tool_call_start" && e.runtime_meta["baton/request_id"] === "2",
    );
    const micros = (at: string): bigint =>
      BigInt(Date.parse(`${at.slice(0, 19)}Z`)) * 1_000_000n + BigInt(at.slice(20, 26)) * 1000n;
    expect(ok.start).toBe(micros(fileStart?.captured_at));
    expect(ok.end).toBeGreaterThanOrEqual(ok.start);
    expect(server("6").parentSpanId).toBe(""); // no traceparent: a new trace, our SERVER span is its root
    expect(server("6").traceId).not.toBe(HOST_TRACE);

    // -32000 is a server error: ERROR on both sides, with the code as error.type and status code.
    for (const span of [server("three"), client("three")]) {
      expect(span.attributes).toMatchObject({ "error.type": "-32000", "rpc.response.status_code": "-32000" });
      expect(span.status.code).toBe(2);
      expect(span.status.message).toContain("boom");
    }
    // isError: tool_error, ERROR on both.
    for (const span of [server("4"), client("4")]) {
      expect(span.attributes["error.type"]).toBe("tool_error");
      expect(span.status.code).toBe(2);
    }
    // Cancelled by the host: the CLIENT span (our request) failed, the SERVER span is not an error.
    expect(client("5").attributes["error.type"]).toBe("cancelled");
    expect(client("5").status.code).toBe(2);
    expect(server("5").status.code).toBe(0);
    expect(server("5").attributes["error.type"]).toBeUndefined(); // if and only if the span failed
    // Upstream crash: both spans fail with upstream_exit.
    for (const span of [server("7"), client("7")]) {
      expect(span.attributes["error.type"]).toBe("upstream_exit");
      expect(span.status.code).toBe(2);
    }
    // The host got the proxy's own -32603 for it (the server never answered): on the SERVER span only.
    expect(server("7").attributes["rpc.response.status_code"]).toBe("-32603");
    expect(client("7").attributes["rpc.response.status_code"]).toBeUndefined();

    // Secrets never logged.
    for (const secret of [S3_SECRET_ACCESS_KEY, OTLP_SECRET, "otlp-secret-value-123"])
      expect(stderr).not.toContain(secret);
  }, 60_000);

  test("gzip objects, OTLP/JSON, and BATON_OTEL_PROPAGATE=on: the server sees our CLIENT span as its parent", async () => {
    const { s3, otlp, dir, env } = await setup({
      BATON_S3_GZIP: "on",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      BATON_OTEL_PROPAGATE: "on",
      BATON_EVENT_SINK: `s3://events/gz,otlp:`,
    });
    // The server's stdin is teed to a file: what the proxy forwarded, byte for byte.
    const forwarded = join(dir, "to-server.jsonl");
    const proxy = await startProxy(["sh", "-c", `tee "${forwarded}" | "$0" "$1"`, ...fixture("echo")], { env });
    await proxy.request(1, "initialize", INIT_PARAMS);
    const answer = await proxy.request(2, "tools/call", {
      name: "echo",
      arguments: { text: "ctx" },
      _meta: { traceparent: `00-${HOST_TRACE}-${HOST_SPAN}-01`, other: 1 },
    });
    expect(answer.result).toBeDefined();
    expect(await proxy.close()).toBe(0);

    const objects = await readObjects(s3, "events", "gz/");
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object.key).toEndWith(".jsonl.gz");
    const events = objects.flatMap((o) => o.lines.map((l) => JSON.parse(l)));
    for (const event of events) assertValidEvent(event);
    const start = events.find((e) => e.event_type === "tool_call_start");
    // The request's own _meta is recorded as it came from the host (before our traceparent replaced its span).
    expect(start.runtime_meta.traceparent).toBe(`00-${HOST_TRACE}-${HOST_SPAN}-01`);
    expect(start.runtime_meta.other).toBe(1);

    expect(otlp.requests.every((r) => r.headers.get("content-type") === "application/json")).toBe(true);
    const spans = otlp.spans();
    const client = spans.find((s) => s.kind === 3) as DecodedSpan;
    expect(client.traceId).toBe(HOST_TRACE);
    const sent = (await Bun.file(forwarded).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const call = sent.find((m) => m.method === "tools/call");
    expect(call.params._meta).toEqual({ traceparent: `00-${HOST_TRACE}-${client.spanId}-01`, other: 1 });
    expect(call.params.arguments).toEqual({ text: "ctx" });
    expect(sent.find((m) => m.method === "initialize")).toEqual({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: INIT_PARAMS,
    });
    expect(start.runtime_meta["baton/span_id"]).toBe(client.spanId);
    expect(start.runtime_meta["baton/trace_id"]).toBe(HOST_TRACE);
  }, 60_000);

  test("fail-open: an S3 endpoint that never answers and a dead collector cost the session nothing, and exit stays within the deadline", async () => {
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const hanging = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Promise<Response>(() => {}) });
    cleanup.push(() => hanging.stop(true));
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const deadUrl = `http://127.0.0.1:${dead.port}`;
    await dead.stop(true); // nothing listens there any more
    const env = {
      BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")},s3://events/x,otlp:`,
      BATON_CONSENT_TOKEN: "consent-for-tests",
      AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${hanging.port}`,
      BATON_S3_BATCH_MS: "50",
      OTEL_EXPORTER_OTLP_ENDPOINT: deadUrl,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(OTLP_SECRET)}`,
    };
    const proxy = await startProxy(fixture("echo"), { env });
    await proxy.request(1, "initialize", INIT_PARAMS);
    for (let id = 2; id < 12; id++)
      expect(
        (await proxy.request(id, "tools/call", { name: "echo", arguments: { text: `n${id}` } })).result,
      ).toBeDefined();
    const closedAt = performance.now();
    expect(await proxy.close()).toBe(0);
    expect(performance.now() - closedAt).toBeLessThan(5_000); // the 2 s event deadline, not the 30 s PUT timeout
    const events = readValidatedEvents(join(dir, "events.jsonl"));
    expect(events.filter((e) => e.event_type === "tool_call_end")).toHaveLength(10); // the local sink lost nothing
    const stderr = proxy.stderr();
    // A network error is retried (OTLP spec), at exit within the deadline, then given up and logged.
    const gaveUp = [`otlp:${deadUrl}: export failed`, `otlp:${deadUrl}: shutdown deadline`];
    expect(gaveUp.some((said) => stderr.includes(said))).toBe(true);
    expect(stderr).toMatch(/dropped \d+ event\(s\) for s3:\/\/events\/x: shutdown deadline/);
    for (const secret of [S3_SECRET_ACCESS_KEY, OTLP_SECRET, "otlp-secret-value-123"])
      expect(stderr).not.toContain(secret);
  }, 60_000);
});
