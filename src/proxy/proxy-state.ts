// The proxy's state and the vocabulary of its transforms: actions, event drafts, options, the pending requests' bounds (what each holds: pending-book.ts). No I/O.

import type { WaitingWalks } from "./listing-walks.ts";
import type { PendingBook, PendingRequest } from "./pending-book.ts";
import type { EventDraft } from "../telemetry/event-types.ts";
import type { IdKey, JsonObject, WireId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import type { Principal } from "../identity/user-id.ts";
import type { CaptureGroup } from "./resource-prompt-events.ts";
import type { IntentParamMode, IntentRegistry } from "./intent-params.ts";
import type { OpenRounds } from "./multi-round.ts";
import { createSurfaceCapture, type SurfaceCapture } from "./surface-snapshot.ts";

/** Calls (and other requests) tracked at once; beyond this the oldest is evicted with an `evicted` event. */
export const MAX_PENDING_REQUESTS = 100_000;

/**
 * A request with no answer after this long is evicted by `sweepPending` (it is still forwarded if it
 * comes); a `notifications/progress` for it restarts this clock (MCP: a receiver MAY reset its
 * timeout on progress).
 */
export const PENDING_TTL_MS = 15 * 60_000;

/**
 * However much progress a request gets, it is evicted this long after it was sent: MCP asks for a
 * maximum timeout regardless of progress, so a server sending progress forever pins nothing forever.
 */
export const PENDING_MAX_AGE_MS = 24 * 60 * 60_000;

export const MODERN_VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
export const MODERN_CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo";
export const MODERN_SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";

export type Side = "client" | "server";
export type { Principal };

// Drafts belong to telemetry (their owner); the transforms only build them.
export type { EventDraft } from "../telemetry/event-types.ts";

export type Action =
  | { readonly type: "forward"; readonly to: Side; readonly bytes: Uint8Array }
  | { readonly type: "send"; readonly to: Side; readonly message: JsonObject | unknown[] }
  | { readonly type: "emit"; readonly draft: EventDraft }
  /** A call event built later from bytes it holds (see fast-path.ts); `opens`: a start (its request's context follows the call). */
  | {
      readonly type: "emitLater";
      readonly build: () => EventDraft;
      /** The call the event belongs to (its id read only when a request context must follow the call). */
      readonly call: { readonly callId: string };
      readonly opens: boolean;
    }
  | { readonly type: "log"; readonly level: "info" | "warn"; readonly text: string }
  | { readonly type: "report"; readonly id: WireId; readonly modern: boolean };

/** What handling a message decided: forward its bytes, drop it (answered or consumed), or send it without `strip`ped arguments. */
export type Disposition = "forward" | "handled" | { readonly strip: readonly string[] };

export interface TransformOptions {
  /** Inject and answer `baton_session_report` (only when every sink is local). */
  readonly includeReportTool: boolean;
  /**
   * Bounds a params/result value before an event holds it (hot path: cheap, no regexes), so a
   * queue of events never pins megabytes of results. Returns how many things it cut.
   */
  readonly boundValue?: (value: unknown) => { value: unknown; truncated: number };
  readonly maxPending?: number;
  /** BATON_INTENT_PARAM; defaults to `optional`. */
  readonly intentParam?: IntentParamMode;
  /**
   * False when the client sees none of the proxy's additions (a hosted session passed through
   * unchanged and only observed): surface snapshots then say nothing was added. Defaults to true.
   */
  readonly injects?: boolean;
  /** BATON_CAPTURE: event groups recorded; defaults to all. */
  readonly capture?: ReadonlySet<CaptureGroup>;
  /** Hashes a principal into `user_id` (BATON_USER_ID_HMAC_KEY); absent without a key. */
  readonly hashPrincipal?: (principal: Principal) => string;
  /** The principal of every call that brings none of its own (stdio: BATON_PRINCIPAL). */
  readonly defaultPrincipal?: Principal;
  /** Names the server in events regardless of what it calls itself (`--url`: its origin). */
  readonly serverLabel?: string;
  /**
   * Plain tool calls and their answers may be handled from their lines' scanned facts, their
   * events as `emitLater` actions built in the background (see fast-path.ts). Off by default, and
   * when something must edit start drafts as they are emitted (trace-meta.ts).
   */
  readonly lazyDrafts?: boolean;
}

/** Per-request facts a transport knows; events of the request are stamped with them. */
export interface RequestFacts {
  readonly principal?: Principal;
  /** Why nothing this request does is recorded (hosted per-request mode, no consent token): the proxy's own tools say so. */
  readonly unrecorded?: string;
  /** Hosted per-request mode: the consent token the request is recorded with (each token's record gets the surface once). */
  readonly recordedFor?: string;
}

/**
 * Whole milliseconds from `startedAt` to `now` on the transforms' clock: every event's `duration_ms`.
 * Never negative (the schema's durations are not), whatever clock a transport or test hands in.
 */
export function elapsedMs(startedAt: number, now: number): number {
  return Math.max(0, Math.round(now - startedAt));
}

export interface ProxyState {
  readonly options: TransformOptions;
  agentRuntime: string;
  serverLabel: string | null;
  /**
   * Client→server requests awaiting the server's answer, keyed by their id as written (see IdKey:
   * 1 and "1" differ, so do 1 and 1.0). This and the two sets below are the session's {@link PendingBook}; the engine swaps in another
   * while it handles one exchange of a shared group (see session-engine.ts).
   */
  pending: Map<IdKey, PendingRequest>;
  /**
   * Requests evicted from `pending` (too old, too many) and not answered since: a server exit still
   * answers them. Bounded like `pending`.
   */
  evictedIds: Set<IdKey>;
  /**
   * Requests the proxy answered itself (its own tools' calls, its tools/list), never forwarded: a
   * client's cancellation of one is no business of the server's, which never saw that id. The
   * latest MAX_ANSWERED_HERE; an id forwarded since is dropped from it.
   */
  answeredHere: Set<IdKey>;
  /** The upstream declared no tools capability; the proxy added it and answers `tools/list` itself. */
  answerToolsList: boolean;
  /**
   * The upstream declared `tasks.requests.tools.call` (2025-11-25 tasks): a task-augmented call of
   * the proxy's tools, which declare no `execution.taskSupport` (forbidden), is then refused.
   */
  serverTaskCalls: boolean;
  /** The protocol version the server's `initialize` answer negotiated; undefined before one (or in the stateless era). */
  protocolVersion: string | undefined;
  /** Paginated listings waiting for their next page, by cursor (each walk's pages its own). */
  readonly walks: WaitingWalks;
  /** Injected names the server defines itself: ours stay out and such calls go to the server. */
  readonly shadowed: Set<string>;
  nextCallId: number;
  evicted: number;
  /** Pending requests whose answer the proxy may rewrite (initialize, server/discover, tools/list). */
  rewritablePending: number;
  /** Per tool, the intent parameter names it defines itself (upserted from every listing page). */
  readonly intentRegistry: IntentRegistry;
  /** Tools whose calls were stripped without a listing (logged once each), as quoted in the log (long names cut). */
  readonly unlistedStripped: Set<string>;
  /**
   * The records holding a proactive annotation (filed by the agent or made from a first intent): "" is
   * the session's; in hosted per-request mode each consent token's own, as the console keeps them apart.
   */
  readonly proactiveFiled: Set<string>;
  /** Per-request principals arrived but there is no key to hash them (logged once). */
  warnedNoUserKey: boolean;
  /** An answer to rewrite nested past MAX_REWRITE_DEPTH and was left as it came (logged once). */
  warnedTooDeep: boolean;
  readonly surface: SurfaceCapture;
  readonly rounds: OpenRounds;
}

/** Makes `book` the one the transforms read and write (the others keep their entries). */
export function usePendingBook(state: ProxyState, book: PendingBook): void {
  state.pending = book.pending;
  state.evictedIds = book.evictedIds;
  state.answeredHere = book.answeredHere;
}

/** Records remembered as holding a proactive annotation; past this the oldest is forgotten (many tokens in one group). */
const MAX_PROACTIVE_RECORDS = 1024;

/** Notes that `record` ("" or a consent token, see `proactiveFiled`) holds a proactive annotation; true if it held none. */
export function noteProactive(state: ProxyState, record: string): boolean {
  if (state.proactiveFiled.has(record)) return false;
  state.proactiveFiled.add(record);
  if (state.proactiveFiled.size > MAX_PROACTIVE_RECORDS)
    state.proactiveFiled.delete(state.proactiveFiled.values().next().value as string);
  return true;
}

export const REWRITTEN_METHODS = new Set(["initialize", "server/discover", "tools/list"]);

export function intentMode(state: ProxyState): IntentParamMode {
  return state.options.intentParam ?? "optional";
}

export function captures(state: ProxyState, group: CaptureGroup): boolean {
  return state.options.capture === undefined || state.options.capture.has(group);
}

export function createProxyState(options: TransformOptions): ProxyState {
  return {
    options,
    agentRuntime: "unknown",
    serverLabel: options.serverLabel ?? null,
    pending: new Map(),
    evictedIds: new Set(),
    answeredHere: new Set(),
    answerToolsList: false,
    serverTaskCalls: false,
    protocolVersion: undefined,
    walks: new Map(),
    shadowed: new Set(),
    nextCallId: 1,
    evicted: 0,
    rewritablePending: 0,
    intentRegistry: new Map(),
    unlistedStripped: new Set(),
    proactiveFiled: new Set(),
    warnedNoUserKey: false,
    warnedTooDeep: false,
    surface: createSurfaceCapture(),
    rounds: { waiting: new Map(), tasks: new Map() },
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
  if (state.options.serverLabel !== undefined) return;
  if (isObject(info) && typeof info.name === "string" && info.name !== "") {
    state.serverLabel = typeof info.version === "string" ? `${info.name} ${info.version}` : info.name;
  }
}

export function noteClient(state: ProxyState, info: unknown): void {
  if (isObject(info) && typeof info.name === "string" && info.name !== "") state.agentRuntime = info.name;
}
