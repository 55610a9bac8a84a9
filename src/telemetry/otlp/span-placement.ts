// Where a call's spans sit in a trace, read from its event's `_meta`: the host's traceparent, the span ids the transform propagated, parent-based sampling. Pure; ids from a passed-in source.

import type { BatonEvent } from "../event-types.ts";
import type { FinishedSpan, SpanLink } from "./span-types.ts";
import { parseTraceparent, parseTracestate, TRACEPARENT_KEY, TRACESTATE_KEY, type RandomHex } from "./trace-context.ts";

/** Set by the transform when BATON_OTEL_PROPAGATE=on: the trace and CLIENT span ids it wrote into the forwarded request. */
export const META_TRACE_ID = "baton/trace_id";
export const META_SPAN_ID = "baton/span_id";
/** Set by the tracker in hosted mode: the HTTP request's `traceparent`/`tracestate` headers (the ambient context). */
export const META_HTTP_TRACEPARENT = "baton/http_traceparent";
export const META_HTTP_TRACESTATE = "baton/http_tracestate";

/** A call's place in a trace: its trace, its SERVER span's parent, and whether any of its spans is exported. */
export interface TracePlacement {
  traceId: string;
  parent: FinishedSpan["parent"];
  traceState: string | undefined;
  clientSpanId: string;
  sampled: boolean;
  /** The HTTP request's context when `_meta` gave another parent (the conventions: a link to the ambient context). */
  links: SpanLink[];
}

/**
 * Trace placement from `_meta`: the host's traceparent makes our SERVER span its child. Ids the
 * transform propagated are kept when well-formed; missing ones come from `random`. Never throws.
 */
export function placement(event: BatonEvent, random: RandomHex): TracePlacement {
  const meta = event.runtime_meta ?? {};
  const extracted = parseTraceparent(meta[TRACEPARENT_KEY]);
  const ambient = parseTraceparent(meta[META_HTTP_TRACEPARENT]);
  // The conventions: the context extracted from `_meta` is the parent, the ambient (HTTP) one a link;
  // without the former, the HTTP request's context is the parent, as for any HTTP server span.
  const incoming = extracted ?? ambient;
  const stateKey = extracted !== undefined ? TRACESTATE_KEY : META_HTTP_TRACESTATE;
  const ownTrace = meta[META_TRACE_ID];
  const ownSpan = meta[META_SPAN_ID];
  const traceId =
    typeof ownTrace === "string" && /^[0-9a-f]{32}$/.test(ownTrace) ? ownTrace : (incoming?.traceId ?? random(16));
  const clientSpanId = typeof ownSpan === "string" && /^[0-9a-f]{16}$/.test(ownSpan) ? ownSpan : random(8);
  const parent =
    incoming !== undefined && incoming.traceId === traceId ? { spanId: incoming.spanId, remote: true } : undefined;
  return {
    traceId,
    parent,
    traceState: parent === undefined ? undefined : parseTracestate(meta[stateKey]),
    clientSpanId,
    // Parent-based, as OpenTelemetry's default sampler: the host's unsampled trace stays unrecorded.
    sampled: parent === undefined || incoming?.sampled !== false,
    links:
      extracted !== undefined &&
      ambient !== undefined &&
      (ambient.traceId !== extracted.traceId || ambient.spanId !== extracted.spanId)
        ? [{ traceId: ambient.traceId, spanId: ambient.spanId }]
        : [],
  };
}
