// The proxy's brain: pure message transforms `(state, message, now) -> actions`. No I/O, no clock, no randomness.
// State is updated in place (O(1) per message even with 100k calls in flight); everything else is returned as actions.

import type { AnnotationPayload, EventType, PayloadByType } from "../telemetry/event-types.ts";
import { META_CALL_ID, META_SERVER, META_TRUNCATED } from "../telemetry/event-types.ts";
import type { Classified, JsonObject, JsonRpcId, Message } from "../wire/jsonrpc.ts";
import { isObject, wireError, wireResult, WIRE_ERROR } from "../wire/jsonrpc.ts";
import { parseAnnotateArguments } from "./annotate.ts";
import { ANNOTATE_TOOL, REPORT_TOOL, injectedTools, withInstructionsSuffix } from "./injected-tools.ts";

/** Calls (and other requests) tracked at once; beyond this the oldest is evicted with an `evicted` event. */
export const MAX_PENDING_REQUESTS = 100_000;
/** A request with no answer after this long is evicted by `sweepPending` (it is still forwarded if it comes). */
export const PENDING_TTL_MS = 15 * 60_000;

const MODERN_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
const MODERN_CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo";
const MODERN_SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";

export type Side = "client" | "server";

/** An event without its envelope; the session stamps ids, sequence, time and identity. */
export interface EventDraft<T extends EventType = EventType> {
  readonly event_type: T;
  readonly payload: PayloadByType[T];
  readonly runtime_meta: Record<string, unknown> | null;
  readonly agent_runtime: string;
}

export type Action =
  | { readonly type: "forward"; readonly to: Side; readonly bytes: Uint8Array }
  | { readonly type: "send"; readonly to: Side; readonly message: JsonObject | unknown[] }
  | { readonly type: "emit"; readonly draft: EventDraft }
  | { readonly type: "log"; readonly level: "info" | "warn"; readonly text: string }
  | { readonly type: "report"; readonly id: JsonRpcId; readonly modern: boolean };

export interface TransformOptions {
  /** Inject and answer `baton_session_report` (only when every sink is local). */
  readonly includeReportTool: boolean;
  /**
   * Bounds a params/result value before an event holds it (hot path: cheap, no regexes), so a
   * queue of events never pins megabytes of results. Returns how many things it cut.
   */
  readonly boundValue?: (value: unknown) => { value: unknown; truncated: number };
  readonly maxPending?: number;
}

interface PendingCall {
  readonly toolName: string;
  readonly callId: string;
  readonly meta: Record<string, unknown>;
}

interface PendingRequest {
  readonly method: string;
  readonly startedAt: number;
  /** `tools/list` without a cursor: the start of a (possibly paginated) listing. */
  readonly firstPage: boolean;
  readonly call: PendingCall | undefined;
}

export interface ProxyState {
  readonly options: TransformOptions;
  agentRuntime: string;
  serverLabel: string | null;
  /** Client→server requests awaiting the server's answer, keyed by exact id (1 and "1" differ). */
  readonly pending: Map<JsonRpcId, PendingRequest>;
  /** The upstream declared no tools capability; the proxy added it and answers `tools/list` itself. */
  answerToolsList: boolean;
  /** Server tool names seen so far in the listing being paged through. */
  listedNames: Set<string>;
  /** Injected names the server defines itself: ours stay out and such calls go to the server. */
  readonly shadowed: Set<string>;
  nextCallId: number;
  evicted: number;
  /** Pending requests whose answer the proxy may rewrite (initialize, server/discover, tools/list). */
  rewritablePending: number;
}

const REWRITTEN_METHODS = new Set(["initialize", "server/discover", "tools/list"]);

export function createProxyState(options: TransformOptions): ProxyState {
  return {
    options,
    agentRuntime: "unknown",
    serverLabel: null,
    pending: new Map(),
    answerToolsList: false,
    listedNames: new Set(),
    shadowed: new Set(),
    nextCallId: 1,
    evicted: 0,
    rewritablePending: 0,
  };
}

/**
 * True while no pending request could be answered by a line the proxy rewrites. A server line
 * that starts now can then be forwarded while it is still arriving (cut-through), instead of
 * being held until its newline: a server cannot answer a request it has not received yet.
 */
export function serverLinesPassUnchanged(state: ProxyState): boolean {
  return state.rewritablePending === 0;
}

/** A line from the client. `raw` is the line with its newline, forwarded when nothing changes. */
export function fromClient(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "server", bytes: raw });
  } else if (line.kind === "message") {
    if (!clientMessage(state, line.message, now, actions)) actions.push({ type: "forward", to: "server", bytes: raw });
  } else {
    const kept = line.values.filter((_value, i) => {
      const member = line.members[i];
      return member === undefined || !clientMessage(state, member, now, actions);
    });
    if (kept.length === line.values.length) actions.push({ type: "forward", to: "server", bytes: raw });
    else if (kept.length > 0) actions.push({ type: "send", to: "server", message: kept });
  }
  return actions;
}

/** A line from the server. Responses to tracked requests are observed; a few are rewritten. */
export function fromServer(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "client", bytes: raw });
  } else if (line.kind === "message") {
    if (serverMessage(state, line.message, now, actions)) actions.push({ type: "send", to: "client", message: line.message.value });
    else actions.push({ type: "forward", to: "client", bytes: raw });
  } else {
    let changed = false;
    for (const member of line.members) if (member !== undefined && serverMessage(state, member, now, actions)) changed = true;
    actions.push(changed ? { type: "send", to: "client", message: [...line.values] } : { type: "forward", to: "client", bytes: raw });
  }
  return actions;
}

const HEAD_ID = /^\s*\{(?:\s*"jsonrpc"\s*:\s*"2\.0"\s*,)?\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")/;
/** `"id": <value>` as the last member of the outermost object: exactly one `}` may follow it. */
const TAIL_ID = /[{,]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*\r?$/;
const IS_ERROR_TRUE = /"isError"\s*:\s*true/;

/**
 * A server line too long to inspect (see MAX_LINE_BYTES) has already gone to the client. Its id
 * is read from its first or last bytes (SDKs put `id` first or last) so the request it answers
 * is closed: never answered twice, never reported as lost. The event says it was not inspected.
 */
export function fromServerLongLine(state: ProxyState, head: string, tail: string, size: number, now: number): Action[] {
  const match = HEAD_ID.exec(head) ?? TAIL_ID.exec(tail);
  if (match === null) return [];
  const id = JSON.parse(match[1] as string) as JsonRpcId;
  const request = untrack(state, id);
  if (request === undefined) return [];
  const note = `[baton-proxy: a ${Math.round(size / 1048576)} MiB answer, over the inspection limit; forwarded unchanged, not inspected]`;
  if (request.call === undefined) {
    return request.method === "tools/list" ? [{ type: "log", level: "warn", text: `a tools/list answer of ${size} bytes is too large to add the injected tools to; forwarded unchanged` }] : [];
  }
  if (IS_ERROR_TRUE.test(tail) || IS_ERROR_TRUE.test(head)) return [callError(state, request, "tool_error", note, now)];
  return [emit(state, "tool_call_end", request.call, { tool_name: request.call.toolName, result: [{ type: "text", text: note }], duration_ms: Math.max(0, Math.round(now - request.startedAt)) })];
}

/**
 * Ends every request still awaiting the server: the client gets a JSON-RPC error (so it is never
 * left waiting) and each tool call gets a `tool_call_error` of `errorType`.
 */
export function failPending(state: ProxyState, errorType: "upstream_exit" | "proxy_shutdown", reason: string, now: number): Action[] {
  const actions: Action[] = [];
  for (const [id, request] of state.pending) {
    actions.push({ type: "send", to: "client", message: wireError(id, WIRE_ERROR.INTERNAL, reason) });
    if (request.call) actions.push(callError(state, request, errorType, reason, now));
  }
  state.pending.clear();
  state.rewritablePending = 0;
  return actions;
}

/** Evicts requests older than `ttlMs` (called on a timer by the session). */
export function sweepPending(state: ProxyState, now: number, ttlMs: number = PENDING_TTL_MS): Action[] {
  const actions: Action[] = [];
  for (const [id, request] of state.pending) {
    if (now - request.startedAt < ttlMs) break; // insertion order = age order
    evict(state, id, request, `no answer from the server after ${Math.round(ttlMs / 1000)} s`, now, actions);
  }
  return actions;
}

function clientMessage(state: ProxyState, message: Message, now: number, actions: Action[]): boolean {
  if (message.kind === "notification") {
    if (message.method === "notifications/cancelled") cancelled(state, message.value.params, now, actions);
    return false;
  }
  if (message.kind === "response") return false; // answers a server→client request: not ours to look at
  const params = isObject(message.value.params) ? message.value.params : undefined;
  const meta = isObject(params?._meta) ? params._meta : undefined;
  const modern = meta !== undefined && MODERN_VERSION_KEY in meta;
  noteClient(state, message.method === "initialize" ? params?.clientInfo : meta?.[MODERN_CLIENT_INFO_KEY]);

  if (message.method === "tools/list" && state.answerToolsList) {
    actions.push({ type: "send", to: "client", message: wireResult(message.id, listOnlyInjected(state, modern)) });
    return true;
  }
  if (message.method === "tools/call" && params !== undefined) {
    const name = params.name;
    if (typeof name === "string" && isInjected(state, name)) {
      answerInjectedCall(state, message.id, name, params, modern, actions);
      return true;
    }
    const call: PendingCall = {
      toolName: typeof name === "string" ? name : String(name),
      callId: `c${state.nextCallId++}`,
      meta: clientMeta(meta),
    };
    track(state, message.id, { method: message.method, startedAt: now, firstPage: false, call }, now, actions);
    const args = bound(state, isObject(params.arguments) ? params.arguments : {});
    actions.push(emit(state, "tool_call_start", call, {
      tool_name: call.toolName,
      params: args.value as Record<string, unknown>,
      call_intent: null,
      call_expected: null,
      call_workflow: null,
      intent_source: null,
    }, args.truncated));
    return false;
  }
  const firstPage = message.method === "tools/list" && params?.cursor === undefined;
  track(state, message.id, { method: message.method, startedAt: now, firstPage, call: undefined }, now, actions);
  return false;
}

/** Returns true when the message object was changed and must be re-serialised. */
function serverMessage(state: ProxyState, message: Message, now: number, actions: Action[]): boolean {
  if (message.kind !== "response" || message.id === null) return false;
  const request = untrack(state, message.id);
  if (request === undefined) return false;
  const result = isObject(message.value.result) ? message.value.result : undefined;
  // Stateless-era results carry serverInfo in _meta; a session may never see server/discover
  // (SDK v2 probes on a separate process), so learn the server's name from any answer.
  if (state.serverLabel === null && result !== undefined && isObject(result._meta)) noteServer(state, result._meta[MODERN_SERVER_INFO_KEY]);
  if (request.call) {
    actions.push(callOutcome(state, request, message.value, result, now));
    return false;
  }
  if (result === undefined) return false;
  switch (request.method) {
    case "initialize":
    case "server/discover":
      return injectHandshake(state, result, actions);
    case "tools/list":
      return injectToolList(state, request, result, actions);
    default:
      return false;
  }
}

function injectHandshake(state: ProxyState, result: JsonObject, actions: Action[]): boolean {
  noteServer(state, isObject(result.serverInfo) ? result.serverInfo : isObject(result._meta) ? result._meta[MODERN_SERVER_INFO_KEY] : undefined);
  result.instructions = withInstructionsSuffix(result.instructions);
  const capabilities = isObject(result.capabilities) ? result.capabilities : (result.capabilities = {});
  if (!isObject(capabilities.tools)) {
    capabilities.tools = {};
    if (!state.answerToolsList) actions.push({ type: "log", level: "info", text: "the server declares no tools; the proxy adds the tools capability and answers tools/list with its own tools" });
    state.answerToolsList = true;
  } else {
    state.answerToolsList = false;
  }
  return true;
}

function injectToolList(state: ProxyState, request: PendingRequest, result: JsonObject, actions: Action[]): boolean {
  if (!Array.isArray(result.tools)) return false;
  if (request.firstPage) state.listedNames = new Set();
  for (const tool of result.tools) if (isObject(tool) && typeof tool.name === "string") state.listedNames.add(tool.name);
  const lastPage = result.nextCursor === undefined || result.nextCursor === null;
  if (!lastPage) return false;
  const added = [];
  for (const tool of injectedTools(state.options.includeReportTool)) {
    if (state.listedNames.has(tool.name)) {
      if (!state.shadowed.has(tool.name)) {
        actions.push({ type: "log", level: "warn", text: `the server has its own tool named "${tool.name}"; the proxy keeps its tool out and forwards such calls to the server` });
      }
      state.shadowed.add(tool.name);
    } else {
      state.shadowed.delete(tool.name);
      added.push(tool);
    }
  }
  if (added.length === 0) return false;
  result.tools = [...result.tools, ...added];
  return true;
}

function callOutcome(state: ProxyState, request: PendingRequest, response: JsonObject, result: JsonObject | undefined, now: number): Action {
  const call = request.call as PendingCall;
  const duration = Math.max(0, Math.round(now - request.startedAt));
  if (result === undefined) {
    const error = response.error;
    const code = isObject(error) && typeof error.code === "number" ? error.code : undefined;
    const text = isObject(error) && typeof error.message === "string" ? error.message : JSON.stringify(error ?? response.result ?? null);
    const data = isObject(error) && error.data !== undefined ? ` (data: ${JSON.stringify(error.data)})` : "";
    const body = bound(state, text + data);
    return emit(state, "tool_call_error", call, {
      tool_name: call.toolName,
      error_type: code === undefined ? "jsonrpc_invalid" : `jsonrpc_${code}`,
      error_body: body.value as string,
      duration_ms: duration,
    }, body.truncated);
  }
  if (result.isError === true) {
    const body = bound(state, textOf(result.content));
    return emit(state, "tool_call_error", call, {
      tool_name: call.toolName,
      error_type: "tool_error",
      error_body: body.value as string,
      duration_ms: duration,
    }, body.truncated);
  }
  const content = bound(state, Array.isArray(result.content) ? result.content : result);
  return emit(state, "tool_call_end", call, {
    tool_name: call.toolName,
    result: content.value,
    duration_ms: duration,
  }, content.truncated);
}

function cancelled(state: ProxyState, params: unknown, now: number, actions: Action[]): void {
  if (!isObject(params)) return;
  const request = untrack(state, params.requestId as JsonRpcId);
  if (request === undefined) return;
  if (request.call) {
    const reason = typeof params.reason === "string" ? `cancelled by the client: ${params.reason}` : "cancelled by the client";
    actions.push(callError(state, request, "cancelled", reason, now));
  }
}

function answerInjectedCall(state: ProxyState, id: JsonRpcId, name: string, params: JsonObject, modern: boolean, actions: Action[]): void {
  if (name === REPORT_TOOL) {
    actions.push({ type: "report", id, modern });
    return;
  }
  const parsed = parseAnnotateArguments(params.arguments);
  if (!parsed.ok) {
    const text = `${ANNOTATE_TOOL} was not recorded: ${parsed.problems.join("; ")}.`;
    actions.push({ type: "send", to: "client", message: wireResult(id, injectedResult(text, modern, true)) });
    return;
  }
  const meta = clientMeta(isObject(params._meta) ? params._meta : undefined);
  actions.push({ type: "emit", draft: { event_type: "annotation", payload: parsed.payload satisfies AnnotationPayload, runtime_meta: withServer(state, meta), agent_runtime: state.agentRuntime } });
  const extra = parsed.unknownFields.length > 0 ? ` Unknown fields were kept under context.unknown_fields: ${parsed.unknownFields.join(", ")}.` : "";
  const text = `Annotation recorded for the server's maintainers.${extra} Carry on with the user's task.`;
  actions.push({ type: "send", to: "client", message: wireResult(id, injectedResult(text, modern, false)) });
}

/** A `tools/call` result produced by the proxy itself. */
export function injectedResult(text: string, modern: boolean, isError: boolean): JsonObject {
  const result: JsonObject = { content: [{ type: "text", text }] };
  if (isError) result.isError = true;
  if (modern) result.resultType = "complete";
  return result;
}

function listOnlyInjected(state: ProxyState, modern: boolean): JsonObject {
  const result: JsonObject = { tools: [...injectedTools(state.options.includeReportTool)] };
  if (modern) Object.assign(result, { resultType: "complete", ttlMs: 0, cacheScope: "private" });
  return result;
}

function isInjected(state: ProxyState, name: string): boolean {
  if (state.shadowed.has(name)) return false;
  return name === ANNOTATE_TOOL || (name === REPORT_TOOL && state.options.includeReportTool);
}

function track(state: ProxyState, id: JsonRpcId, request: PendingRequest, now: number, actions: Action[]): void {
  const previous = untrack(state, id);
  if (previous !== undefined) {
    if (previous.call) actions.push(callError(state, previous, "evicted", "the client reused this request id before the server answered", now));
  }
  state.pending.set(id, request);
  if (REWRITTEN_METHODS.has(request.method)) state.rewritablePending++;
  const max = state.options.maxPending ?? MAX_PENDING_REQUESTS;
  if (state.pending.size > max) {
    const [oldId, oldest] = state.pending.entries().next().value as [JsonRpcId, PendingRequest];
    evict(state, oldId, oldest, `more than ${max} requests awaiting the server`, now, actions);
  }
}

/** Removes a pending request, keeping the rewritable count true. */
function untrack(state: ProxyState, id: JsonRpcId): PendingRequest | undefined {
  const request = state.pending.get(id);
  if (request === undefined) return undefined;
  state.pending.delete(id);
  if (REWRITTEN_METHODS.has(request.method)) state.rewritablePending--;
  return request;
}

function evict(state: ProxyState, id: JsonRpcId, request: PendingRequest, why: string, now: number, actions: Action[]): void {
  untrack(state, id);
  state.evicted++;
  if (request.call) actions.push(callError(state, request, "evicted", `${why}; the proxy stopped tracking this call (a late answer is still forwarded)`, now));
  // One line for the first eviction, then one per thousand: a stuck server must not flood the log.
  if (state.evicted === 1 || state.evicted % 1000 === 0) {
    actions.push({ type: "log", level: "warn", text: `stopped tracking ${state.evicted} request(s) so far: ${why}` });
  }
}

function callError(state: ProxyState, request: PendingRequest, errorType: string, body: string, now: number): Action {
  const call = request.call as PendingCall;
  return emit(state, "tool_call_error", call, {
    tool_name: call.toolName,
    error_type: errorType,
    error_body: body,
    duration_ms: Math.max(0, Math.round(now - request.startedAt)),
  });
}

function emit<T extends EventType>(state: ProxyState, type: T, call: PendingCall, payload: PayloadByType[T], truncated = 0): Action {
  const meta = withServer(state, { ...call.meta, [META_CALL_ID]: call.callId });
  if (truncated > 0) meta[META_TRUNCATED] = truncated;
  return { type: "emit", draft: { event_type: type, payload, runtime_meta: meta, agent_runtime: state.agentRuntime } as EventDraft };
}

function withServer(state: ProxyState, meta: Record<string, unknown>): Record<string, unknown> {
  if (state.serverLabel !== null) meta[META_SERVER] = state.serverLabel;
  return meta;
}

/**
 * The request's `_meta` for `runtime_meta`, minus keys under our own `baton/` prefix: a client must
 * not be able to forge a call id or slip values past the privacy stage (which trusts `baton/` keys).
 */
function clientMeta(meta: JsonObject | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  if (meta === undefined) return copy;
  for (const key of Object.keys(meta)) if (!key.startsWith("baton/")) copy[key] = meta[key];
  return copy;
}

function noteServer(state: ProxyState, info: unknown): void {
  if (isObject(info) && typeof info.name === "string" && info.name !== "") {
    state.serverLabel = typeof info.version === "string" ? `${info.name} ${info.version}` : info.name;
  }
}

function noteClient(state: ProxyState, info: unknown): void {
  if (isObject(info) && typeof info.name === "string" && info.name !== "") state.agentRuntime = info.name;
}

function bound(state: ProxyState, value: unknown): { value: unknown; truncated: number } {
  return state.options.boundValue ? state.options.boundValue(value) : { value, truncated: 0 };
}

/** The text blocks of a tool result joined, or its JSON when it has none. */
function textOf(content: unknown): string {
  if (Array.isArray(content)) {
    const texts = content.filter((c) => isObject(c) && c.type === "text" && typeof c.text === "string").map((c) => (c as JsonObject).text as string);
    if (texts.length > 0) return texts.join("\n");
  }
  return JSON.stringify(content ?? null);
}
