// When the dispatcher's background steps run (the rest of a slice, a sink's next small batch): at the next macrotask, or paced by the messages the pumps handle.

import type { Clock } from "./clock.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * Paced, a waiting step runs at most this long after the previous one when no message comes
 * (nothing to pace by: an idle session still drains its events promptly).
 */
export const PACED_FALLBACK_MS = 1;

/** Runs the dispatcher's background steps in later turns of the event loop, in order. */
export interface BackgroundTurns {
  /** Runs `step` in a later turn: the next macrotask, or paced (see {@link createBackgroundTurns}). */
  later(step: () => void): void;
  /** The pumps handled a message: paced, the next waiting step runs at the next macrotask. */
  poke(): void;
}

/**
 * Unpaced, every step runs at the next macrotask (`idle`). Paced, one step runs per message the
 * pumps handle (right after it, at the next macrotask), or {@link PACED_FALLBACK_MS} after the
 * previous step when none comes. Why: steps run back to back held the thread for up to a
 * millisecond; on two cores, with the JIT compiling on the other, the client waiting for the
 * answer just written could not run until they ended (measured: most of the remaining p99).
 */
export function createBackgroundTurns(paced: boolean, idle: (fn: () => void) => void, clock: Clock): BackgroundTurns {
  if (!paced) return { later: idle, poke: () => undefined };
  const steps: (() => void)[] = [];
  let timer: unknown;
  let poked = false; // a turn after a message is already asked for

  function runOne(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    poked = false;
    steps.shift()?.();
    if (steps.length > 0 && timer === undefined) timer = clock.setTimeout(runOne, PACED_FALLBACK_MS);
  }

  const turns: BackgroundTurns = {
    later(step) {
      steps.push(step);
      if (timer === undefined) timer = clock.setTimeout(runOne, PACED_FALLBACK_MS);
    },
    poke() {
      if (poked || steps.length === 0) return;
      poked = true;
      idle(() => {
        if (poked) runOne(); // unless the fallback timer ran it meanwhile
      });
    },
  };
  // Once per step or chunk: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(runOne, turns.later, turns.poke);
  return turns;
}
