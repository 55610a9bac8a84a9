// Answers "is the upstream there?" for /readyz: any HTTP status within the probe timeout counts (401 included); cached briefly.

/** The probe's own deadline. */
export const PROBE_TIMEOUT_MS = 1_000;
/** A probe result is reused for at most this long, so a scrape storm never floods the upstream. */
export const PROBE_CACHE_MS = 5_000;

export interface ReadinessProbe {
  /** True when the upstream answered recently; probes (at most one at a time) when the cached result is stale. */
  upstreamReady(): Promise<boolean>;
}

/**
 * `probe` sends one request (a HEAD… any request) and resolves when any status arrives; a
 * rejection or the timeout counts as not ready. `now` is monotonic milliseconds.
 */
export function createReadinessProbe(
  probe: (signal: AbortSignal) => Promise<unknown>,
  now: () => number,
  cacheMs = PROBE_CACHE_MS,
  timeoutMs = PROBE_TIMEOUT_MS,
): ReadinessProbe {
  let cached: { at: number; ready: boolean } | undefined;
  let inFlight: Promise<boolean> | undefined;
  const run = async (): Promise<boolean> => {
    try {
      await probe(AbortSignal.timeout(timeoutMs));
      return true;
    } catch {
      return false;
    }
  };
  return {
    upstreamReady() {
      if (cached !== undefined && now() - cached.at < cacheMs) return Promise.resolve(cached.ready);
      inFlight ??= run().then((ready) => {
        cached = { at: now(), ready };
        inFlight = undefined;
        return ready;
      });
      return inFlight;
    },
  };
}
