// Keeps named hot functions out of JavaScriptCore's top JIT tier (FTL), whose compile of them costs more than it saves; nothing else.

import { noFTL } from "bun:jsc";

/**
 * Marks each function so JavaScriptCore never compiles it with FTL; it still runs in the DFG tier
 * (optimised, much cheaper to compile). Why: a proxy run is short and bursty, and FTL compiles of
 * large functions cost far more CPU (on the JIT thread, competing with the pumps on a small
 * machine) and compiler memory (a peak-RSS cost the allocator keeps) than their faster code
 * ever pays back. Measured on the compiled binary, 20k pipelined calls: `scanLineFacts` alone
 * took ~120 ms of JIT CPU to FTL-compile for a 25% faster scan (~90 ns a line), which only pays
 * back after ~650k calls. Each caller names its functions next to their definition, with the reason.
 *
 * Applies to every closure of the same source function (the mark is on the shared executable),
 * so marking one closure instance covers the others. Call it at module load, before the function
 * gets hot. Never throws: a runtime without the hook compiles as usual.
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
