// The Baton event envelope as TypeScript types; mirrors ../shared/baton-spec/events.schema.json (no extra keys allowed).

/** The five event types of the Baton schema. */
export type SpecEventType = "tool_call_start" | "tool_call_end" | "tool_call_error" | "annotation" | "surface_snapshot";

/** Resource and prompt events (upstream's names), outside the Baton schema: see the extension schema. */
export type ExtensionEventType =
  | "resource_read_start"
  | "resource_read_end"
  | "resource_read_error"
  | "resource_list_start"
  | "resource_list_end"
  | "resource_list_error"
  | "prompt_get_start"
  | "prompt_get_end"
  | "prompt_get_error"
  | "prompt_list_start"
  | "prompt_list_end"
  | "prompt_list_error";

export type EventType = SpecEventType | ExtensionEventType;

export const EXTENSION_EVENT_TYPES: ReadonlySet<string> = new Set<ExtensionEventType>([
  "resource_read_start",
  "resource_read_end",
  "resource_read_error",
  "resource_list_start",
  "resource_list_end",
  "resource_list_error",
  "prompt_get_start",
  "prompt_get_end",
  "prompt_get_error",
  "prompt_list_start",
  "prompt_list_end",
  "prompt_list_error",
]);

export interface ToolCallStartPayload {
  tool_name: string;
  /** The call's `arguments` as forwarded (an object; `{}` when the client sent none or a non-object). */
  params: Record<string, unknown>;
  /** The agent's `user_goal` for this call; omitted when it gave none. */
  call_intent?: string | null;
  /** The agent's `expected_result` for this call; omitted when it gave none. */
  call_expected?: string | null;
  /** Never set by the proxy (the schema allows it; SDKs fill it). */
  call_workflow?: string | null;
  /** `"injected_param"` when either intent value is present; omitted otherwise. */
  intent_source?: string | null;
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

export interface SurfaceSnapshotPayload {
  /** `sha256:` over upstream's canonical JSON of the four surface keys below (as received). */
  surface_hash: string;
  server_info: Record<string, unknown> | null;
  capabilities: Record<string, unknown> | null;
  instructions: string | null;
  /** Every listed tool, all pages in order, before the proxy's additions. */
  tools: Record<string, unknown>[];
  seam_augmentations: {
    injected_tools: string[];
    intent_param: { names: string[]; mode: string } | null;
    instructions_suffix: boolean;
  };
}

interface SubjectTiming {
  duration_ms: number;
}
interface SubjectErrorFacts extends SubjectTiming {
  /** Same vocabulary as tool_call_error (`jsonrpc_<code>`, `cancelled`, `evicted`, ...). */
  error_type: string;
  error_body: string;
}

export interface PayloadByType {
  tool_call_start: ToolCallStartPayload;
  tool_call_end: ToolCallEndPayload;
  tool_call_error: ToolCallErrorPayload;
  annotation: AnnotationPayload;
  surface_snapshot: SurfaceSnapshotPayload;
  resource_read_start: { uri: string; params: Record<string, unknown> };
  resource_read_end: { uri: string } & SubjectTiming;
  resource_read_error: { uri: string } & SubjectErrorFacts;
  resource_list_start: Record<string, never>;
  /** `count` is null when the answer was too long to inspect (forwarded, not parsed). */
  resource_list_end: { count: number | null } & SubjectTiming;
  resource_list_error: SubjectErrorFacts;
  prompt_get_start: { name: string; params: Record<string, unknown> };
  prompt_get_end: { name: string } & SubjectTiming;
  prompt_get_error: { name: string } & SubjectErrorFacts;
  prompt_list_start: Record<string, never>;
  prompt_list_end: { count: number | null } & SubjectTiming;
  prompt_list_error: SubjectErrorFacts;
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
  /** The `h1:` hash of the request's principal (never the principal itself); absent: the request context's, else null. */
  readonly user_id?: string | null;
}

/** Keys the proxy itself puts in `runtime_meta`; everything else there is the request's `_meta`. */
export const META_CALL_ID = "baton/call_id";
export const META_SERVER = "baton/server";
export const META_SCRUBBED = "baton/scrubbed";
export const META_TRUNCATED = "baton/truncated";
/** Rounds a multi-round call took (set on its end/error when it took more than one). */
export const META_ROUNDS = "baton/rounds";
/** Events the proxy had dropped before this one (set only when > 0), so an offline report can say so. */
export const META_DROPPED_EVENTS = "baton/dropped_events";

/**
 * Between a JSON-RPC error's message and its `data` in `error_body` (`<message> (data: <json>)`): the
 * spans' status description is the message alone (the conventions' description; the data is content).
 */
export const ERROR_DATA_MARK = " (data: ";
