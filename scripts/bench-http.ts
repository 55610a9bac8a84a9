// `npm run bench:http`: the same MCP calls direct to a Node upstream and through the compiled `serve`, in one run: added latency, calls/s, SSE relay throughput.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildIfStale, HOST_BINARY } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const NODE = Bun.which("node") ?? "node";
const ROUNDS = 4;
const SEQ_PER_ROUND = 500;
const CONCURRENT_SESSIONS = 50;
const CONCURRENT_SECONDS = 3;
const CONCURRENT_WARMUP_SECONDS = 3;
const STREAM_EVENTS = 20_000;
const STREAM_EVENT_BYTES = 200;

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

/** Starts a process that prints {"port":N} (or the serve start line) and resolves with what `match` finds. */
async function start(
  command: string[],
  env: Record<string, string>,
  stream: "stdout" | "stderr",
  match: (line: string) => string | undefined,
) {
  const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", ...env } });
  const reader = (proc[stream] as ReadableStream<Uint8Array>).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${command.join(" ")} exited before it was ready: ${buffer}`);
    buffer += new TextDecoder().decode(value);
    for (const line of buffer.split("\n")) {
      const found = match(line);
      if (found !== undefined) {
        reader.releaseLock();
        return { proc, found };
      }
    }
  }
}

async function openSession(url: string): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench-http", version: "1" } },
    }),
  });
  await response.text();
  const id = response.headers.get("mcp-session-id");
  if (id === null) throw new Error("no session id");
  await (
    await fetch(url, {
      method: "POST",
      headers: { ...HEADERS, "mcp-session-id": id },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    })
  ).text();
  return id;
}

async function call(url: string, session: string, id: number): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...HEADERS, "mcp-session-id": session },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "echo", arguments: { message: `call ${id}` } },
    }),
  });
  const text = await response.text();
  if (!text.includes(`call ${id}`)) throw new Error(`wrong answer for ${id}: ${text.slice(0, 200)}`);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function sequential(url: string, session: string, base: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SEQ_PER_ROUND; i++) {
    const t = performance.now();
    await call(url, session, base + i);
    times.push((performance.now() - t) * 1000);
  }
  return times;
}

/** CPU time (user + system, all threads) a process has used, in µs; NaN where /proc is not there. */
function cpuMicros(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS_PER_S = 100;

/** Calls/s of 50 sessions, and the CPU µs per call of `pid` (the process the calls reach): CPU time is not skewed by other load on the machine the way wall time is. */
async function concurrent(
  url: string,
  pid: number,
  seconds = CONCURRENT_SECONDS,
): Promise<{ rate: number; cpuUs: number }> {
  const sessions = await Promise.all(Array.from({ length: CONCURRENT_SESSIONS }, () => openSession(url)));
  const stopAt = performance.now() + seconds * 1000;
  let done = 0;
  const cpuBefore = cpuMicros(pid);
  await Promise.all(
    sessions.map(async (session, s) => {
      for (let i = 1; performance.now() < stopAt; i++) {
        await call(url, session, s * 1_000_000 + i);
        done++;
      }
    }),
  );
  return { rate: done / seconds, cpuUs: (cpuMicros(pid) - cpuBefore) / done };
}

async function sse(url: string, session: string): Promise<{ eventsPerS: number; mibPerS: number }> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { ...HEADERS, "mcp-session-id": session },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "stream", arguments: { events: STREAM_EVENTS, bytes: STREAM_EVENT_BYTES } },
    }),
  });
  let bytes = 0;
  for await (const chunk of response.body as ReadableStream<Uint8Array>) bytes += chunk.length;
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerS: STREAM_EVENTS / seconds, mibPerS: bytes / 1024 / 1024 / seconds };
}

/** `--env KEY=VALUE` (repeatable) adds to serve's environment, e.g. to compare consent modes. */
function extraEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  process.argv.forEach((arg, i) => {
    const next = process.argv[i + 1];
    if (arg === "--env" && next !== undefined && next.includes("="))
      env[next.slice(0, next.indexOf("="))] = next.slice(next.indexOf("=") + 1);
  });
  return env;
}

/** `--binary PATH` benches another build of baton-proxy (e.g. main's, to compare before/after). */
function chosenBinary(): string | undefined {
  const at = process.argv.indexOf("--binary");
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<void> {
  const binary = chosenBinary() ?? HOST_BINARY;
  if (binary === HOST_BINARY) await buildIfStale();
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-http-"));
  const upstream = await start([NODE, join(ROOT, "scripts", "bench-http-server.mjs")], {}, "stdout", (l) =>
    l.startsWith("{") ? String((JSON.parse(l) as { port: number }).port) : undefined,
  );
  const direct = `http://127.0.0.1:${upstream.found}/mcp`;
  const bare = await start(
    [process.execPath, join(ROOT, "scripts", "bench-http-bare.ts"), direct],
    {},
    "stderr",
    (l) => /bare proxy on (\S+)/.exec(l)?.[1],
  );
  const serve = await start(
    [
      binary,
      "serve",
      "--upstream",
      direct,
      "--listen",
      "127.0.0.1:0",
      "--admin-listen",
      "127.0.0.1:0",
      "--drain-timeout-ms",
      "0",
    ],
    { BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")}`, ...extraEnv() },
    "stderr",
    (l) => /serving MCP on (\S+)/.exec(l)?.[1],
  );
  const targets = { direct, bare: bare.found, serve: serve.found } as const;
  // The CPU measured per target: the upstream's for direct calls, the proxy's own for the others.
  const pids = { direct: upstream.proc.pid, bare: bare.proc.pid, serve: serve.proc.pid } as const;
  type Target = keyof typeof targets;
  const names = Object.keys(targets) as Target[];
  const per = <T>(make: () => T) => Object.fromEntries(names.map((n) => [n, make()])) as Record<Target, T>;
  const loadAtStart = loadavg();
  try {
    const sessions = per(() => "");
    for (const n of names) sessions[n] = await openSession(targets[n]);
    for (const n of names) await sequential(targets[n], sessions[n], 0); // warm-up
    // The concurrent path warmed up too: Bun's JIT compiles for the first ~20k calls (that CPU is not the steady state).
    for (const n of names) await concurrent(targets[n], pids[n], CONCURRENT_WARMUP_SECONDS);
    // Interleaved rounds: the machine's noise falls on every target alike.
    const seq = per((): number[] => []);
    for (let r = 1; r <= ROUNDS; r++)
      for (const n of names) seq[n].push(...(await sequential(targets[n], sessions[n], r * 10_000)));
    for (const list of Object.values(seq)) list.sort((a, b) => a - b);
    const rates = per((): number[] => []);
    const cpu = per((): number[] => []);
    const streams = per((): { eventsPerS: number; mibPerS: number }[] => []);
    for (let r = 0; r < 2; r++) {
      for (const n of names) {
        const run = await concurrent(targets[n], pids[n]);
        rates[n].push(run.rate);
        cpu[n].push(run.cpuUs);
      }
      for (const n of names) streams[n].push(await sse(targets[n], sessions[n]));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const rows: Record<string, Record<Target, number>> = {
      seq_p50_us: per(() => 0),
      seq_p99_us: per(() => 0),
      calls_per_s_50_sessions: per(() => 0),
      cpu_us_per_call_50_sessions: per(() => 0),
      sse_events_per_s: per(() => 0),
      sse_MiB_per_s: per(() => 0),
    };
    for (const n of names) {
      (rows.seq_p50_us as Record<Target, number>)[n] = percentile(seq[n], 50);
      (rows.seq_p99_us as Record<Target, number>)[n] = percentile(seq[n], 99);
      (rows.calls_per_s_50_sessions as Record<Target, number>)[n] = best(rates[n]);
      (rows.cpu_us_per_call_50_sessions as Record<Target, number>)[n] = Math.min(...cpu[n]);
      (rows.sse_events_per_s as Record<Target, number>)[n] = best(streams[n].map((s) => s.eventsPerS));
      (rows.sse_MiB_per_s as Record<Target, number>)[n] = best(streams[n].map((s) => s.mibPerS));
    }
    const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
    const vs = (name: string, d: number, p: number) =>
      name.startsWith("seq_")
        ? `+${fmt(p - d)} µs`
        : name.startsWith("cpu_")
          ? `${fmt(p)} µs` // the proxy's own CPU per call (direct's column is the upstream's)
          : `${((p / d) * 100).toFixed(0)} %`;
    process.stdout.write(
      `metric                      direct  bare Bun proxy    serve   serve vs direct  bare vs direct\n`,
    );
    for (const [name, r] of Object.entries(rows)) {
      process.stdout.write(
        `${name.padEnd(24)} ${fmt(r.direct).padStart(9)} ${fmt(r.bare).padStart(15)} ${fmt(r.serve).padStart(8)}   ${vs(name, r.direct, r.serve).padStart(15)} ${vs(name, r.direct, r.bare).padStart(15)}\n`,
      );
    }
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
    process.stdout.write(`load average (1/5/15 min): ${load(loadAtStart)} at start, ${load(loadavg())} at end\n`);
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    for (const proc of [serve.proc, bare.proc, upstream.proc]) proc.kill("SIGTERM");
    await Promise.all([serve.proc.exited, bare.proc.exited, upstream.proc.exited]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
