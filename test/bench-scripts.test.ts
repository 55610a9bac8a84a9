// The benchmark's own parts work from a clone: the driver and fake server, both relays, and the table. No timing asserts (figures are printed, not judged).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { compileC } from "../scripts/bench-c.ts";
import { renderTable, renderTargets } from "../scripts/bench.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { tempDir } from "./support/temp.ts";

const SCRIPTS = join(ROOT, "scripts");
const NODE = Bun.which("node") ?? process.execPath;
const FAKE = [NODE, join(SCRIPTS, "bench-fake-server.mjs")];
const dir = tempDir("baton-bench-test-");

async function drive(command: readonly string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const proc = Bun.spawn(
    [
      NODE,
      join(SCRIPTS, "bench-drive.mjs"),
      "--seq",
      "20",
      "--burst",
      "50",
      "--blob",
      "100000",
      "--blobn",
      "2",
      "--",
      ...command,
    ],
    {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`driver exit ${code}: ${err}`);
  return JSON.parse(out.trim()) as Record<string, unknown>;
}

function expectComplete(result: Record<string, unknown>, tools = "echo,blob,fail,boom"): void {
  expect(result.tools).toBe(tools);
  for (const key of ["startup_ms", "seq_p50_us", "seq_p99_us", "burst_calls_per_s", "blob_MB_per_s", "exit_ms"])
    expect(typeof result[key]).toBe("number");
  expect(result.exit).toBe(0);
  if (process.platform === "linux") {
    expect(result.peak_rss_mib).toBeGreaterThan(0);
    expect(result.burst_cpu_us).toBeGreaterThanOrEqual(0);
  } else {
    expect(result.peak_rss_mib).toBeNull();
    expect(result.burst_cpu_us).toBeNull();
  }
}

describe("every benchmark row carries the whole workload and exits 0 on EOF", () => {
  test("bare fake server", async () => expectComplete(await drive(FAKE)));
  test("Bun relay", async () =>
    expectComplete(await drive([process.execPath, join(SCRIPTS, "bench-relay.ts"), ...FAKE])));
  test.skipIf(Bun.which("cc") === null)("C relay (needs cc)", async () => {
    const relay = await compileC(dir, "bench-relay.c", "C relay");
    expect(relay.note).toBeUndefined();
    expectComplete(await drive([relay.path as string, ...FAKE]));
  });
  test("the proxy", async () =>
    expectComplete(
      await drive([await binaryPath(), ...FAKE], { BATON_EVENT_SINK: `file://${join(dir, "events.jsonl")}` }),
      "echo,blob,fail,boom,baton_annotate,baton_session_report",
    ));
});

test("the table: Δ and % against the bare server's row, RSS shown or n/a", () => {
  const sample = (scale: number, rss: number | null) => ({
    startup_ms: 100 * scale,
    seq_p50_us: 70 * scale,
    seq_p99_us: 200,
    burst_calls_per_s: 40_000 / scale,
    burst_cpu_us: rss === null ? null : 2.5 * scale,
    blob_MB_per_s: 80 / scale,
    peak_rss_mib: rss,
    exit: 0,
    exit_ms: 12,
  });
  const table = renderTable([
    { label: "bare server", sample: sample(1, 60) },
    { label: "proxy", sample: sample(2, null) },
  ]).split("\n");
  expect(table[0]).toBe(
    "| run | startup ms (Δ) | seq p50 µs (Δ) | seq p99 µs | pipelined calls/s (% bare) | CPU µs per pipelined call | 1 MiB results MB/s (% bare) | peak RSS MiB | exit after EOF |",
  );
  expect(table[2]).toBe("| bare server | 100 | 70 | 200 | 40 000 | 2.5 | 80 | 60 | 12 ms |");
  expect(table[3]).toBe("| proxy | 200 (+100) | 140 (+70) | 200 | 20 000 (50%) | n/a | 40 (50%) | n/a | 12 ms |");
});

test("issue 15's targets are read off the same run's rows: met and not met", () => {
  const sample = (p50: number, p99: number, burst: number, blob: number, exitMs: number) => ({
    startup_ms: 100,
    seq_p50_us: p50,
    seq_p99_us: p99,
    burst_calls_per_s: burst,
    burst_cpu_us: 3,
    blob_MB_per_s: blob,
    peak_rss_mib: 50,
    exit: 0,
    exit_ms: exitMs,
  });
  const rows = [
    { label: "bare server", sample: sample(70, 1000, 40_000, 80, 10) },
    { label: "do-nothing Bun relay", sample: sample(100, 2000, 30_000, 75, 20) },
    { label: "proxy, default sinks (stderr + file)", sample: sample(125, 2900, 25_000, 70, 40) },
  ];
  const text = renderTargets(rows, [
    { label: "proxy, default sinks (stderr + file)", mib: 61 },
    { label: "proxy, hanging console + file", mib: 120 },
  ]).split("\n");
  expect(text).toEqual([
    "- seq p50 ≤ relay + 20 µs: proxy 125 µs, relay 100 µs (+25): NOT met",
    "- seq p99 ≤ 1.5 × relay's: 2900 µs vs 2000 µs (1.45×): met",
    "- pipelined ≥ 85% of relay's: 83%: NOT met",
    "- 1 MiB results ≥ 90% of bare: 88%: NOT met",
    "- exit after EOF ≤ bare + 20 ms: 40 ms vs 10 ms: NOT met",
    "- peak RSS, hanging console, after 100 000 calls ≤ 120 MiB: 120 MiB: met",
    "- peak RSS, local sinks only, after 100 000 calls ≤ 60 MiB: 61 MiB: NOT met",
  ]);
  expect(renderTargets(rows.slice(0, 1), [])).toBe("");
});
