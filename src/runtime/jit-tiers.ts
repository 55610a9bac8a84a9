// Keeps named hot functions out of JavaScriptCore's top JIT tier (FTL), whose compile of them costs more than it saves; nothing else.

import { noFTL } from "bun:jsc";

/**
 * Marks each function so JavaScriptCore never compiles it with FTL; it still runs in the DFG tier
 * (optimised, far cheaper to compile). Why: FTL compiles are ~90% of the JIT's CPU in a proxy run
 * and land in the first bursts of calls, on a JIT thread competing with the pumps, the server and
 * the client for 2 cores, while a stdio proxy lives for one client session. The line scans are the
 * worst deal: `scanLineFacts` alone took ~120 ms of JIT CPU to FTL-compile for a scan ~25% faster
 * (~90 ns a line), paid back only after ~650 000 calls. With the scans marked, JIT thread CPU over
 * 20 000 pipelined calls went 450–520 → 330–340 ms. Marking the per-line and per-event glue too
 * (fast path, transforms, engine, scrub walk, report fold) takes it to 200–260 ms (from 300–330 in
 * the same runs; the proxy's CPU per call, median of 5, 28 → 26 µs). The price: FTL code of that
 * glue may be faster in a process that lives past ~100 000 calls (a long stdio session, or `serve`,
 * where a call costs ~100 µs): measured up to ~1.5 µs a call, or nothing, depending on the run.
 * Short runs are the common case, so the measured-hot per-message functions are marked. Later
 * waves took nearly all the rest of what FTL compiled in a 22 000-call run (the pumps' and the
 * session's closures, the wire writers, line splitting and classifying, pending requests, call
 * events, envelope and hub closures, the dispatcher's and the lanes' closures, the report fold's
 * parts, the scans' and the scrub's helpers; 45 FTL compiles -> 12 small ones): JIT thread CPU
 * 230-270 -> 110-130 ms, the proxy's CPU per call in a 20 000-call burst 27.5-33.5 -> 21.5-24.5 µs
 * (same runs), and the steady state (calls 100 000 to 200 000) 19-24 against 17-26 µs: within
 * this machine's noise. The last wave took what FTL still compiled in long sequential runs (the key
 * matcher of the scrub, the intake's and the lanes' methods, the hub's and dispatcher's getters and
 * pokes, the drafts' builders, `redactTextFully`): 12-13 FTL compiles of 1-7 ms each between calls
 * 2 000 and 4 500 -> none, and the p99 of calls 2 200-4 200 went 1 446 -> 934 µs (relay 531; medians
 * of 8 interleaved runs; calls 200-2 200, where DFG compiles are most of the JIT's work, unchanged),
 * with the burst's CPU per call unchanged (25 and 25.5 µs, medians of 8 runs).
 *
 * The mark is on the function's shared executable: marking one closure covers every closure of
 * the same source. It does not stop FTL from compiling a marked function's body inlined into an
 * unmarked caller (hence the engine's glue is marked too). Call it at module load, before the
 * function gets hot. Never throws: a runtime without the hook compiles as usual.
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

/** The getters named `names` on `target` or its prototype chain, to pass to {@link keepOutOfFtl}; missing ones are left out. */
export function gettersOf(target: object, ...names: readonly string[]): ((...args: never[]) => unknown)[] {
  const found: ((...args: never[]) => unknown)[] = [];
  for (const name of names) {
    for (let on: object | null = target; on !== null; on = Object.getPrototypeOf(on)) {
      const get = Object.getOwnPropertyDescriptor(on, name)?.get;
      if (get === undefined) continue;
      found.push(get);
      break;
    }
  }
  return found;
}
