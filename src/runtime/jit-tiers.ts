// Keeps named hot functions out of JavaScriptCore's top JIT tier (FTL), whose compile of them costs more than it saves; nothing else.

import { noFTL } from "bun:jsc";

/**
 * Marks each function so JavaScriptCore never compiles it with FTL; it still runs in the DFG tier
 * (optimised, far cheaper to compile). Why: FTL compiles are ~90% of the JIT's CPU in a proxy run
 * and land in the first bursts of calls, on a JIT thread competing with the pumps, the server and
 * the client for 2 cores. The line scans are the worst deal: `scanLineFacts` alone took ~120 ms of
 * JIT CPU to FTL-compile for a scan ~25% faster (~90 ns a line), paid back only after ~650 000
 * calls. Measured on the compiled binary with the two scans marked: JIT thread CPU over 20 000
 * pipelined calls 450–520 → 330–340 ms, the proxy's CPU per call 34–38 → 29–33 µs (2 000
 * sequential calls: 160–205 → 100–110 µs), peak RSS after 100 000 calls 98–100 → 92–96 MiB, and
 * no change in steady state (after 80 000 calls). Marking the per-line glue as well (fast path,
 * transforms, engine) saved another ~100 ms of JIT but cost the steady state up to ~1.5 µs a call:
 * FTL does pay for allocation-heavy code, so only functions measured to lose nothing are marked.
 * Each caller names its functions next to their definition, with the reason.
 *
 * The mark is on the function's shared executable: marking one closure covers every closure of
 * the same source. It does not stop FTL from compiling a marked function's body inlined into an
 * unmarked caller (large functions like the scans are never inlined). Call it at module load,
 * before the function gets hot. Never throws: a runtime without the hook compiles as usual.
 */
export function keepOutOfFtl(...functions: readonly ((...args: never[]) => unknown)[]): void {
  for (const fn of functions) {
    try {
      noFTL(fn as (...args: unknown[]) => unknown);
    } catch {
      // Fail-open: the mark only saves compile work; the function behaves the same without it.
    }
  }
}
