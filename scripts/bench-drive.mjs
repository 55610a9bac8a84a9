// Benchmark driver (ported from the neutral ../shared/bench/drive.mjs, same metrics, plus peak RSS): spawns CMD as an MCP stdio server and measures it.
// usage: node scripts/bench-drive.mjs [--seq N] [--burst N] [--blob BYTES] [--blobn N] -- CMD ARGS...
// Prints one JSON line: startup_ms (spawn -> initialize response), seq_p50_us/seq_p99_us (sequential echo calls),
// burst_calls_per_s (N calls written at once), blob_MB_per_s (sequential large results), peak_rss_mib (VmHWM of
// CMD's own process, Linux only, else null), burst_cpu_us (CPU time of CMD's own process, every thread, per
// pipelined call: Linux only, else null; unlike wall times it hardly moves with other load on the machine),
// exit/exit_ms (stdin closed -> exit, 5 s cap).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const opts = { seq: 2000, burst: 20000, blob: 1 << 20, blobn: 50 };
for (let i = 0; i < sep; i += 2) opts[argv[i].replace(/^--/, "")] = Number(argv[i + 1]);
const [cmd, ...args] = argv.slice(sep + 1);
const t0 = performance.now();
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "ignore"], env: { ...process.env } });
let parts = [];
const waiters = new Map();
let nextId = 1;
const onLine = (line) => {
  if (!line.trim()) return;
  const m = JSON.parse(line);
  const w = waiters.get(m.id);
  if (w) {
    waiters.delete(m.id);
    w(m);
  }
};
child.stdout.on("data", (d) => {
  let start = 0;
  let i = d.indexOf(10, start);
  while (i >= 0) {
    parts.push(d.subarray(start, i));
    const line = Buffer.concat(parts).toString("utf8");
    parts = [];
    onLine(line);
    start = i + 1;
    i = d.indexOf(10, start);
  }
  if (start < d.length) parts.push(d.subarray(start));
});
const send = (method, params) =>
  new Promise((res) => {
    const id = nextId++;
    waiters.set(id, res);
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
  });
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
/** Peak resident set of the process under test (the proxy or relay itself, not its server), in MiB. */
const peakRssMib = () => {
  try {
    const kib = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]);
    return Number.isFinite(kib) ? Math.round(kib / 1024) : null;
  } catch {
    return null;
  }
};
/** CPU time (user + system, all threads) of the process under test so far, in µs; null where /proc is missing. */
const cpuMicros = () => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return null;
  }
};
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every mainstream kernel. */
const CLOCK_TICKS = 100;
const r = {};
await send("initialize", {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "bench", version: "1" },
});
r.startup_ms = +(performance.now() - t0).toFixed(2);
child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
const list = await send("tools/list", {});
r.tools = list.result.tools.map((t) => t.name).join(",");
// warm-up
for (let i = 0; i < 200; i++) await send("tools/call", { name: "echo", arguments: { text: "warm" } });
const lat = [];
for (let i = 0; i < opts.seq; i++) {
  const s = performance.now();
  await send("tools/call", { name: "echo", arguments: { text: `hello ${i}` } });
  lat.push((performance.now() - s) * 1000);
}
r.seq_p50_us = Math.round(q(lat, 0.5));
r.seq_p99_us = Math.round(q(lat, 0.99));
let s = performance.now();
const cpu0 = cpuMicros();
await Promise.all(
  Array.from({ length: opts.burst }, (_, i) => send("tools/call", { name: "echo", arguments: { text: `b${i}` } })),
);
r.burst_calls_per_s = Math.round(opts.burst / ((performance.now() - s) / 1000));
// Work the process under test finishes after the last answer (events) counts too: read again after a pause.
await new Promise((resolve) => setTimeout(resolve, 250));
const cpu1 = cpuMicros();
r.burst_cpu_us = cpu0 === null || cpu1 === null ? null : +((cpu1 - cpu0) / opts.burst).toFixed(1);
s = performance.now();
for (let i = 0; i < opts.blobn; i++) {
  const m = await send("tools/call", { name: "blob", arguments: { bytes: opts.blob } });
  if (m.result.content[0].text.length !== opts.blob) throw new Error("short blob");
}
r.blob_MB_per_s = +((opts.blob * opts.blobn) / 1e6 / ((performance.now() - s) / 1000)).toFixed(1);
r.peak_rss_mib = peakRssMib();
const e0 = performance.now();
child.stdin.end();
const code = await Promise.race([
  new Promise((res) => child.on("exit", (c) => res(c))),
  new Promise((res) => setTimeout(() => res("timeout"), 5000)),
]);
r.exit = code;
r.exit_ms = Math.round(performance.now() - e0);
console.log(JSON.stringify(r));
if (code === "timeout") child.kill("SIGKILL");
process.exit(0);
