// Bounded duration statistics for one tool: exact count/sum/max, a capped sample, nearest-rank percentiles. Pure; no I/O.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Exact duration samples kept per tool; beyond this a deterministic reservoir keeps a uniform sample. */
export const MAX_DURATION_SAMPLES_PER_TOOL = 10_000;
/** Fixed xorshift32 seed, so the same events always keep the same sample (as an int32: see addDuration). */
const RESERVOIR_SEED = 0x9e3779b9 | 0;

/** Durations seen so far. `samples` holds every duration while `count` ≤ the cap, a uniform sample after. */
export interface DurationStats {
  count: number;
  sumMs: number;
  maxMs: number | null;
  readonly samples: number[];
  /** The generator's state as an int32 (never a uint32 above 2^31: the field keeps one number type). */
  rng: number;
}

/** Empty statistics. */
export function createDurationStats(): DurationStats {
  return { count: 0, sumMs: 0, maxMs: null, samples: [], rng: RESERVOIR_SEED };
}

/** Adds one duration (mutates `stats`, O(1)): exact up to the cap, then reservoir sampling (Algorithm R). */
export function addDuration(stats: DurationStats, ms: number): void {
  stats.count += 1;
  stats.sumMs += ms;
  stats.maxMs = stats.maxMs === null ? ms : Math.max(stats.maxMs, ms);
  if (stats.samples.length < MAX_DURATION_SAMPLES_PER_TOOL) {
    stats.samples.push(ms);
    return;
  }
  // Kept as an int32, read as a uint32: storing `x >>> 0` made the field an int one call and a
  // double the next, and the JIT recompiled the fold each time it saw the other kind.
  let x = stats.rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  stats.rng = x;
  const slot = (x >>> 0) % stats.count;
  if (slot < MAX_DURATION_SAMPLES_PER_TOOL) stats.samples[slot] = ms;
}

/** True while the sample still holds every duration, so percentiles and counts are exact. */
export function isExact(stats: DurationStats): boolean {
  return stats.samples.length === stats.count;
}

/** How many durations were at least `thresholdMs`: exact while isExact, else scaled up from the sample. */
export function countAtLeast(stats: DurationStats, thresholdMs: number): number {
  if (stats.samples.length === 0) return 0;
  const inSample = stats.samples.reduce((n, ms) => (ms >= thresholdMs ? n + 1 : n), 0);
  return isExact(stats) ? inSample : Math.round((inSample * stats.count) / stats.samples.length);
}

/** The sample sorted ascending, as a new array (the stats are not touched). */
export function sortedSamples(stats: DurationStats): Float64Array {
  return Float64Array.from(stats.samples).sort();
}

/**
 * Nearest-rank percentile of ascending `sorted` values (no interpolation, so the result is a
 * duration some call really had: the smallest value with at least p% of values at or below it).
 * Null when empty.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(addDuration);
