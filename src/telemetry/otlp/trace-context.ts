// W3C trace context for MCP `_meta`: parses and formats `traceparent`, makes random ids. Pure apart from the random source.

/** A parsed `traceparent` (version 00 layout; later versions are read by their first four fields, as the spec says). */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** `_meta` keys the MCP schema reserves for trace context. */
export const TRACEPARENT_KEY = "traceparent";
export const TRACESTATE_KEY = "tracestate";

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace context in `value`, or undefined when it is not a valid `traceparent` (all-zero ids and version ff are invalid). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== "string") return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** `00-<trace>-<span>-01`, or `-00` in a host trace it did not sample (we then export none of its spans either). */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** A `tracestate` worth carrying: a short printable string (the spec caps it at 32 members, 512 chars is the practical bound). */
export function parseTracestate(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= 512 && /^[\x20-\x7e]*$/.test(value)
    ? value
    : undefined;
}

/** What the transport knows of a request beyond its message, for its spans (hosted mode: its headers). */
export interface RequestTrace {
  /** The protocol version it names (MCP-Protocol-Version), used when no `initialize` answer was seen. */
  readonly version?: string | undefined;
  /** The HTTP request's W3C trace context (the conventions' ambient context): raw, checked where read. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** Returns `bytes` random bytes as lowercase hex; never all zeros. */
export type RandomHex = (bytes: 8 | 16) => string;

/** The real source: crypto.getRandomValues. */
export const RANDOM_HEX: RandomHex = (bytes) => {
  const buffer = new Uint8Array(bytes);
  do crypto.getRandomValues(buffer);
  while (buffer.every((b) => b === 0));
  return Buffer.from(buffer).toString("hex");
};
