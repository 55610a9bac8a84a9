// When a failed OTLP/HTTP export is tried again (the OTLP exporter spec's retry rules) and after how long; pure, time and randomness passed in.

/** The answers the OTLP spec calls retryable; every other non-2xx is final (and a partial success is never retried). */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
/** Attempts per export request (the first included) before its spans are dropped and counted. */
export const MAX_EXPORT_ATTEMPTS = 5;
/** Backoff after the first failure; doubles per attempt up to {@link MAX_RETRY_DELAY_MS}, each drawn between half and all of it (jitter). */
export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 16_000;
/** A `Retry-After` longer than this is not waited for: the spans are dropped and counted instead of held for minutes. */
export const MAX_RETRY_AFTER_MS = 60_000;

export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUSES.has(status);

/**
 * A `Retry-After` header in milliseconds from `now` (wall-clock ms): delay-seconds or an HTTP date
 * (one in the past is 0). Undefined when absent or unreadable: the caller's own backoff applies.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  const text = header?.trim() ?? "";
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = text === "" ? Number.NaN : Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before attempt `failed + 1`, after `failed` failures (1 or more): doubling, capped, with jitter from `random` in [0, 1). */
export function backoffMs(failed: number, random: () => number): number {
  const ceiling = Math.min(FIRST_RETRY_DELAY_MS * 2 ** (failed - 1), MAX_RETRY_DELAY_MS);
  return Math.round(ceiling * (0.5 + random() / 2));
}
