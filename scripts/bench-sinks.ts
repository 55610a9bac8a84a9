// Measures the CPU cost per event of the s3:// and otlp: sinks (write + flush as the dispatcher drives them, network replaced by no-ops) next to the file sink; prints ONE JSON line. Not a test: never asserts.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryLogger } from "../test/support/memory-logger.ts";
import { SYSTEM_CLOCK } from "../src/telemetry/clock.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createFileSink } from "../src/telemetry/sinks/file-sink.ts";
import { createOtlpSink } from "../src/telemetry/sinks/otlp-sink.ts";
import { createS3Sink } from "../src/telemetry/sinks/s3-sink.ts";
import type { Sink } from "../src/telemetry/sinks/sink.ts";

/** Tool calls per run (two events each); the dispatcher hands sinks batches of this size. */
const CALLS = 20_000;
const BATCH_EVENTS = 512;
const RUNS = 5;

/** A realistic call: a few arguments, a ~600-byte text result, a trace context from the host. */
function callEvents(sequence: number, session: string): [BatonEvent, BatonEvent] {
  const envelope = (seq: number, at: string) => ({
    event_id: `019fedb9-89f5-724a-8e26-${String(seq).padStart(12, "0")}`,
    tenant_id: "customer:acme",
    vendor_id: "bench",
    session_id: session,
    sequence_number: seq,
    captured_at: at,
    consent_token: "ct_bench",
    sdk_version: "baton-proxy/0.1.0",
    agent_runtime: "claude-code",
    user_id: null,
    runtime_meta: {
      "baton/call_id": `c${sequence}`,
      "baton/request_id": String(sequence),
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    },
  });
  const start = {
    ...envelope(sequence * 2 - 1, "2026-11-24T10:30:00.123456Z"),
    event_type: "tool_call_start",
    payload: {
      tool_name: "search_invoices",
      params: { customer: "acme", status: "unpaid", limit: 50 },
      call_intent: null,
      call_expected: null,
      call_workflow: null,
      intent_source: null,
    },
  };
  const result = [
    { type: "text", text: `Found 3 invoices for acme: ${"INV-2026-0042 due 2026-12-01 EUR 1,200.00; ".repeat(12)}` },
  ];
  const end = {
    ...envelope(sequence * 2, "2026-11-24T10:30:00.163456Z"),
    event_type: "tool_call_end",
    payload: { tool_name: "search_invoices", result, duration_ms: 40 },
  };
  return [start as BatonEvent, end as BatonEvent];
}

const EVENTS: { event: BatonEvent; line: string }[] = [];
for (let i = 1; i <= CALLS; i++)
  for (const event of callEvents(i, `session-${i % 8}`)) EVENTS.push({ event, line: JSON.stringify(event) });

/** CPU microseconds (user + system) per event for one pass of every event through `make()`'s sink, closed at the end. */
async function measure(make: () => Sink): Promise<number> {
  const sink = make();
  const before = process.cpuUsage();
  for (let i = 0; i < EVENTS.length; i += BATCH_EVENTS) {
    for (const { event, line } of EVENTS.slice(i, i + BATCH_EVENTS)) sink.write(event, line);
    await sink.flush();
  }
  await sink.close();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / EVENTS.length;
}

async function median(make: () => Sink): Promise<number> {
  await measure(make); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(make));
  runs.sort((a, b) => a - b);
  return Number((runs[Math.floor(RUNS / 2)] as number).toFixed(2));
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-sinks-"));
  const logger = createMemoryLogger();
  const s3 = (gzip: boolean) => () =>
    createS3Sink({
      label: "s3://bench",
      prefix: "bench",
      settings: { batchMs: 10_000, batchBytes: 8 * 1024 * 1024, gzip },
      put: async () => {},
      clock: SYSTEM_CLOCK,
    });
  const otlpSettings = {
    endpoint: "http://127.0.0.1:4318/v1/traces",
    headers: {},
    gzip: false,
    timeoutMs: 1_000,
    resource: { "service.name": "bench" },
    captureContent: false,
    propagate: false,
  };
  const noFetch = async (_url: string, init: RequestInit) => {
    void init.body;
    return new Response(null, { status: 200 });
  };
  const otlp =
    (protocol: "http/protobuf" | "http/json", captureContent = false) =>
    () =>
      createOtlpSink({ settings: { ...otlpSettings, protocol, captureContent }, transport: "pipe", fetch: noFetch });
  let file = 0;
  const result = {
    bench: "sinks",
    events: EVENTS.length,
    unit: "CPU µs per event (user+sys), median of 5 runs; network replaced by no-ops",
    file: await median(() => createFileSink({ path: join(dir, `events-${file++}.jsonl`), logger })),
    s3: await median(s3(false)),
    s3_gzip: await median(s3(true)),
    otlp_protobuf: await median(otlp("http/protobuf")),
    otlp_json: await median(otlp("http/json")),
    otlp_protobuf_with_content: await median(otlp("http/protobuf", true)),
  };
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

if (import.meta.main) await main();
