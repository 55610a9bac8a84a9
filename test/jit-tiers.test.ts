// Unit tests for src/runtime/jit-tiers.ts: a marked function stays out of FTL (read from JSC's compile report of a child run), marking is harmless.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { gettersOf, keepOutOfFtl } from "../src/runtime/jit-tiers.ts";

const PROBE = join(import.meta.dir, "fixtures", "jit-tiers-probe.ts");

/**
 * Each compile in JSC's report: `Optimized name#hash:[code blocks, flags] using TIER with ...`. Not
 * read line by line: the JIT thread and the main thread print their reports unsynchronised, so two
 * can share a line (seen: `... in 0.23 msOptimized scanString#...`).
 */
const COMPILE = /Optimized ([A-Za-z]\w*)#[^:\s]*:\[([^\]]*)\] using (\w+) with/g;

/** The tiers JSC compiled each probed function with so far, and whether JSC shows the never-FTL flag on it. */
function summarise(report: string): Record<string, { tiers: string[]; neverFtlFlag: boolean }> {
  const tiers = new Map<string, Set<string>>();
  const flagged = new Set<string>();
  for (const [, name, blocks, tier] of report.matchAll(COMPILE) as IterableIterator<[string, string, string, string]>) {
    // FTL's variants (an OSR-entry compile, say) count as FTL.
    tiers.set(name, (tiers.get(name) ?? new Set()).add(tier.startsWith("FTL") ? "FTL" : tier));
    if (blocks.includes("(NeverFTLOptimize)")) flagged.add(name);
  }
  const summary: Record<string, { tiers: string[]; neverFtlFlag: boolean }> = {};
  for (const name of ["probeControl", "probeKept", "scanLineFacts"])
    summary[name] = { tiers: [...(tiers.get(name) ?? [])].sort(), neverFtlFlag: flagged.has(name) };
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

describe("gettersOf", () => {
  test("finds getters on the object or up its prototype chain, in the order asked; skips names without one", () => {
    class Base {
      get inherited(): number {
        return 1;
      }
    }
    class Derived extends Base {
      get own(): number {
        return 2;
      }
      plain(): number {
        return 3;
      }
    }
    const literal = {
      get size(): number {
        return 4;
      },
      value: 5,
    };
    const onDerived = gettersOf(Derived.prototype, "own", "inherited", "plain", "missing");
    expect(onDerived).toEqual([
      Object.getOwnPropertyDescriptor(Derived.prototype, "own")?.get,
      Object.getOwnPropertyDescriptor(Base.prototype, "inherited")?.get,
    ] as ((...args: never[]) => unknown)[]);
    expect(gettersOf(new Derived(), "inherited")).toEqual([
      Object.getOwnPropertyDescriptor(Base.prototype, "inherited")?.get,
    ] as ((...args: never[]) => unknown)[]);
    expect(gettersOf(literal, "value", "size")).toEqual([Object.getOwnPropertyDescriptor(literal, "size")?.get] as ((
      ...args: never[]
    ) => unknown)[]);
    // Marked getters still answer.
    keepOutOfFtl(...onDerived, ...gettersOf(literal, "size"));
    expect(new Derived().own + new Derived().inherited + literal.size).toBe(7);
  });
});
