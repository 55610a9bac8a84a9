// What a finished span is, independent of how it was built or how it is encoded, and the event time it starts from. Pure.

export type SpanKindName = "internal" | "server" | "client";
export type AttributeValue = string | number | boolean;
/** [seconds, nanoseconds] since the epoch, as OpenTelemetry's HrTime. */
export type HrTime = [number, number];

export interface SpanEventRecord {
  readonly name: string;
  readonly time: HrTime;
  readonly attributes: Record<string, AttributeValue>;
}

/** A finished span, independent of any encoding. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Our parent: the host's span (remote, from `_meta.traceparent`) or our SERVER span. */
  readonly parent: { spanId: string; remote: boolean } | undefined;
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: SpanKindName;
  readonly start: HrTime;
  readonly end: HrTime;
  readonly attributes: Record<string, AttributeValue>;
  readonly events: readonly SpanEventRecord[];
  /** Other contexts the span relates to: the SERVER span's HTTP request context beside a `_meta` parent. */
  readonly links: readonly SpanLink[];
  readonly status: { code: number; message?: string };
}

/** A link to another span context (sampled: we only export spans of sampled traces). */
export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
}

/** `2026-11-24T07:01:26.123456Z` → [seconds, nanoseconds]; an unreadable time becomes the epoch (never throws). */
export function toHrTime(capturedAt: string): HrTime {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(capturedAt);
  if (match === null) return [0, 0];
  const seconds = Date.parse(`${match[1]}Z`) / 1000;
  const fraction = (match[2] ?? "").padEnd(9, "0");
  return Number.isFinite(seconds) ? [seconds, Number(fraction)] : [0, 0];
}
