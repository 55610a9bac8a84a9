// Unit tests for src/runtime/jit-tiers.ts: a marked function stays out of FTL (read from JSC's compile report of a child run), marking is harmless.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { keepOutOfFtl } from "../src/runtime/jit-tiers.ts";

const PROBE = join(import.meta.dir, "fixtures", "jit-tiers-probe.ts");

/** The tiers JSC compiled each named function with, from its compile report (`Optimized name#hash:[...] using TIER with ...`). */
function tiersByName(report: string): Map<string, Set<string>> {
  const tiers = new Map<string, Set<string>>();
  for (const match of report.matchAll(/^Optimized ([A-Za-z]\w*)#\S* .*? using (\w+) with/gm)) {
    const [, name, tier] = match as unknown as [string, string, string];
    tiers.set(name, (tiers.get(name) ?? new Set()).add(tier));
  }
  return tiers;
}

/** The tiers JSC compiled each probed function with so far, and whether JSC shows the never-FTL flag on it. */
function summarise(report: string): Record<string, { tiers: string[]; neverFtlFlag: boolean }> {
  const tiers = tiersByName(report);
  const flagged = new Set(
    [...report.matchAll(/^Optimized ([A-Za-z]\w*)#[^\n]*\(NeverFTLOptimize\)/gm)].map((m) => m[1]),
  );
  const summary: Record<string, { tiers: string[]; neverFtlFlag: boolean }> = {};
  for (const name of ["probeControl", "probeKept", "scanLineFacts"]) {
    // FTL's variants (an OSR-entry compile, say) count as FTL.
    const named = [...(tiers.get(name) ?? [])].map((tier) => (tier.startsWith("FTL") ? "FTL" : tier));
    summary[name] = { tiers: [...new Set(named)].sort(), neverFtlFlag: flagged.has(name) };
  }
  return summary;
}

describe("keepOutOfFtl", () => {
  test("a marked function reaches DFG but never FTL, while its unmarked twin gets there", async () => {
    // The probe runs until we close its stdin. We read the compile report as it comes: once the
    // control has reached FTL (the run is hot enough) and the marked ones DFG, the probe runs as
    // long again, so the marked twin had every chance the control had. A fixed run length failed
    // on a loaded CI machine, whose FTL thread lagged behind the loop.
    const proc = Bun.spawn([process.execPath, PROBE, "30000"], {
      env: { PATH: process.env.PATH ?? "", BUN_JSC_reportCompileTimes: "true" },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = new Response(proc.stdout).text();
    let report = "";
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of proc.stderr) report += decoder.decode(chunk, { stream: true });
      report += decoder.decode();
    })();
    const started = performance.now();
    const hot = (): boolean => {
      const seen = summarise(report);
      return Boolean(
        seen.probeControl?.tiers.includes("FTL") &&
          seen.probeKept?.tiers.includes("DFG") &&
          seen.scanLineFacts?.tiers.includes("DFG"),
      );
    };
    // Polled, because the report goes quiet once every compile is done. Bounded below the probe's own bound.
    while (!hot() && performance.now() - started < 25_000) await Bun.sleep(20);
    await Bun.sleep(Math.max(performance.now() - started, 200));
    proc.stdin.end();
    await reading;
    expect(await proc.exited).toBe(0);
    expect(await out).toBe("true\n");
    // One comparison of the whole picture, so a failure shows every function's tiers at once.
    // The control reaching FTL shows the run was hot enough: without it, "no FTL" would prove nothing.
    // scanLineFacts carries the product's own mark (src/wire/line-facts.ts), applied where it is defined.
    expect(summarise(report)).toEqual({
      probeControl: { tiers: ["Baseline", "DFG", "FTL"], neverFtlFlag: false },
      probeKept: { tiers: ["Baseline", "DFG"], neverFtlFlag: true },
      scanLineFacts: { tiers: ["Baseline", "DFG"], neverFtlFlag: true },
    });
  }, 60_000);

  test("marking changes no result and never throws, whatever it is given", () => {
    const twice = (n: number): number => n * 2;
    class Counter {
      count = 0;
      add(n: number): number {
        this.count += n;
        return this.count;
      }
    }
    const counter = new Counter();
    // Arrow, method, bound and native functions: only plain JS functions carry the mark; none may throw.
    expect(() => keepOutOfFtl(twice, Counter.prototype.add, twice.bind(undefined), Math.max, JSON.parse)).not.toThrow();
    expect(twice(21)).toBe(42);
    expect(counter.add(2) + counter.add(3)).toBe(7);
    expect(Math.max(1, 3)).toBe(3);
  });
});
