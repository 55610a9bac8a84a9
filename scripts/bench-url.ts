// `bun scripts/bench-url.ts [--rounds N]`: one local Streamable HTTP server, three ways in: direct (the SDK's HTTP client),
// through mcp-remote (stdio), through `baton-proxy --url` (stdio). Startup to initialize, per-call p50/p99, calls/s with 50 in flight.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { startRemoteFixture } from "../test/support/remote-server.ts";
import { buildIfStale, HOST_BINARY } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const NODE = Bun.which("node") ?? "node";
const MCP_REMOTE = join(ROOT, "node_modules", "mcp-remote", "dist", "proxy.js");
/** Sequential calls per round (latency). */
const SEQUENTIAL_CALLS = 300;
/** Calls per round for throughput, and how many are kept in flight. */
const BURST_CALLS = 2000;
const IN_FLIGHT = 50;

interface Row {
  startup_ms: number;
  p50_ms: number;
  p99_ms: number;
  calls_per_s: number;
}

type Contender = { label: string; open: () => Transport };

async function measure(contender: Contender): Promise<Row> {
  const t0 = performance.now();
  const client = new Client({ name: "bench-url", version: "1.0.0" });
  await client.connect(contender.open());
  const startup = performance.now() - t0;
  await client.callTool({ name: "echo", arguments: { text: "warm-up" } });
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
    const start = performance.now();
    await client.callTool({ name: "echo", arguments: { text: `call ${i}` } });
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  let next = 0;
  const burstStart = performance.now();
  const worker = async () => {
    while (next < BURST_CALLS) {
      next++;
      await client.callTool({ name: "echo", arguments: { text: "burst" } });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - burstStart) / 1000;
  await client.close();
  return {
    startup_ms: round(startup),
    p50_ms: round(latencies[Math.floor(latencies.length * 0.5)] as number, 3),
    p99_ms: round(latencies[Math.floor(latencies.length * 0.99)] as number, 3),
    calls_per_s: Math.round(BURST_CALLS / seconds),
  };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const roundsFlag = process.argv.indexOf("--rounds");
  const rounds = roundsFlag === -1 ? 3 : Number(process.argv[roundsFlag + 1]);
  await buildIfStale();
  const server = await startRemoteFixture(["--no-get"]);
  const home = mkdtempSync(join(tmpdir(), "bench-url-"));
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    BATON_EVENT_SINK: `file://${join(home, "events.jsonl")}`,
  };
  const contenders: Contender[] = [
    { label: "direct (SDK HTTP client)", open: () => new StreamableHTTPClientTransport(new URL(server.url)) },
    {
      label: "mcp-remote 0.15.1",
      open: () =>
        new StdioClientTransport({
          command: NODE,
          args: [MCP_REMOTE, server.url, "--transport", "http-only"],
          env,
          stderr: "ignore",
        }),
    },
    {
      label: "baton-proxy --url",
      open: () =>
        new StdioClientTransport({ command: HOST_BINARY, args: ["--url", server.url], env, stderr: "ignore" }),
    },
  ];
  const results = new Map<string, Row[]>(contenders.map((c) => [c.label, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const contender of contenders) results.get(contender.label)?.push(await measure(contender));
    }
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
  const table = contenders.map((c) => {
    const rows = results.get(c.label) as Row[];
    return {
      label: c.label,
      startup_ms: median(rows.map((x) => x.startup_ms)),
      p50_ms: median(rows.map((x) => x.p50_ms)),
      p99_ms: median(rows.map((x) => x.p99_ms)),
      calls_per_s: median(rows.map((x) => x.calls_per_s)),
    };
  });
  console.log(
    `Medians of ${rounds} interleaved rounds; ${SEQUENTIAL_CALLS} sequential echo calls, ${BURST_CALLS} calls with ${IN_FLIGHT} in flight.\n`,
  );
  console.log("| path | startup to initialize (ms) | p50 per call (ms) | p99 per call (ms) | calls/s, 50 in flight |");
  console.log("|---|---:|---:|---:|---:|");
  for (const row of table)
    console.log(`| ${row.label} | ${row.startup_ms} | ${row.p50_ms} | ${row.p99_ms} | ${row.calls_per_s} |`);
  console.log(`\n${JSON.stringify(table)}`);
}

if (import.meta.main) await main();
