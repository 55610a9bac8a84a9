// The Baton event envelope as TypeScript types; mirrors ../shared/baton-spec/events.schema.json (no extra keys allowed).

/** The five event types the schema knows; the proxy emits all but `surface_snapshot` today. */
export type EventType = "tool_call_start" | "tool_call_end" | "tool_call_error" | "annotation" | "surface_snapshot";

export interface ToolCallStartPayload {
  tool_name: string;
  /** The call's `arguments` (an object; `{}` when the client sent none or a non-object). */
  params: Record<string, unknown>;
  call_intent: string | null;
  call_expected: string | null;
  call_workflow: string | null;
  intent_source: string | null;
}

export interface ToolCallEndPayload {
  tool_name: string;
  /** The tool result's `content` array (or the whole result when it has no `content`). */
  result: unknown;
  duration_ms: number | null;
}

export interface ToolCallErrorPayload {
  tool_name: string;
  /**
   * One of: `jsonrpc_<code>` (JSON-RPC error response, e.g. `jsonrpc_-32602`), `tool_error`
   * (result with `isError: true`), `cancelled`, `upstream_exit`, `proxy_shutdown`, `evicted`.
   */
  error_type: string;
  error_body: string;
  duration_ms: number | null;
}

export interface AnnotationPayload {
  intent: string | null;
  expected_outcome: string | null;
  signal_type: string | null;
  workflow: string | null;
  suggested_improvement: string | null;
  context: Record<string, unknown> | null;
  intent_source: string | null;
  tool_name: string | null;
}

export interface PayloadByType {
  tool_call_start: ToolCallStartPayload;
  tool_call_end: ToolCallEndPayload;
  tool_call_error: ToolCallErrorPayload;
  annotation: AnnotationPayload;
  surface_snapshot: Record<string, unknown>;
}

interface Envelope {
  event_id: string;
  tenant_id: string;
  vendor_id: string;
  session_id: string;
  sequence_number: number;
  captured_at: string;
  consent_token: string;
  sdk_version: string;
  agent_runtime: string;
  user_id: string | null;
  /**
   * The request's `_meta` block, verbatim, plus the proxy's own keys under the `baton/` prefix:
   * `baton/call_id` (correlates start with end/error), `baton/server` (serverInfo name@version),
   * `baton/scrubbed` / `baton/truncated` (privacy stage), `baton/dropped_events` (sink drops so far).
   */
  runtime_meta: Record<string, unknown> | null;
}

/** One event as it goes to every sink. A discriminated union on `event_type`. */
export type BatonEvent = {
  [T in EventType]: Envelope & { event_type: T; payload: PayloadByType[T] };
}[EventType];

export type EventOf<T extends EventType> = Extract<BatonEvent, { event_type: T }>;

/** An event without its envelope, as the transforms build it; the session's stamper adds ids, sequence, time and identity. */
export interface EventDraft<T extends EventType = EventType> {
  readonly event_type: T;
  readonly payload: PayloadByType[T];
  readonly runtime_meta: Record<string, unknown> | null;
  readonly agent_runtime: string;
}

/** Keys the proxy itself puts in `runtime_meta`; everything else there is the request's `_meta`. */
export const META_CALL_ID = "baton/call_id";
export const META_SERVER = "baton/server";
export const META_SCRUBBED = "baton/scrubbed";
export const META_TRUNCATED = "baton/truncated";
/** Events the proxy had dropped before this one (set only when > 0), so an offline report can say so. */
export const META_DROPPED_EVENTS = "baton/dropped_events";
