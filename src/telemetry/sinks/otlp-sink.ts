// The `otlp:` sink: derives MCP spans from events and POSTs them to an OTLP/HTTP traces endpoint; retries what the OTLP spec calls retryable, bounded in time and memory; never logs a header value, reports spans a collector rejects.

import { describeError, LocalError } from "../../errors.ts";
import type { OtlpSettings } from "../otlp/otlp-settings.ts";
import { createSpanBuilder } from "../otlp/span-builder.ts";
import type { FinishedSpan } from "../otlp/span-types.ts";
import { describeUnfollowedRedirect, sameOriginFetch } from "../../remote/same-origin-fetch.ts";
import type { RandomHex } from "../otlp/trace-context.ts";
import type { BatonEvent } from "../event-types.ts";
import { type Clock, SYSTEM_CLOCK } from "../clock.ts";
import { MAX_QUEUE_BYTES } from "../dispatcher-contract.ts";
import { isRetryableStatus, parseRetryAfter } from "../otlp/export-retry.ts";
import { createExportQueue, type Pushback } from "../otlp/export-queue.ts";
import { SDK_VERSION } from "../../version.ts";
import type { FetchLike } from "./http-sink.ts";
import type { Sink, SinkDrop } from "./sink.ts";

/** Spans per export request; a flush with more sends several. */
export const MAX_SPANS_PER_REQUEST = 1_024;
/** `close` gives up this long before the time it was given, so its drops are reported before the dispatcher's deadline. */
export const CLOSE_MARGIN_MS = 100;

export { CLOSING_RETRY_DELAY_MS } from "../otlp/export-queue.ts";

/**
 * `service.instance.id` (OpenTelemetry resource conventions, Recommended): unique per process, so
 * that several proxies with one OTEL_SERVICE_NAME export distinct resources. Made once at load, not
 * per sink: serve's sessions all belong to one instance.
 */
export const PROCESS_INSTANCE_ID: string = crypto.randomUUID();

export interface OtlpSinkOptions {
  readonly settings: OtlpSettings;
  /** `pipe` for the stdio proxy, `tcp` for hosted HTTP mode. */
  readonly transport: "pipe" | "tcp";
  /** How the server is reached (the CLIENT span), when it differs: `tcp` for `--url`. */
  readonly upstreamTransport?: "pipe" | "tcp";
  /** The server's origin when reached over HTTP (`--url`, serve's upstream): the CLIENT span's server.address/.port. */
  readonly upstreamOrigin?: string;
  readonly fetch?: FetchLike;
  readonly randomHex?: RandomHex;
  /** Default {@link SYSTEM_CLOCK} (retry timers are unref'd: they never keep the process alive). */
  readonly clock?: Clock;
  /** Epoch milliseconds, default `Date.now`: only to read a Retry-After given as an HTTP date (`clock` is monotonic, no date). */
  readonly wallNow?: () => number;
  /** Backoff jitter, default `Math.random`. */
  readonly random?: () => number;
  /** Bytes of request bodies held for a retry, default the dispatcher's per-sink byte bound ({@link MAX_QUEUE_BYTES}). */
  readonly maxWaitingBytes?: number;
  /** The resource's `service.instance.id` unless OTEL_RESOURCE_ATTRIBUTES gives one; default {@link PROCESS_INSTANCE_ID}. */
  readonly instanceId?: string;
}

/**
 * Creates the sink. Redirects are followed only within the endpoint's origin; one elsewhere fails
 * like any non-2xx answer. `write` feeds the span builder (cheap: a map entry per open call); `flush`
 * encodes the finished spans and POSTs them, rejecting with `E_SINK` on a final failure (another
 * 4xx, a redirect elsewhere, a timeout: the collector may have the spans) so the dispatcher counts
 * the batch as dropped. What the OTLP spec calls retryable (429, 502, 503, 504, a network error)
 * waits instead, encoded, and is retried in the background like the s3:// sink's uploads: after
 * Retry-After when the collector sends one, else with doubling backoff and jitter, at most
 * MAX_EXPORT_ATTEMPTS times, one request at a time; newer spans queue behind it rather than go into
 * the push-back. Given-up requests are reported through `takeDrops`, as are the oldest waiting
 * ones beyond `maxWaitingBytes`. `close(msLeft)` retries only within the time it is given and
 * counts what is still waiting then. Calls still open at `close` get their error event from the
 * proxy first (proxy_shutdown / upstream_exit), so their spans are in the last flush.
 */
export function createOtlpSink(options: OtlpSinkOptions): Sink {
  const { settings } = options;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const wallNow = options.wallNow ?? Date.now;
  const random = options.random ?? Math.random;
  const maxWaitingBytes = options.maxWaitingBytes ?? MAX_QUEUE_BYTES;
  // A user-given service.instance.id (OTEL_RESOURCE_ATTRIBUTES) wins, as for every resource default.
  const resource = { "service.instance.id": options.instanceId ?? PROCESS_INSTANCE_ID, ...settings.resource };
  const endpoint = new URL(settings.endpoint);
  const label = `otlp:${endpoint.origin}`;
  // Redirects only within the collector's origin: elsewhere, OTEL_EXPORTER_OTLP_HEADERS (API keys) would follow.
  const doFetch = sameOriginFetch(options.fetch ?? ((url, init) => fetch(url, init)), endpoint.origin);
  const builder = createSpanBuilder({
    transport: options.transport,
    upstreamTransport: options.upstreamTransport,
    upstreamOrigin: options.upstreamOrigin,
    captureContent: settings.captureContent,
    randomHex: options.randomHex,
  });
  // The official serializers load on the first export, not at start: importing them costs tens of
  // milliseconds, which every proxy launch would pay even when no span is ever sent.
  let codec: Promise<typeof import("../otlp/encode-spans.ts")> | undefined;
  let encoder: ((spans: readonly FinishedSpan[]) => Uint8Array) | undefined;
  const encode = async (spans: readonly FinishedSpan[]): Promise<Uint8Array> => {
    codec ??= import("../otlp/encode-spans.ts");
    encoder ??= (await codec).createSpanEncoder(settings.protocol, resource);
    return encoder(spans);
  };
  const headers: Record<string, string> = {
    "User-Agent": SDK_VERSION, // names the exporter, as the OTLP spec asks; OTEL_EXPORTER_OTLP_HEADERS may override it
    ...settings.headers,
    "Content-Type": settings.protocol === "http/json" ? "application/json" : "application/x-protobuf",
  };
  if (settings.gzip) headers["Content-Encoding"] = "gzip";
  const secrets = Object.values(settings.headers).filter((v) => v.length >= 4);
  const hide = (text: string): string => secrets.reduce((t, s) => t.split(s).join("[redacted]"), text);
  let finished: FinishedSpan[] = [];
  let closed = false;
  let evictedReported = 0;
  /** Partial successes and given-up requests not yet handed to the dispatcher. */
  let refused: SinkDrop[] = [];

  const drop = (spans: number, kind: string, detail: string): void => void refused.push({ count: spans, kind, detail });
  const queue = createExportQueue({ send: post, drop, hide, clock, random, maxWaitingBytes });

  /**
   * One request. Resolves undefined when delivered, a {@link Pushback} when the OTLP spec says to
   * try again; rejects with E_SINK on a final failure.
   */
  async function post(body: Uint8Array<ArrayBuffer>, spans: number): Promise<Pushback | undefined> {
    const timeoutMs = Math.max(1, Math.min(settings.timeoutMs, queue.deadline - clock.now()));
    let response: Response;
    try {
      response = await doFetch(settings.endpoint, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : hide(describeError(error));
      // A timeout is final: the collector may have the spans, and a hanging one would hold every later batch.
      if (!timedOut) return { reason, retryAfterMs: undefined };
      throw new LocalError("E_SINK", `${label}: export of ${spans} span(s) failed: ${reason}`, { cause: error });
    }
    // Read the body (a partial-success message at most), which also lets the connection be reused.
    const answer = await response.bytes().catch(() => new Uint8Array(0));
    if (response.ok && codec !== undefined) {
      // OTLP partial success: HTTP 200, yet the collector dropped some spans (never retried, as the spec says).
      const rejected = (await codec).rejectedSpans(answer, response.headers.get("content-type"));
      if (rejected !== undefined) {
        const why = rejected.message === "" ? "" : `: ${hide(rejected.message).slice(0, 200)}`;
        const detail = `${rejected.count} of ${spans} span(s) in one export${why}`;
        refused.push({ count: rejected.count, kind: "rejected by the collector", detail });
      }
    }
    if (isRetryableStatus(response.status)) {
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), wallNow());
      return { reason: `HTTP ${response.status}`, retryAfterMs };
    }
    if (!response.ok) {
      const redirect = describeUnfollowedRedirect(response, settings.endpoint);
      const why = redirect === undefined ? "" : hide(`: ${redirect} (spans and headers go only to ${endpoint.origin})`);
      throw new LocalError("E_SINK", `${label}: export of ${spans} span(s) answered HTTP ${response.status}${why}`);
    }
    return undefined;
  }

  async function flush(): Promise<void> {
    if (finished.length === 0) return;
    const spans = finished;
    finished = [];
    for (let i = 0; i < spans.length; i += MAX_SPANS_PER_REQUEST) {
      const chunk = spans.slice(i, i + MAX_SPANS_PER_REQUEST);
      const encoded = (await encode(chunk)) as Uint8Array<ArrayBuffer>;
      const body = settings.gzip ? Bun.gzipSync(encoded) : encoded;
      // While the collector pushes back, newer spans wait behind the ones it refused.
      if (queue.pending > 0) queue.wait(body, chunk.length, undefined);
      else {
        const pushback = await post(body, chunk.length);
        if (pushback !== undefined) queue.wait(body, chunk.length, pushback);
      }
    }
  }

  return {
    label,
    usesLine: false, // spans are built from the event; its queue keeps no lines
    write(event: BatonEvent): void {
      if (closed) return;
      for (const span of builder.add(event)) finished.push(span);
    },
    flush,
    takeDrops(): SinkDrop[] {
      const evicted = builder.evicted - evictedReported;
      evictedReported = builder.evicted;
      const detail = "more tool calls open at once than the span builder keeps; the oldest never gets its spans";
      const drops = refused;
      refused = [];
      return evicted > 0 ? [{ count: evicted, kind: "open calls forgotten", detail }, ...drops] : drops;
    },
    async close(msLeft = settings.timeoutMs): Promise<void> {
      if (closed) return;
      closed = true;
      for (const span of builder.release()) finished.push(span);
      queue.close(clock.now() + Math.max(0, msLeft - CLOSE_MARGIN_MS));
      try {
        await flush();
      } finally {
        await queue.retryUntilDeadline();
      }
    },
  };
}
