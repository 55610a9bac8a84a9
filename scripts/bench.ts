// `npm run bench`: the bare server, a Bun relay, a C relay and the proxy, interleaved over rounds; prints the README's performance table.

import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compileC } from "./bench-c.ts";
import { buildIfStale, HOST_BINARY } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const SCRIPTS = join(ROOT, "scripts");
/** The driver and fake server run under Node when it is there (a neutral runtime), else under this Bun. */
const NODE = Bun.which("node") ?? process.execPath;
const MIN_ROUNDS = 3;
/** Startup samples per row, interleaved like the rounds. */
const STARTUP_SAMPLES = 15;

interface Sample {
  startup_ms: number;
  seq_p50_us: number;
  seq_p99_us: number;
  burst_calls_per_s: number;
  /** CPU µs of the process under test per pipelined call (all its threads; its server not included); null off Linux. */
  burst_cpu_us: number | null;
  blob_MB_per_s: number;
  peak_rss_mib: number | null;
  exit: number | string;
  exit_ms: number;
}

interface Config {
  readonly label: string;
  readonly command: readonly string[];
  readonly env: Record<string, string>;
}

async function drive(config: Config, flags: readonly string[]): Promise<Sample> {
  const proc = Bun.spawn([NODE, join(SCRIPTS, "bench-drive.mjs"), ...flags, "--", ...config.command], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, ...config.env },
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  if (code !== 0) throw new Error(`driver failed for ${config.label} (exit ${code}): ${out}`);
  return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Sample;
}

/**
 * Spawn → first answer to `initialize`, in ms: one launch of `config`, then the process is killed
 * (the fake server ends on the closed pipe). The driver measures this once per round; startup is
 * the noisiest figure on a shared machine, so it gets many samples of its own.
 */
async function measureStartup(config: Config): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn([...config.command], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
    env: { ...process.env, ...config.env },
  });
  proc.stdin.write(
    `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench-startup", version: "1" } } })}\n`,
  );
  await proc.stdin.flush();
  const reader = proc.stdout.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || value.includes(0x0a)) break;
  }
  const ms = performance.now() - t0;
  proc.kill("SIGKILL");
  await proc.exited;
  return ms;
}

/** A console that accepts connections and never answers: the worst case for the HTTP sink. */
function hangingConsole(): { url: string; stop(): void } {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: () => new Promise<Response>(() => undefined),
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** Calls of the memory run: enough for every bounded queue to fill and churn (issue 15's target counts). */
const RSS_CALLS = 100_000;
const RSS_BATCH = 1_000;

/**
 * Peak RSS (VmHWM, Linux) of `command`'s own process after `calls` echo calls written in batches of
 * RSS_BATCH, each batch answered before the next: memory under a sustained load, without the 1 MiB
 * results of the main workload. Null where /proc is missing.
 */
async function peakRssAfterCalls(config: Config, calls: number): Promise<number | null> {
  const proc = Bun.spawn([...config.command], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
    env: { ...process.env, ...config.env },
  });
  const reader = proc.stdout.getReader();
  let answered = 0;
  const readUntil = async (target: number): Promise<void> => {
    while (answered < target) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${config.label} closed its output early`);
      for (const byte of value) if (byte === 0x0a) answered++;
    }
  };
  const request = (id: number, method: string, params: unknown): string =>
    `${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`;
  proc.stdin.write(
    request(0, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bench-rss", version: "1" },
    }),
  );
  await proc.stdin.flush();
  await readUntil(1);
  for (let sent = 0; sent < calls; sent += RSS_BATCH) {
    let lines = "";
    for (let i = 1; i <= RSS_BATCH; i++)
      lines += request(sent + i, "tools/call", { name: "echo", arguments: { text: `call ${sent + i}` } });
    proc.stdin.write(lines);
    await proc.stdin.flush();
    await readUntil(1 + sent + RSS_BATCH);
  }
  const status = await Bun.file(`/proc/${proc.pid}/status`)
    .text()
    .catch(() => "");
  proc.stdin.end();
  await proc.exited;
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
  return Number.isFinite(kib) && kib > 0 ? Math.round(kib / 1024) : null;
}

/** Issue 15's targets, read off the table's own rows (same run): each with its figure and whether it holds. */
export function renderTargets(
  rows: ReadonlyArray<{ label: string; sample: Sample }>,
  rss: ReadonlyArray<{ label: string; mib: number | null }>,
): string {
  const find = (prefix: string) => rows.find((r) => r.label.startsWith(prefix))?.sample;
  const [bare, relay, proxy] = [find("bare server"), find("do-nothing Bun relay"), find("proxy, default sinks")];
  if (bare === undefined || relay === undefined || proxy === undefined) return "";
  const mark = (ok: boolean): string => (ok ? "met" : "NOT met");
  const rssOf = (prefix: string) => rss.find((r) => r.label.startsWith(prefix))?.mib ?? null;
  const [hanging, local] = [rssOf("proxy, hanging console"), rssOf("proxy, default sinks")];
  const lines = [
    `- seq p50 ≤ relay + 20 µs: proxy ${proxy.seq_p50_us} µs, relay ${relay.seq_p50_us} µs (+${proxy.seq_p50_us - relay.seq_p50_us}): ${mark(proxy.seq_p50_us <= relay.seq_p50_us + 20)}`,
    `- seq p99 ≤ 1.5 × relay's: ${proxy.seq_p99_us} µs vs ${relay.seq_p99_us} µs (${(proxy.seq_p99_us / relay.seq_p99_us).toFixed(2)}×): ${mark(proxy.seq_p99_us <= 1.5 * relay.seq_p99_us)}`,
    `- pipelined ≥ 85% of relay's: ${Math.round((proxy.burst_calls_per_s / relay.burst_calls_per_s) * 100)}%: ${mark(proxy.burst_calls_per_s >= 0.85 * relay.burst_calls_per_s)}`,
    `- 1 MiB results ≥ 90% of bare: ${Math.round((proxy.blob_MB_per_s / bare.blob_MB_per_s) * 100)}%: ${mark(proxy.blob_MB_per_s >= 0.9 * bare.blob_MB_per_s)}`,
    `- exit after EOF ≤ bare + 20 ms: ${proxy.exit_ms} ms vs ${bare.exit_ms} ms: ${mark(proxy.exit_ms <= bare.exit_ms + 20)}`,
  ];
  if (hanging !== null)
    lines.push(
      `- peak RSS, hanging console, after ${group(RSS_CALLS)} calls ≤ 120 MiB: ${hanging} MiB: ${mark(hanging <= 120)}`,
    );
  if (local !== null)
    lines.push(
      `- peak RSS, local sinks only, after ${group(RSS_CALLS)} calls ≤ 60 MiB: ${local} MiB: ${mark(local <= 60)}`,
    );
  return lines.join("\n");
}

/** Per-metric median of one configuration's rounds. */
function median(samples: readonly Sample[]): Sample {
  const mid = (values: readonly number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const of = (key: "startup_ms" | "seq_p50_us" | "seq_p99_us" | "burst_calls_per_s" | "blob_MB_per_s" | "exit_ms") =>
    mid(samples.map((s) => s[key]));
  const rss = samples.map((s) => s.peak_rss_mib).filter((v): v is number => v !== null);
  const cpu = samples.map((s) => s.burst_cpu_us).filter((v): v is number => typeof v === "number");
  return {
    startup_ms: of("startup_ms"),
    seq_p50_us: of("seq_p50_us"),
    seq_p99_us: of("seq_p99_us"),
    burst_calls_per_s: of("burst_calls_per_s"),
    burst_cpu_us: cpu.length === 0 ? null : mid(cpu),
    blob_MB_per_s: of("blob_MB_per_s"),
    peak_rss_mib: rss.length === 0 ? null : mid(rss),
    exit: samples.every((s) => s.exit === 0) ? 0 : samples.map((s) => s.exit).join("/"),
    exit_ms: of("exit_ms"),
  };
}

const group = (n: number): string => Math.round(n).toLocaleString("en-US").replaceAll(",", " ");

/** The README's performance table: Δ and % against the bare server of the same run. */
export function renderTable(rows: ReadonlyArray<{ label: string; sample: Sample }>): string {
  const bare = rows[0]?.sample;
  if (bare === undefined) return "";
  const delta = (value: number, base: number, digits = 0): string =>
    `${value - base >= 0 ? "+" : ""}${(value - base).toFixed(digits)}`;
  const percent = (value: number, base: number): string => (base === 0 ? "-" : `${Math.round((value / base) * 100)}%`);
  const lines = [
    "| run | startup ms (Δ) | seq p50 µs (Δ) | seq p99 µs | pipelined calls/s (% bare) | CPU µs per pipelined call | 1 MiB results MB/s (% bare) | peak RSS MiB | exit after EOF |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const { label, sample: s } of rows) {
    const first = s === bare;
    const cells = [
      label,
      `${Math.round(s.startup_ms)}${first ? "" : ` (${delta(s.startup_ms, bare.startup_ms)})`}`,
      `${s.seq_p50_us}${first ? "" : ` (${delta(s.seq_p50_us, bare.seq_p50_us)})`}`,
      `${s.seq_p99_us}`,
      `${group(s.burst_calls_per_s)}${first ? "" : ` (${percent(s.burst_calls_per_s, bare.burst_calls_per_s)})`}`,
      s.burst_cpu_us === null ? "n/a" : `${s.burst_cpu_us}`,
      `${s.blob_MB_per_s}${first ? "" : ` (${percent(s.blob_MB_per_s, bare.blob_MB_per_s)})`}`,
      s.peak_rss_mib === null ? "n/a" : `${s.peak_rss_mib}`,
      `${group(s.exit_ms)} ms${s.exit === 0 ? "" : ` (exit ${s.exit})`}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<void> {
  if (await buildIfStale()) process.stderr.write("built dist/baton-proxy\n");
  const quick = argv.includes("--quick");
  const asked = argv.includes("--rounds") ? Number(argv[argv.indexOf("--rounds") + 1]) : MIN_ROUNDS;
  const rounds = quick ? 1 : Math.max(MIN_ROUNDS, Number.isInteger(asked) ? asked : MIN_ROUNDS);
  const flags = quick ? ["--seq", "300", "--burst", "3000", "--blobn", "10"] : [];
  const dir = mkdtempSync(join(tmpdir(), "baton-bench-"));
  const dead = hangingConsole();
  const loadBefore = loadavg()[0] ?? 0;
  try {
    const fake = [NODE, join(SCRIPTS, "bench-fake-server.mjs")];
    const cRelay = await compileC(dir, "bench-relay.c", "C relay");
    const remote = { BATON_API_KEY: "bench-key", BATON_CONSENT_TOKEN: "bench-consent" };
    const configs: Config[] = [
      { label: "bare server", command: fake, env: {} },
      { label: "do-nothing Bun relay", command: [process.execPath, join(SCRIPTS, "bench-relay.ts"), ...fake], env: {} },
      ...(cRelay.path === undefined
        ? []
        : [{ label: "do-nothing C relay (floor)", command: [cRelay.path, ...fake], env: {} }]),
      {
        label: "proxy, default sinks (stderr + file)",
        command: [HOST_BINARY, ...fake],
        env: { BATON_EVENT_SINK: `stderr:,file://${join(dir, "events.jsonl")}` },
      },
      {
        label: "proxy, hanging console + file",
        command: [HOST_BINARY, ...fake],
        env: { BATON_EVENT_SINK: `${dead.url},file://${join(dir, "events-2.jsonl")}`, ...remote },
      },
    ];
    // Shared machines drift: the configurations are interleaved round by round (each round starting
    // one row later, so no row always runs first) and each figure is the median over the rounds.
    const samples = configs.map(() => [] as Sample[]);
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round}/${rounds}\n`);
      for (let k = 0; k < configs.length; k++) {
        const i = (round - 1 + k) % configs.length;
        const config = configs[i];
        if (config !== undefined) samples[i]?.push(await drive(config, flags));
      }
      // The event files only grow; start each round from nothing so disk use stays flat.
      rmSync(join(dir, "events.jsonl"), { force: true });
      rmSync(join(dir, "events-2.jsonl"), { force: true });
    }
    const startups = configs.map(() => [] as number[]);
    for (let n = 0; n < (quick ? 3 : STARTUP_SAMPLES); n++) {
      for (const [i, config] of configs.entries()) startups[i]?.push(await measureStartup(config));
    }
    const rows = configs.map((config, i) => {
      const sample = median(samples[i] ?? []);
      const sorted = [...(startups[i] ?? [])].sort((a, b) => a - b);
      return {
        label: config.label,
        sample: { ...sample, startup_ms: sorted[Math.floor(sorted.length / 2)] ?? sample.startup_ms },
      };
    });
    const runtime =
      NODE === process.execPath ? `bun ${Bun.version}` : `node ${(await Bun.$`${NODE} --version`.text()).trim()}`;
    const day = new Date().toISOString().slice(0, 10);
    process.stdout.write(
      `${quick ? "QUICK RUN (1 round, small counts): not for the README. " : ""}Medians of ${rounds} interleaved round(s) ` +
        `(startup: of ${quick ? 3 : STARTUP_SAMPLES} launches each), ${day}, ` +
        `${availableParallelism()} cores (load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after), ` +
        `driver and fake server on ${runtime}, relay and proxy on bun ${Bun.version}:\n\n`,
    );
    process.stdout.write(`${renderTable(rows)}\n`);
    if (cRelay.note !== undefined) process.stdout.write(`\n${cRelay.note}.\n`);
    // Memory under sustained load: the relay for scale, the proxy with local sinks and with a dead console.
    const rssRows = configs.filter((c) => c.label !== "bare server" && !c.label.includes("C relay"));
    const calls = quick ? RSS_CALLS / 10 : RSS_CALLS;
    const rss: { label: string; mib: number | null }[] = [];
    for (const config of rssRows) rss.push({ label: config.label, mib: await peakRssAfterCalls(config, calls) });
    process.stdout.write(
      `\npeak RSS after ${group(calls)} pipelined calls (batches of ${group(RSS_BATCH)}): ${rss.map((r) => `${r.label} ${r.mib ?? "n/a"} MiB`).join("; ")}\n`,
    );
    const load = await Bun.file("/proc/loadavg")
      .text()
      .catch(() => "");
    const targets = renderTargets(rows, rss);
    if (targets !== "")
      process.stdout.write(
        `\nissue 15 targets (this run${load === "" ? "" : `, load average ${load.split(" ").slice(0, 3).join(" ")}`}):\n${targets}\n`,
      );
    const scrub = Bun.spawn([process.execPath, join(SCRIPTS, "bench-scrub.ts")], { stdout: "pipe", stderr: "inherit" });
    const scrubOut = (await new Response(scrub.stdout).text()).trim();
    if ((await scrub.exited) === 0) process.stdout.write(`\nscrubbing throughput: ${scrubOut}\n`);
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
