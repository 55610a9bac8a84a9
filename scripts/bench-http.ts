// `npm run bench:http`: the same MCP calls direct to a Node upstream, through two byte-relay floors (C, Bun sockets), the bare Bun proxy and the compiled `serve`, in one run: added latency, calls/s, SSE relay throughput.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileC } from "./bench-c.ts";
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

/** The port of a `{"port":N}` line (what the upstream and the floors print when ready). */
export const portOf = (line: string): string | undefined =>
  line.startsWith("{") ? String((JSON.parse(line) as { port: number }).port) : undefined;

const mcpUrl = (port: string): string => `http://127.0.0.1:${port}/mcp`;

/** Starts a process that prints {"port":N} (or the serve start line) and resolves with what `match` finds. */
export async function start(
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

/** One column of the run: where its calls go and what they measured. */
interface Target {
  readonly title: string;
  readonly url: string;
  /** The process whose CPU a call costs: the upstream's for direct calls, the proxy's own for the others. */
  readonly pid: number;
  session: string;
  readonly seq: number[];
  readonly rates: number[];
  readonly cpu: number[];
  readonly streams: { eventsPerS: number; mibPerS: number }[];
}

const target = (title: string, url: string, pid: number): Target => ({
  title,
  url,
  pid,
  session: "",
  seq: [],
  rates: [],
  cpu: [],
  streams: [],
});

async function main(): Promise<void> {
  const binary = chosenBinary() ?? HOST_BINARY;
  if (binary === HOST_BINARY) await buildIfStale();
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-http-"));
  const upstream = await start([NODE, join(ROOT, "scripts", "bench-http-server.mjs")], {}, "stdout", portOf);
  const direct = mcpUrl(upstream.found);
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
  // The floor: what the extra hop alone costs here (a C byte relay, no HTTP), when a C compiler is there.
  const cRelay = await compileC(dir, "bench-tcp-relay.c", "C TCP relay (floor)");
  const floor =
    cRelay.path === undefined ? undefined : await start([cRelay.path, upstream.found], {}, "stdout", portOf);
  // Bun's own sockets with nothing on top: what its HTTP server and client (the bare proxy) add to that.
  const bunTcp = await start(
    [process.execPath, join(ROOT, "scripts", "bench-http-tcp.ts"), upstream.found],
    {},
    "stdout",
    portOf,
  );
  const started = [upstream, ...(floor === undefined ? [] : [floor]), bunTcp, bare, serve];
  // The CPU measured per target: the upstream's for direct calls, the proxy's own for the others.
  const targets: Target[] = [
    target("direct", direct, upstream.proc.pid),
    ...(floor === undefined ? [] : [target("C TCP relay", mcpUrl(floor.found), floor.proc.pid)]),
    target("Bun TCP relay", mcpUrl(bunTcp.found), bunTcp.proc.pid),
    target("bare Bun proxy", bare.found, bare.proc.pid),
    target("serve", serve.found, serve.proc.pid),
  ];
  const loadAtStart = loadavg();
  try {
    for (const t of targets) t.session = await openSession(t.url);
    for (const t of targets) await sequential(t.url, t.session, 0); // warm-up
    // The concurrent path warmed up too: Bun's JIT compiles for the first ~20k calls (that CPU is not the steady state).
    for (const t of targets) await concurrent(t.url, t.pid, CONCURRENT_WARMUP_SECONDS);
    // Interleaved rounds: the machine's noise falls on every target alike.
    for (let r = 1; r <= ROUNDS; r++)
      for (const t of targets) t.seq.push(...(await sequential(t.url, t.session, r * 10_000)));
    for (const t of targets) t.seq.sort((x, y) => x - y);
    for (let r = 0; r < 2; r++) {
      for (const t of targets) {
        const run = await concurrent(t.url, t.pid);
        t.rates.push(run.rate);
        t.cpu.push(run.cpuUs);
      }
      for (const t of targets) t.streams.push(await sse(t.url, t.session));
    }
    const best = (xs: number[]) => Math.max(...xs);
    const measures: Record<string, (t: Target) => number> = {
      seq_p50_us: (t) => percentile(t.seq, 50),
      seq_p99_us: (t) => percentile(t.seq, 99),
      calls_per_s_50_sessions: (t) => best(t.rates),
      cpu_us_per_call_50_sessions: (t) => Math.min(...t.cpu),
      sse_events_per_s: (t) => best(t.streams.map((x) => x.eventsPerS)),
      sse_MiB_per_s: (t) => best(t.streams.map((x) => x.mibPerS)),
    };
    const fmt = (n: number) => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
    const vs = (name: string, d: number, p: number) =>
      name.startsWith("seq_")
        ? `${p >= d ? "+" : "−"}${fmt(Math.abs(p - d))} µs`
        : name.startsWith("cpu_")
          ? `${fmt(p)} µs` // the proxy's own CPU per call (direct's column is the upstream's)
          : `${((p / d) * 100).toFixed(0)} %`;
    const [first, ...proxies] = targets as [Target, ...Target[]];
    const head = [...targets.map((t) => t.title), ...proxies.map((t) => `${t.title} vs direct`)];
    const width = (i: number) => Math.max((head[i] ?? "").length + 2, 10);
    process.stdout.write(`${"metric".padEnd(28)}${head.map((h, i) => h.padStart(width(i))).join("")}\n`);
    const rows: Record<string, Record<string, number>> = {};
    for (const [name, measure] of Object.entries(measures)) {
      const values = targets.map(measure);
      rows[name] = Object.fromEntries(targets.map((t, i) => [t.title, values[i] as number]));
      const d = measure(first);
      const cells = [...values.map(fmt), ...proxies.map((t) => vs(name, d, measure(t)))];
      process.stdout.write(`${name.padEnd(28)}${cells.map((c, i) => c.padStart(width(i))).join("")}\n`);
    }
    if (cRelay.note !== undefined) process.stdout.write(`${cRelay.note}.\n`);
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
    process.stdout.write(`load average (1/5/15 min): ${load(loadAtStart)} at start, ${load(loadavg())} at end\n`);
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } finally {
    for (const { proc } of started) proc.kill("SIGTERM");
    await Promise.all(started.map(({ proc }) => proc.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
