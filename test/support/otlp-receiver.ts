// A local OTLP/HTTP traces receiver for tests: keeps every request and decodes it with the official generated protobuf code (or as OTLP/JSON).

import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// OpenTelemetry's own protobufjs code generated from opentelemetry-proto (shipped by otlp-transformer before it wrote its own encoder).
const root = require("otlp-transformer-protobufjs/build/src/generated/root.js");
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** One span as the tests look at it: ids in hex, times as bigint nanoseconds, attributes as plain values. */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP enum: 1 internal, 2 server, 3 client. */
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; time: bigint; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string }[];
  status: { code: number; message: string };
  flags: number;
  resource: Record<string, unknown>;
  scope: string;
}

export interface ReceivedRequest {
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export interface OtlpReceiver {
  /** Base URL (give it as OTEL_EXPORTER_OTLP_ENDPOINT; requests go to /v1/traces). */
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Answer with this status from now on (default 200). */
  setStatus(status: number): void;
  /** Answer the next `count` requests with `status` and `headers` (a collector pushing back), then as before. */
  pushBack(count: number, status: number, headers?: Record<string, string>): void;
  /** Answer a 200 with this body and Content-Type from now on (an OTLP partial success; default empty). */
  setBody(body: Uint8Array | string, contentType: string): void;
  /** Every span received so far, decoded. */
  spans(): DecodedSpan[];
  stop(): Promise<void>;
}

export function startOtlpReceiver(): OtlpReceiver {
  const requests: ReceivedRequest[] = [];
  let status = 200;
  let pushback: { count: number; status: number; headers: Record<string, string> } | undefined;
  let okBody: { body: Uint8Array | string; contentType: string } = {
    body: new Uint8Array(0),
    contentType: "application/x-protobuf",
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (new URL(request.url).pathname !== "/v1/traces" || request.method !== "POST")
        return new Response("not found", { status: 404 });
      const body = new Uint8Array(await request.arrayBuffer());
      if (pushback !== undefined && pushback.count > 0) {
        pushback.count--;
        return new Response("busy", { status: pushback.status, headers: pushback.headers });
      }
      requests.push({ headers: request.headers, body });
      return new Response(status === 200 ? okBody.body : "no", {
        status,
        headers: { "Content-Type": status === 200 ? okBody.contentType : "application/x-protobuf" },
      });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    setStatus: (s) => {
      status = s;
    },
    pushBack: (count, s, headers = {}) => {
      pushback = { count, status: s, headers };
    },
    setBody: (body, contentType) => {
      okBody = { body, contentType };
    },
    spans: () => requests.flatMap(decodeRequest),
    stop: () => server.stop(true),
  };
}

/** Decodes one request by its Content-Type (protobuf via the generated code, or OTLP/JSON). */
export function decodeRequest(request: ReceivedRequest): DecodedSpan[] {
  const raw =
    request.headers.get("content-encoding") === "gzip" ? new Uint8Array(gunzipSync(request.body)) : request.body;
  if (request.headers.get("content-type") === "application/json")
    return fromJson(JSON.parse(new TextDecoder().decode(raw)));
  const message = ExportTraceServiceRequest.decode(raw);
  const object = ExportTraceServiceRequest.toObject(message, {
    longs: String,
    bytes: Array,
    defaults: true,
    enums: Number,
  });
  return fromObject(object, (bytes: number[]) => Buffer.from(bytes).toString("hex"));
}

function fromJson(object: any): DecodedSpan[] {
  return fromObject(object, (hex: string) => hex ?? "");
}

function fromObject(object: any, id: (value: any) => string): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const rs of object.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: id(s.traceId),
          spanId: id(s.spanId),
          parentSpanId: s.parentSpanId === undefined || s.parentSpanId.length === 0 ? "" : id(s.parentSpanId),
          traceState: s.traceState ?? "",
          name: s.name,
          kind: Number(s.kind),
          start: BigInt(s.startTimeUnixNano),
          end: BigInt(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e: any) => ({
            name: e.name,
            time: BigInt(e.timeUnixNano),
            attributes: attributes(e.attributes),
          })),
          links: (s.links ?? []).map((l: any) => ({ traceId: id(l.traceId), spanId: id(l.spanId) })),
          status: { code: Number(s.status?.code ?? 0), message: s.status?.message ?? "" },
          flags: Number(s.flags ?? 0),
          resource,
          scope: ss.scope?.name ?? "",
        });
      }
    }
  }
  return spans;
}

function attributes(list: any[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

function value(v: any): unknown {
  if (v === undefined || v === null) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== "") return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== false) return v.boolValue;
  if (v.intValue !== undefined && String(v.intValue) !== "0") return Number(v.intValue);
  if (v.doubleValue !== undefined && v.doubleValue !== 0) return v.doubleValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(value);
  return v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue;
}
