// Measures the privacy stage's throughput on three workloads and prints ONE JSON line (scripts/bench.ts embeds it). Not a test: never asserts.

import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createEventScrubber } from "../src/telemetry/scrub.ts";

/** Wall time spent per workload after warm-up; three workloads keep the whole run near 3 s. */
const RUN_MS_PER_CASE = 800;
const WARMUP_RUNS = 3;
const MIB = 1024 * 1024;
const SMALL_EVENTS = 10_000;
const SMALL_EVENT_BYTES = 1024;

/** Deterministic so runs compare: a 32-bit LCG. */
function createRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

function baseEvent(sequence: number): Omit<BatonEvent, "event_type" | "payload"> {
  return {
    event_id: "019fedb9-89f5-724a-8e26-e31c3ccec84b",
    tenant_id: "bench",
    vendor_id: "bench",
    session_id: "bench-session",
    sequence_number: sequence,
    captured_at: "2026-11-24T10:30:00.000000Z",
    consent_token: "local",
    sdk_version: "baton-proxy/0.0.0",
    agent_runtime: "bench",
    user_id: null,
    runtime_meta: { "baton/call_id": `c${sequence}` },
  };
}

function endEvent(result: unknown): BatonEvent {
  return { ...baseEvent(1), event_type: "tool_call_end", payload: { tool_name: "bench", result, duration_ms: 12 } };
}

/** (a) Log-like text with digits, colons and paths but no PII: the common case, 1 MiB. */
function plainText(): string {
  const random = createRandom(1);
  const words = [
    "error",
    "at",
    "line",
    "42",
    "col",
    "7",
    "src/main.ts:",
    "value=3.14",
    "id",
    "1234567",
    "user_id:",
    "2026-11-24T10:30:00Z",
    "the",
    "request",
    "took",
    "ms",
  ];
  const parts: string[] = [];
  for (let size = 0; size < MIB; ) {
    const word = words[random(words.length)] ?? "";
    parts.push(word);
    size += word.length + 1;
  }
  return parts.join(" ").slice(0, MIB);
}

/** (b) A structured result of customer records with mixed PII, about 256 KiB of JSON. */
function piiRecords(): unknown {
  const random = createRandom(2);
  const rows: unknown[] = [];
  while (JSON.stringify(rows).length < 256 * 1024) {
    const n = rows.length;
    rows.push({
      id: `cus_${n.toString(36).padStart(8, "0")}`,
      name: `Customer ${n}`,
      email: `user${n}@example.com`,
      phone: `+1 (555) ${200 + random(700)}-${1000 + random(9000)}`,
      last_ip: `10.${random(256)}.${random(256)}.${1 + random(254)}`,
      card: n % 5 === 0 ? "4111 1111 1111 1111" : null,
      notes: n % 3 === 0 ? `Called about order ${100000 + n}; prefers email, see ticket #${n * 7}.` : "",
      balance: random(100000) / 100,
      created_at: "2026-11-24T10:30:00Z",
      credentials: n % 10 === 0 ? { api_key: "sk-proj-Abc123def456GHI789jkl012MNO" } : undefined,
    });
  }
  return { content: [{ type: "text", text: `Found ${rows.length} customers` }], structuredContent: { rows } };
}

/** (c) Many small tool_call_start events of about 1 KiB each. */
function smallEvents(): BatonEvent[] {
  return Array.from({ length: SMALL_EVENTS }, (_, i) => {
    const params: Record<string, unknown> = {
      query: `select * from orders where customer = ${i} and status = 'open'`,
      limit: 50,
      owner: i % 4 === 0 ? `owner${i}@example.com` : "team-a",
    };
    params.filler = "lorem ipsum dolor sit amet ".repeat(
      Math.max(0, Math.ceil((SMALL_EVENT_BYTES - JSON.stringify(params).length) / 27)),
    );
    return {
      ...baseEvent(i),
      event_type: "tool_call_start",
      payload: {
        tool_name: "query",
        params,
        call_intent: null,
        call_expected: null,
        call_workflow: null,
        intent_source: null,
      },
    };
  });
}

/** Runs `work` repeatedly for about RUN_MS_PER_CASE; returns milliseconds per run (median-free mean is fine at this length). */
function timePerRun(work: () => void): number {
  for (let i = 0; i < WARMUP_RUNS; i++) work();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < RUN_MS_PER_CASE) {
    work();
    runs++;
  }
  return (performance.now() - start) / runs;
}

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

export function main(): void {
  const scrub = createEventScrubber({ mode: "on", extraKeys: [] });
  const plain = endEvent([{ type: "text", text: plainText() }]);
  const pii = endEvent(piiRecords());
  const piiBytes = JSON.stringify(pii.payload).length;
  const small = smallEvents();
  const smallBytes = small.reduce((n, e) => n + JSON.stringify(e.payload).length, 0);

  const plainMs = timePerRun(() => void scrub(plain));
  const piiMs = timePerRun(() => void scrub(pii));
  const smallMs = timePerRun(() => {
    for (const event of small) scrub(event);
  });
  const piiMeta = scrub(pii).runtime_meta ?? {};
  const result = {
    plain_text_1mib: { ms_per_event: round(plainMs), input_mb_per_s: round(MIB / 1e6 / (plainMs / 1e3), 1) },
    pii_json_256kib: {
      ms_per_event: round(piiMs),
      input_mb_per_s: round(piiBytes / 1e6 / (piiMs / 1e3), 1),
      redactions: piiMeta["baton/scrubbed"],
      truncated: piiMeta["baton/truncated"] ?? 0,
    },
    small_events_10k_x_1kib: {
      ms_total: round(smallMs, 1),
      us_per_event: round((smallMs * 1e3) / small.length, 2),
      input_mb_per_s: round(smallBytes / 1e6 / (smallMs / 1e3), 1),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.main) main();
