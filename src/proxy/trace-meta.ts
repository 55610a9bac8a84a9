// With an `otlp:` sink: adds trace facts to start events (request id, protocol version; our span ids for tool calls) and, when asked, a traceparent to the forwarded call. Works on the transforms' actions, never inside them. No I/O.

import type { Classified, JsonObject, JsonRpcId, Message } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  type RandomHex,
  type RequestTrace,
  TRACEPARENT_KEY,
  TRACESTATE_KEY,
} from "../telemetry/otlp/trace-context.ts";
import {
  META_HTTP_TRACEPARENT,
  META_HTTP_TRACESTATE,
  META_PROTOCOL_VERSION,
  META_REQUEST_ID,
  META_SPAN_ID,
  META_TRACE_ID,
} from "../telemetry/otlp/span-builder.ts";
import { withMetaMember, withoutMetaMember } from "./client-bytes.ts";
import type { Action } from "./proxy-state.ts";

export interface TraceOptions {
  /** BATON_OTEL_PROPAGATE=on: write our CLIENT span's traceparent into the forwarded call's `params._meta`. */
  readonly propagate: boolean;
  readonly randomHex: RandomHex;
}

/** Follows one session's lines beside the transforms; created only when an `otlp:` sink is configured. */
export interface TraceTracker {
  /**
   * Returns the actions for a client line, with the call's start event (and, propagating, its forwarded bytes) amended;
   * `unrecorded`: its events will be dropped (hosted per-request consent, no token), so it goes on as the client sent it;
   * `request`: what the transport knows of it (see {@link RequestTrace}).
   */
  fromClient(line: Classified, actions: Action[], unrecorded?: boolean, request?: RequestTrace): Action[];
  /** Notes the protocol version the server answers `initialize` with. */
  fromServer(line: Classified): void;
}

/** The start event of each request method the span builder makes spans of. */
const START_EVENTS: Readonly<Record<string, string>> = {
  "tools/call": "tool_call_start",
  "resources/read": "resource_read_start",
  "resources/list": "resource_list_start",
  "prompts/get": "prompt_get_start",
  "prompts/list": "prompt_list_start",
};

/**
 * A tracker. For a single request whose actions hold its start event (a real `tools/call`, not an
 * injected tool; a resource or prompt request), the event's runtime_meta gains `baton/request_id`
 * (`jsonrpc.request.id`, conditionally required on every request's spans) and
 * `baton/protocol_version` (our own `baton/` keys, which clients cannot forge). For a tool call, with `propagate`,
 * our CLIENT span gets a fresh id in the host's trace (or a new trace), recorded as
 * `baton/trace_id` / `baton/span_id`, and the request goes to the server with `_meta.traceparent`
 * set to it in its bytes (every other byte as the client wrote it; re-serialised only when that
 * edit is unsure); every other key is kept, the host's `tracestate` too unless no valid traceparent came
 * (a new trace: W3C discards it). A batch's calls
 * get their request ids and the protocol version too (the events of a call must not depend on
 * how it was sent), but the batch goes on as it came, without a traceparent.
 */
export function createTraceTracker(options: TraceOptions): TraceTracker {
  let initializeId: JsonRpcId | undefined;
  let protocolVersion: string | undefined;

  return {
    fromClient(line, actions, unrecorded = false, request = {}) {
      // The negotiated version; else the one the request names (hosted: a session initialized elsewhere).
      const version = protocolVersion ?? request.version;
      const ambient = parseTraceparent(request.traceparent);
      const ambientState = ambient === undefined ? undefined : parseTracestate(request.tracestate);
      /** The facts every start event of this line gets. */
      const stamp = (meta: Record<string, unknown>): void => {
        if (version !== undefined) meta[META_PROTOCOL_VERSION] = version;
        if (ambient !== undefined) meta[META_HTTP_TRACEPARENT] = (request.traceparent as string).trim();
        if (ambientState !== undefined) meta[META_HTTP_TRACESTATE] = ambientState;
      };
      if (line.kind === "batch") return stampBatch(line.members, actions, stamp);
      if (line.kind !== "message" || line.message.kind !== "request") return actions;
      const { id, method, value } = line.message;
      if (method === "initialize") initializeId = id;
      const startType = START_EVENTS[method];
      if (startType === undefined) return actions;
      const start =
        actions.find((a) => a.type === "emit" && a.draft.event_type === startType) ??
        // A baton_annotate call the proxy answers: its annotation becomes the request's own span.
        (method === "tools/call"
          ? actions.find((a) => a.type === "emit" && a.draft.event_type === "annotation")
          : undefined);
      const meta = start?.type === "emit" ? start.draft.runtime_meta : null;
      if (start?.type !== "emit" || meta === null) return actions;
      // As the client wrote it: JSON.parse rounds an integer beyond 2^53 (then idText holds the digits).
      meta[META_REQUEST_ID] = line.message.idText ?? String(id);
      stamp(meta);
      // An unrecorded call makes no span: a traceparent would name one nobody exports, and the request must pass unchanged.
      if (!options.propagate || unrecorded || start.draft.event_type !== "tool_call_start") return actions;
      const params = isObject(value.params) ? value.params : {};
      const requestMeta = isObject(params._meta) ? params._meta : {};
      // The HTTP request's context when `_meta` names none: our SERVER span's parent then (span-placement.ts).
      const extracted = parseTraceparent(requestMeta.traceparent);
      const host = extracted ?? ambient;
      const traceId = host?.traceId ?? options.randomHex(16);
      const spanId = options.randomHex(8);
      meta[META_TRACE_ID] = traceId;
      meta[META_SPAN_ID] = spanId;
      // The host's decision not to sample is kept: the server must not record a trace nobody else does.
      const traceparent = formatTraceparent(traceId, spanId, host?.sampled ?? true);
      // No valid traceparent in `_meta`: a tracestate there belongs to no trace of ours (W3C discards it).
      const dropState = extracted === undefined && Object.hasOwn(requestMeta, TRACESTATE_KEY);
      return actions.map((action) =>
        (action.type === "forward" || action.type === "send") && action.to === "server"
          ? withTraceparent(action, value, traceparent, dropState)
          : action,
      );
    },
    fromServer(line) {
      if (
        initializeId === undefined ||
        line.kind !== "message" ||
        line.message.kind !== "response" ||
        line.message.id !== initializeId
      )
        return;
      initializeId = undefined;
      const result = line.message.value.result;
      if (isObject(result) && typeof result.protocolVersion === "string") protocolVersion = result.protocolVersion;
    },
  };
}

/**
 * Stamps the start events of a batch's tool calls (in place; `actions` is returned). The
 * transforms emit them in the members' order, so each call takes the next start of its tool's
 * name; a call that made none (an injected tool, another round of a held call) is skipped.
 */
function stampBatch(
  members: readonly (Message | undefined)[],
  actions: Action[],
  stamp: (meta: Record<string, unknown>) => void,
): Action[] {
  const starts = actions.flatMap((a) =>
    a.type === "emit" && a.draft.event_type === "tool_call_start" ? [a.draft] : [],
  );
  let next = 0;
  for (const member of members) {
    const draft = starts[next];
    if (draft === undefined) break;
    if (member?.kind !== "request" || member.method !== "tools/call") continue;
    const params = member.value.params;
    const name = isObject(params) ? params.name : undefined;
    const payload = draft.payload as { tool_name?: unknown };
    if (name === undefined || payload.tool_name !== (typeof name === "string" ? name : String(name))) continue;
    next++;
    const meta = draft.runtime_meta;
    if (meta === undefined || meta === null) continue;
    meta[META_REQUEST_ID] = member.idText ?? String(member.id);
    stamp(meta);
  }
  return actions;
}

/**
 * The server-bound copy of the call (as the transforms would send it) with our traceparent in
 * `params._meta` (`dropState`: and the host's tracestate taken out).
 */
function withTraceparent(
  action: Extract<Action, { type: "forward" | "send" }>,
  original: JsonObject,
  traceparent: string,
  dropState: boolean,
): Action {
  if (action.type === "forward") {
    const kept = dropState ? withoutMetaMember(action.bytes, TRACESTATE_KEY) : action.bytes;
    const bytes = kept === undefined ? undefined : withMetaMember(kept, TRACEPARENT_KEY, JSON.stringify(traceparent));
    if (bytes !== undefined) return { type: "forward", to: "server", bytes };
  }
  const message = action.type === "send" && isObject(action.message) ? action.message : original;
  const params = isObject(message.params) ? message.params : {};
  const meta = isObject(params._meta) ? params._meta : {};
  const { [TRACESTATE_KEY]: _dropped, ...withoutState } = meta;
  return {
    type: "send",
    to: "server",
    message: { ...message, params: { ...params, _meta: { ...(dropState ? withoutState : meta), traceparent } } },
  };
}
