// An operation's outcome as its two finished spans: the SERVER span toward the host and its CLIENT child toward the server, each side with its own status. Pure.

import { type BatonEvent, ERROR_DATA_MARK } from "../event-types.ts";
import { withoutHop } from "./span-attributes.ts";
import { mapErrorOutcome, STATUS_ERROR, STATUS_UNSET } from "./span-outcome.ts";
import { toHrTime, type AttributeValue, type FinishedSpan, type HrTime, type SpanEventRecord } from "./span-types.ts";

/** An operation whose start was seen, waiting for its outcome. */
export interface OpenCall {
  readonly sessionId: string;
  /** The tool of a `tools/call` (annotations attach by it); undefined for other operations. */
  readonly toolName: string | undefined;
  readonly name: string;
  readonly traceId: string;
  readonly serverSpanId: string;
  readonly clientSpanId: string;
  readonly parent: { spanId: string; remote: boolean } | undefined;
  readonly traceState: string | undefined;
  /** The SERVER span's links (see span-placement.ts). */
  readonly links: FinishedSpan["links"];
  /** False in a host trace it did not sample (traceparent flags 00): no span of it is exported. */
  readonly sampled: boolean;
  readonly start: HrTime;
  readonly attributes: Record<string, AttributeValue>;
  readonly events: SpanEventRecord[];
  /** Characters of captured arguments it holds (counted in the span builder's `heldContent`). */
  readonly contentChars: number;
}

/** Further than this from start + duration_ms, an end's captured_at was dated after the clock was set (the envelope follows steps over a second). */
const CLOCK_STEP_MS = 1_000;

/**
 * A span's end: the end event's captured_at (µs precision), unless the wall clock was set during the
 * call (captured_at then lies before the start, or over CLOCK_STEP_MS off start + duration_ms, which is
 * measured on the monotonic clock): start + duration_ms then, as OpenTelemetry SDKs time spans on a
 * monotonic clock. Never before the start: a backend shows such a span with a negative duration.
 */
function spanEnd(start: HrTime, capturedAt: string, durationMs: unknown): HrTime {
  const end = toHrTime(capturedAt);
  const elapsedMs = (end[0] - start[0]) * 1_000 + (end[1] - start[1]) / 1e6;
  if (typeof durationMs !== "number" || !Number.isFinite(durationMs) || durationMs < 0)
    return elapsedMs >= 0 ? end : start;
  if (elapsedMs >= 0 && Math.abs(elapsedMs - durationMs) <= CLOCK_STEP_MS) return end;
  const nanos = start[1] + Math.round(durationMs * 1e6);
  return [start[0] + Math.floor(nanos / 1e9), nanos % 1e9];
}

/**
 * The part of an error event's body that becomes the status description. An isError result's body is
 * the tool's result text, and a JSON-RPC error's `data` the server's payload: content, sent only when
 * capture is on (as `.result` is); otherwise a JSON-RPC error gives its message, as the conventions
 * describe the status (a message holding the mark itself is cut there: shorter, never more).
 */
function describedBody(errorType: string, body: string, captureContent: boolean): string {
  if (captureContent) return body;
  if (errorType === "tool_error") return "";
  const mark = errorType.startsWith("jsonrpc_") ? body.indexOf(ERROR_DATA_MARK) : -1;
  return mark === -1 ? body : body.slice(0, mark);
}

/** What the ends of every call share: how the host reaches us, whether content is captured, the CLIENT span's hop attributes. */
export interface SpanEnds {
  readonly transport: "pipe" | "tcp";
  readonly captureContent: boolean;
  readonly clientHop: Record<string, AttributeValue>;
}

/** The two spans of `call`, ended by `event` (`failed`: an error event). */
export function finishedSpans(call: OpenCall, event: BatonEvent, failed: boolean, ends: SpanEnds): FinishedSpan[] {
  const attributes = { ...call.attributes };
  let server: FinishedSpan["status"] = { code: STATUS_UNSET };
  let client: FinishedSpan["status"] = { code: STATUS_UNSET };
  let failure: string | undefined;
  let serverOnly: Record<string, string> = {};
  const payload = event.payload as Record<string, unknown>;
  if (failed) {
    const errorType = String(payload.error_type ?? "");
    const body = describedBody(errorType, String(payload.error_body ?? ""), ends.captureContent);
    const outcome = mapErrorOutcome(errorType, body, ends.transport === "pipe");
    Object.assign(attributes, outcome.attributes);
    serverOnly = outcome.serverAttributes;
    failure = outcome.errorType;
    server = outcome.server;
    client = outcome.client;
  } else if (ends.captureContent && event.event_type === "tool_call_end") {
    attributes["gen_ai.tool.call.result"] = JSON.stringify(payload.result ?? null);
  }
  const end = spanEnd(call.start, event.captured_at, payload.duration_ms);
  const common = {
    traceId: call.traceId,
    traceState: call.traceState,
    name: call.name,
    start: call.start,
    end,
  };
  // error.type only where the status is ERROR: a caller's mistake or a cancellation is not the SERVER span's failure.
  const failedWith = (status: FinishedSpan["status"]): Record<string, string> =>
    status.code === STATUS_ERROR && failure !== undefined ? { "error.type": failure } : {};
  return [
    {
      ...common,
      spanId: call.serverSpanId,
      parent: call.parent,
      kind: "server",
      attributes: { ...attributes, ...serverOnly, ...failedWith(server) },
      events: call.events,
      links: call.links,
      status: server,
    },
    {
      ...common,
      spanId: call.clientSpanId,
      parent: { spanId: call.serverSpanId, remote: false },
      kind: "client",
      attributes: { ...withoutHop(attributes), ...ends.clientHop, ...failedWith(client) },
      events: [],
      links: [],
      status: client,
    },
  ];
}
