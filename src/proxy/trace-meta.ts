// Trace facts of a tool call for the `otlp:` sink (request id, protocol version, our span ids) and, when asked, the traceparent written into the forwarded request. Pure.

import type { JsonObject, JsonRpcId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { formatTraceparent, parseTraceparent, type RandomHex } from "../telemetry/otlp/trace-context.ts";
import { META_PROTOCOL_VERSION, META_REQUEST_ID, META_SPAN_ID, META_TRACE_ID } from "../telemetry/otlp/span-builder.ts";

/** Set in TransformOptions only when an `otlp:` sink is configured; otherwise events and bytes stay as they were. */
export interface TraceOptions {
  /** BATON_OTEL_PROPAGATE=on: write our CLIENT span's traceparent into the forwarded request's `params._meta`. */
  readonly propagate: boolean;
  readonly randomHex: RandomHex;
}

export interface TracedCall {
  /** Keys to add to the call's runtime_meta (under our `baton/` prefix, which clients cannot forge). */
  readonly meta: Record<string, unknown>;
  /** The request's new `params` when propagating (the caller re-serialises the message), else undefined. */
  readonly params: JsonObject | undefined;
}

/**
 * The trace facts of one `tools/call`. With `propagate`, our CLIENT span gets a fresh id in the
 * host's trace (or a new trace) and the forwarded request carries it as `_meta.traceparent`; the
 * host's `tracestate` is passed on unchanged, every other key of `params` and `_meta` is kept.
 */
export function traceCall(options: TraceOptions, id: JsonRpcId, params: JsonObject, protocolVersion: string | null): TracedCall {
  const meta: Record<string, unknown> = { [META_REQUEST_ID]: String(id) };
  if (protocolVersion !== null) meta[META_PROTOCOL_VERSION] = protocolVersion;
  if (!options.propagate) return { meta, params: undefined };
  const requestMeta = isObject(params._meta) ? params._meta : {};
  const traceId = parseTraceparent(requestMeta.traceparent)?.traceId ?? options.randomHex(16);
  const spanId = options.randomHex(8);
  meta[META_TRACE_ID] = traceId;
  meta[META_SPAN_ID] = spanId;
  return { meta, params: { ...params, _meta: { ...requestMeta, traceparent: formatTraceparent(traceId, spanId) } } };
}
