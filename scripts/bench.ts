// `bun run bench`: the neutral driver (../shared/bench) against the bare fake server and the compiled proxy in one run, plus ratios.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildIfStale, HOST_BINARY } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const BENCH_DIR = resolve(ROOT, "../shared/bench");
const BINARY = HOST_BINARY;
const NODE = Bun.which("node") ?? "node";

interface Row {
  startup_ms: number;
  seq_p50_us: number;
  seq_p99_us: number;
  burst_calls_per_s: number;
  blob_MB_per_s: number;
  exit: number | string;
  exit_ms: number;
}

async function drive(label: string, command: string[], env: Record<string, string>, flags: string[]): Promise<Row & { label: string }> {
  const proc = Bun.spawn([NODE, join(BENCH_DIR, "drive.mjs"), ...flags, "--", ...command], { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } as Record<string, string> });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`driver failed for ${label} (exit ${code}): ${out}`);
  return { label, ...(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Row) };
}

/** A console that accepts connections and never answers: the worst case for the HTTP sink. */
export function hangingConsole(): { url: string; stop(): void } {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: () => new Promise<Response>(() => undefined) });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** Peak RSS (VmHWM) of the proxy process after `calls` pipelined echo calls through it. */
export async function peakRss(env: Record<string, string>, calls: number): Promise<{ peak_rss_mib: number; calls: number; seconds: number }> {
  const proc = Bun.spawn([BINARY, "--", NODE, join(BENCH_DIR, "fake-server.mjs")], { stdin: "pipe", stdout: "pipe", stderr: "ignore", env: { ...process.env, ...env } as Record<string, string> });
  const reader = proc.stdout.getReader();
  let answered = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  const readUntil = async (target: number) => {
    while (answered < target) {
      const { value, done } = await reader.read();
      if (done) throw new Error("proxy closed stdout early");
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        buffered = buffered.slice(nl + 1);
        answered++;
      }
    }
  };
  const t0 = performance.now();
  proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench-rss", version: "1" } } })}\n`);
  await readUntil(1);
  const BATCH = 1000;
  for (let sent = 0; sent < calls; sent += BATCH) {
    let lines = "";
    for (let i = 0; i < BATCH; i++) lines += `${JSON.stringify({ jsonrpc: "2.0", id: sent + i + 1, method: "tools/call", params: { name: "echo", arguments: { text: `call ${sent + i}` } } })}\n`;
    proc.stdin.write(lines);
    await proc.stdin.flush();
    await readUntil(1 + sent + BATCH);
  }
  const status = await Bun.file(`/proc/${proc.pid}/status`).text().catch(() => "");
  const hwm = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0);
  const seconds = (performance.now() - t0) / 1000;
  proc.stdin.end();
  await proc.exited;
  return { peak_rss_mib: Math.round(hwm / 1024), calls, seconds: Number(seconds.toFixed(1)) };
}

/** Per-metric median of several runs of one configuration. */
function median(runs: (Row & { label: string })[]): Row & { label: string } {
  const mid = <T,>(values: T[]): T => [...values].sort((a, b) => Number(a) - Number(b))[Math.floor(values.length / 2)] as T;
  const first = runs[0] as Row & { label: string };
  return {
    label: first.label,
    startup_ms: mid(runs.map((r) => r.startup_ms)),
    seq_p50_us: mid(runs.map((r) => r.seq_p50_us)),
    seq_p99_us: mid(runs.map((r) => r.seq_p99_us)),
    burst_calls_per_s: mid(runs.map((r) => r.burst_calls_per_s)),
    blob_MB_per_s: mid(runs.map((r) => r.blob_MB_per_s)),
    exit: runs.every((r) => r.exit === 0) ? 0 : runs.map((r) => r.exit).join("/"),
    exit_ms: mid(runs.map((r) => r.exit_ms)),
  };
}

function table(rows: (Row & { label: string })[]): string {
  const bare = rows[0] as Row;
  const ratio = (v: number, b: number) => (b === 0 ? "-" : `${Math.round((v / b) * 100)}%`);
  const lines = [
    "| run | startup ms (Δ) | seq p50 µs (Δ) | seq p99 µs | pipelined calls/s (% bare) | 1 MiB results MB/s (% bare) | exit after EOF ms |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    lines.push(`| ${r.label} | ${r.startup_ms} (${r === bare ? "-" : `+${(r.startup_ms - bare.startup_ms).toFixed(1)}`}) | ${r.seq_p50_us} (${r === bare ? "-" : `+${r.seq_p50_us - bare.seq_p50_us}`}) | ${r.seq_p99_us} | ${r.burst_calls_per_s} (${ratio(r.burst_calls_per_s, bare.burst_calls_per_s)}) | ${r.blob_MB_per_s} (${ratio(r.blob_MB_per_s, bare.blob_MB_per_s)}) | ${r.exit_ms} (exit ${r.exit}) |`);
  }
  return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<void> {
  if (!existsSync(join(BENCH_DIR, "drive.mjs"))) throw new Error(`benchmark driver not found at ${BENCH_DIR} (it lives in ../shared/bench beside this repository)`);
  if (await buildIfStale()) process.stderr.write("built dist/baton-proxy\n");
  const quick = argv.includes("--quick");
  const flags = quick ? ["--seq", "500", "--burst", "5000", "--blobn", "20"] : [];
  const fake = [NODE, join(BENCH_DIR, "fake-server.mjs")];
  const proxied = [BINARY, "--", ...fake];
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-"));
  const dead = hangingConsole();
  try {
    const configs: [string, string[], Record<string, string>][] = [
      ["bare server", fake, {}],
      ["proxy, events to stderr only", proxied, { BATON_EVENT_SINK: "stderr:" }],
      ["proxy, default sinks (stderr + file)", proxied, { BATON_EVENT_SINK: `stderr:,file://${join(dir, "events.jsonl")}` }],
      ["proxy, hanging console + file", proxied, { BATON_EVENT_SINK: `${dead.url},file://${join(dir, "events2.jsonl")}`, BATON_API_KEY: "bench-key", BATON_CONSENT_TOKEN: "bench-consent" }],
    ];
    // Shared machines drift: the configurations are interleaved round by round and each figure is
    // the median over the rounds, so a slow minute does not land on one row only.
    const rounds = argv.includes("--rounds") ? Math.max(1, Number(argv[argv.indexOf("--rounds") + 1]) || 1) : quick ? 1 : 3;
    const samples = configs.map(() => [] as (Row & { label: string })[]);
    for (let round = 0; round < rounds; round++) {
      for (const [i, [label, command, env]] of configs.entries()) samples[i]?.push(await drive(label, command, env, flags));
    }
    const rows = samples.map(median);
    if (rounds > 1) process.stdout.write(`medians over ${rounds} interleaved rounds\n`);
    process.stdout.write(`${table(rows)}\n\n`);
    const rss = await peakRss({ BATON_EVENT_SINK: `${dead.url},file://${join(dir, "rss.jsonl")}`, BATON_API_KEY: "bench-key", BATON_CONSENT_TOKEN: "bench-consent" }, quick ? 20_000 : 100_000);
    process.stdout.write(`peak RSS of the proxy under a hanging console: ${rss.peak_rss_mib} MiB after ${rss.calls} calls (${rss.seconds} s)\n`);
    const scrub = Bun.spawn([process.execPath, join(ROOT, "scripts", "bench-scrub.ts")], { stdout: "pipe", stderr: "inherit" });
    const scrubOut = (await new Response(scrub.stdout).text()).trim();
    if ((await scrub.exited) === 0) process.stdout.write(`scrubbing throughput: ${scrubOut}\n`);
  } finally {
    dead.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
