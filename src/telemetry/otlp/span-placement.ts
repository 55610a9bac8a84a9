// Where a call's spans sit in a trace, read from its event's `_meta`: the host's traceparent, the span ids the transform propagated, parent-based sampling. Pure; ids from a passed-in source.

import type { BatonEvent } from "../event-types.ts";
import type { FinishedSpan } from "./span-types.ts";
import { parseTraceparent, parseTracestate, TRACEPARENT_KEY, TRACESTATE_KEY, type RandomHex } from "./trace-context.ts";

/** Set by the transform when BATON_OTEL_PROPAGATE=on: the trace and CLIENT span ids it wrote into the forwarded request. */
export const META_TRACE_ID = "baton/trace_id";
export const META_SPAN_ID = "baton/span_id";

/** A call's place in a trace: its trace, its SERVER span's parent, and whether any of its spans is exported. */
export interface TracePlacement {
  traceId: string;
  parent: FinishedSpan["parent"];
  traceState: string | undefined;
  clientSpanId: string;
  sampled: boolean;
}

/**
 * Trace placement from `_meta`: the host's traceparent makes our SERVER span its child. Ids the
 * transform propagated are kept when well-formed; missing ones come from `random`. Never throws.
 */
export function placement(event: BatonEvent, random: RandomHex): TracePlacement {
  const meta = event.runtime_meta ?? {};
  const incoming = parseTraceparent(meta[TRACEPARENT_KEY]);
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
    traceState: parent === undefined ? undefined : parseTracestate(meta[TRACESTATE_KEY]),
    clientSpanId,
    // Parent-based, as OpenTelemetry's default sampler: the host's unsampled trace stays unrecorded.
    sampled: parent === undefined || incoming?.sampled !== false,
  };
}
