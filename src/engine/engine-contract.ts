// What a transport sees of a session engine: its wire actions, its dependencies and its methods (implemented in session-engine.ts).

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { PendingBook, Side } from "../proxy/transform.ts";
import type { ListingContexts } from "./listing-contexts.ts";
import type { RequestContext } from "../telemetry/envelope.ts";
import type { TelemetryHub } from "../telemetry/telemetry-hub.ts";
import type { LineEdges } from "../wire/framing.ts";
import type { Classified, JsonRpcId } from "../wire/jsonrpc.ts";

/** How often a transport should call `sweep()` (requests unanswered for PENDING_TTL_MS are evicted). */
export const SWEEP_INTERVAL_MS = 30_000;

/**
 * What a transport must do: write bytes as they are (an untouched message, forwarded byte for
 * byte) or serialise a message the engine built or changed. Each is one whole line's worth.
 */
export type WireAction =
  | { readonly to: Side; readonly bytes: Uint8Array }
  | { readonly to: Side; readonly message: unknown };

export interface SessionEngineDeps {
  readonly config: Pick<Config, "allSinksLocal" | "slowCallMs" | "sinks"> &
    Partial<Pick<Config, "intentParam" | "capture" | "tenantId" | "userIdKey" | "principal" | "otlp">>;
  readonly logger: Logger;
  /** Monotonic milliseconds (durations, pending ages). */
  readonly now: () => number;
  /** The process's shared telemetry; the engine opens its own session stream on it. */
  readonly telemetry: TelemetryHub;
  /** Names the server in events whatever it calls itself (`--url`: the remote origin). */
  readonly serverLabel?: string;
  /**
   * The client sees none of the proxy's additions (hosted per-request mode, a handshake without a
   * token: bodies pass unchanged): nothing is stripped, and snapshots say nothing was added.
   */
  readonly observeOnly?: boolean;
  /** Why a request's events will not be recorded (hosted per-request mode: no consent token); undefined when they will be. */
  readonly unrecorded?: (context: RequestContext | undefined) => string | undefined;
  /**
   * Hosted per-request mode: one session (or a stateless group several clients share) is recorded
   * under many consent tokens, and each token's record stands alone: the live report shows a caller
   * only what its own token recorded, and each token's record gets the surface snapshot once.
   */
  readonly perTokenRecords?: boolean;
}

/**
 * One exchange of a session shared by several clients (hosted: a stateless-era group, one POST):
 * the ids of its requests are its client's own, unique within it only, so its requests are
 * tracked apart from the other exchanges' (made by {@link SessionEngine.openScope}).
 */
export interface RequestScope {
  readonly book: PendingBook;
  readonly listings: ListingContexts;
}

export interface SessionEngine {
  /** The session id its events carry. */
  readonly sessionId: string;
  /**
   * A complete message from the client: `raw` is its JSON text (a stdio line with its newline, or an
   * HTTP body), handed back as is when nothing changes. `context` stamps the events of the request(s) it carries.
   */
  fromClient(raw: Uint8Array, line: Classified, context?: RequestContext, scope?: RequestScope): WireAction[];
  /**
   * A complete message from the server: `raw` is its JSON text (a line, an HTTP body, an SSE event's
   * data), read again when an answer is rewritten (numbers as written) and handed back as is otherwise.
   * `streamed`: its bytes already went out (cut-through): only observe it. `at`: when it arrived (the
   * engine's `now` clock), for a transport that inspects it later. `scope`: the exchange it came back
   * on, when the client's message went in with one.
   */
  fromServer(raw: Uint8Array, line: Classified, streamed?: boolean, at?: number, scope?: RequestScope): WireAction[];
  /**
   * A server line (serve: a JSON body or an SSE event's data) over the inspection cap has gone out:
   * close the request it answers from its edges. `scope`: the exchange it came back on, as for `fromServer`.
   */
  fromServerLongLine(edges: LineEdges, scope?: RequestScope): WireAction[];
  /**
   * A client line has just gone over the inspection cap (`head`: its first bytes, none forwarded
   * yet). True when it must not reach the server (a call to one of the proxy's own tools): the
   * transport then drops all its bytes and hands its edges to `fromClientLongLine` at its end.
   */
  holdsClientLongLine(head: Uint8Array): boolean;
  /**
   * A client line over the inspection cap has ended. `held` (by `holdsClientLongLine`): its answer,
   * a JSON-RPC error. Else it went to the server: a `tools/call` is tracked from its edges.
   */
  fromClientLongLine(edges: LineEdges, held: boolean): WireAction[];
  /** True while a server line may be forwarded before its end arrives (nothing pending could need a rewrite). */
  serverLinesPassUnchanged(): boolean;
  /**
   * True when this client line (without its newline) is certain to be forwarded unchanged (read
   * from a scan of its bytes, no parse): a transport may send it on first and call `fromClient`
   * right after, before handling any other message, then skip the `forward` of these bytes.
   */
  clientLinePassesUnchanged(body: Uint8Array): boolean;
  /** Answers every request still in flight with a JSON-RPC error and closes its calls as `kind`. */
  failPending(kind: "upstream_exit" | "proxy_shutdown", text: string): WireAction[];
  /**
   * Ends just these requests, which the upstream will never answer (`--url`: delivery failed;
   * `serve`: one POST got no answer), their calls as `kind` (e.g. `upstream_unreachable`); other
   * requests stay pending. `answerUntracked`: also answer ids no longer tracked (see failRequests).
   * `startedBefore`: only requests started at or before it (a later request reusing an id is another's).
   */
  failRequests(
    ids: readonly (JsonRpcId | null)[],
    kind: string,
    text: string,
    answerUntracked?: boolean,
    scope?: RequestScope,
    startedBefore?: number,
  ): WireAction[];
  /**
   * A new exchange's own request ids, for a session several clients share: its client messages,
   * the answers that come back on it and its failures are handed in with it. Without one (stdio,
   * `--url`, a session of one client) the session's ids are one space.
   */
  openScope(): RequestScope;
  /** Evicts requests older than the pending TTL (call every SWEEP_INTERVAL_MS). */
  sweep(): WireAction[];
  /** The session is over: stop folding its live report. Events already emitted are still delivered. */
  close(): void;
  /** How many calls in flight hold their request's context (each is released with its call: a bound's witness). */
  openCallContexts(): number;
}
