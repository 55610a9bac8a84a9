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

describe("keepOutOfFtl", () => {
  test("a marked function reaches DFG but never FTL, while its unmarked twin gets there", async () => {
    const proc = Bun.spawn([process.execPath, PROBE, "60"], {
      env: { PATH: process.env.PATH ?? "", BUN_JSC_reportCompileTimes: "true" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, report, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(0);
    expect(out).toBe("true\n");
    const tiers = tiersByName(report);
    // The control shows the run was hot enough: without it, "no FTL" would prove nothing.
    expect(tiers.get("probeControl")).toContain("FTL");
    expect(tiers.get("probeKept")).toContain("DFG");
    expect(tiers.get("probeKept")).not.toContain("FTL");
    // The product's own mark (src/wire/line-facts.ts) is applied where the function is defined.
    expect(tiers.get("scanLineFacts")).toContain("DFG");
    expect(tiers.get("scanLineFacts")).not.toContain("FTL");
  });

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
