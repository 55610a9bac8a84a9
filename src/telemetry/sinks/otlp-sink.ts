// The `otlp:` sink: derives MCP spans from events and POSTs them to an OTLP/HTTP traces endpoint; never retries, never logs a header value, reports spans a collector rejects.

import { describeError, LocalError } from "../../errors.ts";
import type { OtlpSettings } from "../otlp/otlp-settings.ts";
import { createSpanBuilder } from "../otlp/span-builder.ts";
import type { FinishedSpan } from "../otlp/span-types.ts";
import { describeUnfollowedRedirect, sameOriginFetch } from "../../remote/same-origin-fetch.ts";
import type { RandomHex } from "../otlp/trace-context.ts";
import type { BatonEvent } from "../event-types.ts";
import { SDK_VERSION } from "../../version.ts";
import type { FetchLike } from "./http-sink.ts";
import type { Sink, SinkDrop } from "./sink.ts";

/** Spans per export request; a flush with more sends several. */
export const MAX_SPANS_PER_REQUEST = 1_024;

export interface OtlpSinkOptions {
  readonly settings: OtlpSettings;
  /** `pipe` for the stdio proxy, `tcp` for hosted HTTP mode. */
  readonly transport: "pipe" | "tcp";
  /** How the server is reached (the CLIENT span), when it differs: `tcp` for `--url`. */
  readonly upstreamTransport?: "pipe" | "tcp";
  readonly fetch?: FetchLike;
  readonly randomHex?: RandomHex;
}

/**
 * Creates the sink. Redirects are followed only within the endpoint's origin; one elsewhere fails
 * like any non-2xx answer. `write` feeds the span builder (cheap: a map entry per open call); `flush`
 * encodes the finished spans and POSTs them, rejecting with `E_SINK` (status, network error or
 * timeout) so the dispatcher counts the batch as dropped. Like every sink it does not retry: a sick
 * collector would otherwise get growing bursts. Calls still open at `close` get their error event
 * from the proxy first (proxy_shutdown / upstream_exit), so their spans are in the last flush.
 */
export function createOtlpSink(options: OtlpSinkOptions): Sink {
  const { settings } = options;
  const endpoint = new URL(settings.endpoint);
  const label = `otlp:${endpoint.origin}`;
  // Redirects only within the collector's origin: elsewhere, OTEL_EXPORTER_OTLP_HEADERS (API keys) would follow.
  const doFetch = sameOriginFetch(options.fetch ?? ((url, init) => fetch(url, init)), endpoint.origin);
  const builder = createSpanBuilder({
    transport: options.transport,
    upstreamTransport: options.upstreamTransport,
    captureContent: settings.captureContent,
    randomHex: options.randomHex,
  });
  // The official serializers load on the first export, not at start: importing them costs tens of
  // milliseconds, which every proxy launch would pay even when no span is ever sent.
  let codec: Promise<typeof import("../otlp/encode-spans.ts")> | undefined;
  let encoder: ((spans: readonly FinishedSpan[]) => Uint8Array) | undefined;
  const encode = async (spans: readonly FinishedSpan[]): Promise<Uint8Array> => {
    codec ??= import("../otlp/encode-spans.ts");
    encoder ??= (await codec).createSpanEncoder(settings.protocol, settings.resource);
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
  /** Partial successes not yet handed to the dispatcher. */
  let refused: SinkDrop[] = [];

  async function post(spans: readonly FinishedSpan[]): Promise<void> {
    const encoded = await encode(spans);
    const body = settings.gzip
      ? Bun.gzipSync(encoded as Uint8Array<ArrayBuffer>)
      : (encoded as Uint8Array<ArrayBuffer>);
    let response: Response;
    try {
      response = await doFetch(settings.endpoint, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const reason = timedOut ? `no answer within ${settings.timeoutMs} ms` : hide(describeError(error));
      throw new LocalError("E_SINK", `${label}: export of ${spans.length} span(s) failed: ${reason}`, { cause: error });
    }
    // Read the body (a partial-success message at most), which also lets the connection be reused.
    const answer = await response.bytes().catch(() => new Uint8Array(0));
    if (response.ok && codec !== undefined) {
      // OTLP partial success: HTTP 200, yet the collector dropped some spans (never retried, as the spec says).
      const rejected = (await codec).rejectedSpans(answer, response.headers.get("content-type"));
      if (rejected !== undefined) {
        const why = rejected.message === "" ? "" : `: ${hide(rejected.message).slice(0, 200)}`;
        const detail = `${rejected.count} of ${spans.length} span(s) in one export${why}`;
        refused.push({ count: rejected.count, kind: "rejected by the collector", detail });
      }
    }
    if (!response.ok) {
      const redirect = describeUnfollowedRedirect(response, settings.endpoint);
      const why = redirect === undefined ? "" : hide(`: ${redirect} (spans and headers go only to ${endpoint.origin})`);
      throw new LocalError(
        "E_SINK",
        `${label}: export of ${spans.length} span(s) answered HTTP ${response.status}${why}`,
      );
    }
  }

  async function flush(): Promise<void> {
    if (finished.length === 0) return;
    const spans = finished;
    finished = [];
    for (let i = 0; i < spans.length; i += MAX_SPANS_PER_REQUEST) await post(spans.slice(i, i + MAX_SPANS_PER_REQUEST));
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
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await flush();
    },
  };
}
