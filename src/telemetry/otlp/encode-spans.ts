// Encodes finished spans as an OTLP ExportTraceServiceRequest (protobuf or JSON) with the official @opentelemetry/otlp-transformer serializers.

import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { VERSION } from "../../version.ts";
import type { FinishedSpan } from "./span-types.ts";
import type { OtlpProtocol } from "./otlp-settings.ts";

/** The OpenTelemetry API's SpanKind numbers (the serializer adds 1 for the OTLP enum). */
const KIND = { internal: 0, server: 1, client: 2 } as const;
const SCOPE = { name: "baton-proxy", version: VERSION };

/** The serializer's input, shaped like the SDK's ReadableSpan (only the fields it reads). */
type ReadableSpanLike = Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0][number];

/**
 * Builds an encoder bound to one resource (the serializer groups spans by resource identity, so
 * the object is made once). Returns the request body; never throws for well-formed spans.
 */
export function createSpanEncoder(
  protocol: OtlpProtocol,
  resource: Readonly<Record<string, string>>,
): (spans: readonly FinishedSpan[]) => Uint8Array {
  const resourceLike = {
    attributes: { ...resource },
    asyncAttributesPending: false,
  } as unknown as ReadableSpanLike["resource"];
  const serializer = protocol === "http/json" ? JsonTraceSerializer : ProtobufTraceSerializer;
  return (spans) => {
    const body = serializer.serializeRequest(spans.map((span) => toReadable(span, resourceLike)));
    if (body === undefined) throw new Error("the OTLP serializer returned nothing");
    return body;
  };
}

/**
 * The spans a collector's 200 answer says it rejected (OTLP partial success), with its message;
 * undefined for a full success or a body that does not decode (never throws). The collector
 * answers in the request's encoding; its Content-Type says which.
 */
export function rejectedSpans(
  body: Uint8Array,
  contentType: string | null,
): { readonly count: number; readonly message: string } | undefined {
  if (body.length === 0) return undefined;
  try {
    const json = contentType?.toLowerCase().startsWith("application/json") === true;
    const partial = (json ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse(body).partialSuccess;
    const count = Number(partial?.rejectedSpans ?? 0);
    if (!Number.isSafeInteger(count) || count <= 0) return undefined;
    return { count, message: String(partial?.errorMessage ?? "") };
  } catch {
    return undefined;
  }
}

function toReadable(span: FinishedSpan, resource: ReadableSpanLike["resource"]): ReadableSpanLike {
  const traceState = span.traceState === undefined ? undefined : { serialize: () => span.traceState as string };
  const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: 1, traceState };
  const parent =
    span.parent === undefined
      ? undefined
      : { traceId: span.traceId, spanId: span.parent.spanId, traceFlags: 1, isRemote: span.parent.remote };
  return {
    name: span.name,
    kind: KIND[span.kind],
    spanContext: () => context,
    parentSpanContext: parent,
    startTime: span.start,
    endTime: span.end,
    duration: [0, 0],
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((link) => ({
      context: { traceId: link.traceId, spanId: link.spanId, traceFlags: 1 },
      attributes: {},
      droppedAttributesCount: 0,
    })),
    events: span.events.map((e) => ({
      name: e.name,
      time: e.time,
      attributes: e.attributes,
      droppedAttributesCount: 0,
    })),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as unknown as ReadableSpanLike;
}
