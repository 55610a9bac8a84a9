// The proxy's state and the vocabulary of its transforms: actions, event drafts, pending requests. No I/O.

import type { EventDraft } from "../telemetry/event-types.ts";
import type { JsonObject, JsonRpcId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";

/** Calls (and other requests) tracked at once; beyond this the oldest is evicted with an `evicted` event. */
export const MAX_PENDING_REQUESTS = 100_000;

/** A request with no answer after this long is evicted by `sweepPending` (it is still forwarded if it comes). */
export const PENDING_TTL_MS = 15 * 60_000;

export const MODERN_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
export const MODERN_CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo";
export const MODERN_SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";

export type Side = "client" | "server";

// Drafts belong to telemetry (their owner); the transforms only build them.
export type { EventDraft } from "../telemetry/event-types.ts";

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

export interface PendingCall {
  readonly toolName: string;
  readonly callId: string;
  readonly meta: Record<string, unknown>;
}

export interface PendingRequest {
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
  /** Size of the line being transformed (decides whether its values need the hot-path bound). */
  lineBytes: number;
}

export const REWRITTEN_METHODS = new Set(["initialize", "server/discover", "tools/list"]);

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
    lineBytes: 0,
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

export function noteServer(state: ProxyState, info: unknown): void {
  if (isObject(info) && typeof info.name === "string" && info.name !== "") {
    state.serverLabel = typeof info.version === "string" ? `${info.name} ${info.version}` : info.name;
  }
}

export function noteClient(state: ProxyState, info: unknown): void {
  if (isObject(info) && typeof info.name === "string" && info.name !== "") state.agentRuntime = info.name;
}
