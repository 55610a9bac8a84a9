// One MCP session, whatever carries it: runs the pure transforms and turns their actions into wire actions; events, logs and the live report stay inside. No sockets, no processes, no timers.

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { createReportState, foldEvent } from "../report/report-state.ts";
import { renderReport } from "../report/render-markdown.ts";
import type { RequestContext } from "../telemetry/envelope.ts";
import { META_CALL_ID } from "../telemetry/event-types.ts";
import type { LazyDraft, SessionEvents, TelemetryHub } from "../telemetry/telemetry-hub.ts";
import { scrubValue } from "../telemetry/scrub.ts";
import { hashUserId } from "../identity/user-id.ts";
import type { LineEdges } from "../wire/framing.ts";
import type { Classified, JsonRpcId, WireId } from "../wire/jsonrpc.ts";
import { decodeUtf8, wireResult } from "../wire/jsonrpc.ts";
import { RANDOM_HEX } from "../telemetry/otlp/trace-context.ts";
import { clientLinePassesUnchanged } from "../proxy/pass-through.ts";
import { createTraceTracker } from "../proxy/trace-meta.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import {
  createProxyState,
  failPending,
  failRequests,
  fromClient,
  fromServer,
  fromClientLongLine,
  fromServerLongLine,
  holdsClientLongLine,
  injectedResult,
  serverLinesPassUnchanged,
  sweepPending,
  type Action,
  type Side,
} from "../proxy/transform.ts";

export type { RequestContext } from "../telemetry/envelope.ts";

/** `tools/list` requests whose context is kept until answered; past this the oldest is forgotten. */
const MAX_LIST_CONTEXTS = 64;

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
}

export interface SessionEngine {
  /** The session id its events carry. */
  readonly sessionId: string;
  /**
   * A complete message from the client: `raw` is its JSON text (a stdio line with its newline, or an
   * HTTP body), handed back as is when nothing changes. `context` stamps the events of the request(s) it carries.
   */
  fromClient(raw: Uint8Array, line: Classified, context?: RequestContext): WireAction[];
  /**
   * A complete message from the server: `raw` is its JSON text (a line, an HTTP body, an SSE event's
   * data), read again when an answer is rewritten (numbers as written) and handed back as is otherwise.
   * `streamed`: its bytes already went out (cut-through): only observe it. `at`: when it arrived (the
   * engine's `now` clock), for a transport that inspects it later.
   */
  fromServer(raw: Uint8Array, line: Classified, streamed?: boolean, at?: number): WireAction[];
  /** A server line over the inspection cap has gone out: close the request it answers from its edges. */
  fromServerLongLine(edges: LineEdges): WireAction[];
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
   */
  failRequests(ids: readonly (JsonRpcId | null)[], kind: string, text: string, answerUntracked?: boolean): WireAction[];
  /** Evicts requests older than the pending TTL (call every SWEEP_INTERVAL_MS). */
  sweep(): WireAction[];
  /** The session is over: stop folding its live report. Events already emitted are still delivered. */
  close(): void;
}

/** One engine per MCP session; a process may hold many, all feeding one telemetry hub. */
export function createSessionEngine(deps: SessionEngineDeps): SessionEngine {
  const { config, logger, now, telemetry } = deps;
  // The hot-path bound only caps sizes (the background scrubber applies the privacy mode).
  const bound = (value: unknown) => {
    const stats = { redactions: {}, truncated: 0 };
    return { value: scrubValue(value, { mode: "off", extraKeys: [] }, stats), truncated: stats.truncated };
  };
  const userIdKey = config.userIdKey;
  const tenantId = config.tenantId ?? "local";
  const state = createProxyState({
    includeReportTool: config.allSinksLocal,
    boundValue: bound,
    // Observed only: arguments reach the server as sent, so none of them is read as an intent.
    intentParam: deps.observeOnly === true ? "off" : config.intentParam,
    injects: deps.observeOnly !== true,
    capture: config.capture,
    // Raw principals stay in here: only their hash reaches events (and so the dispatcher).
    hashPrincipal: userIdKey === undefined ? undefined : (principal) => hashUserId(principal, tenantId, userIdKey),
    defaultPrincipal: config.principal === undefined ? undefined : { id: config.principal },
    serverLabel: deps.serverLabel,
    // The trace tracker edits start drafts as they are emitted: it needs them built at once.
    lazyDrafts: config.otlp === undefined,
  });
  if (config.principal !== undefined && userIdKey === undefined)
    logger.warn("BATON_PRINCIPAL is set but BATON_USER_ID_HMAC_KEY is not: events carry no user_id");
  // Only with an otlp: sink: trace facts on tool-call starts (and BATON_OTEL_PROPAGATE=on: traceparent into forwarded calls).
  const tracer =
    config.otlp === undefined
      ? undefined
      : createTraceTracker({ propagate: config.otlp.propagate, randomHex: RANDOM_HEX });
  const propagatesTrace = config.otlp?.propagate === true;
  // Only the report tool reads the fold, and it is offered only when every sink is local.
  const report = config.allSinksLocal ? createReportState() : undefined;
  const events: SessionEvents = telemetry.openSession(
    report === undefined ? undefined : (event) => foldEvent(report, event),
  );
  const fileSink = config.sinks.find((s) => s.kind === "file");
  const eventsLocation = fileSink?.kind === "file" ? fileSink.path : config.sinks.map((s) => s.kind).join(", ");
  /** Contexts of calls in flight, by call id, so a call's outcome carries its request's context. */
  const callContexts = new Map<string, RequestContext>();
  /** Contexts of `tools/list` requests in flight, by id: the surface snapshot their answer completes is theirs. */
  const listContexts = new Map<JsonRpcId, RequestContext>();

  function noteListings(line: Classified, context: RequestContext): void {
    const members = line.kind === "message" ? [line.message] : line.kind === "batch" ? line.members : [];
    for (const message of members) {
      if (message?.kind !== "request" || message.method !== "tools/list") continue;
      listContexts.delete(message.id);
      listContexts.set(message.id, context);
      // Unanswered listings must not pile up: the oldest go first.
      if (listContexts.size > MAX_LIST_CONTEXTS) listContexts.delete(listContexts.keys().next().value as JsonRpcId);
    }
  }

  /** The context of the listing a server line answers (none for other lines). */
  function listingContext(line: Classified): RequestContext | undefined {
    if (listContexts.size === 0) return undefined;
    const members = line.kind === "message" ? [line.message] : line.kind === "batch" ? line.members : [];
    for (const message of members) {
      if (message?.kind !== "response" || message.id === null) continue;
      const context = listContexts.get(message.id);
      if (context === undefined) continue;
      listContexts.delete(message.id);
      return context;
    }
    return undefined;
  }

  const answerReport = (id: WireId, modern: boolean, unrecorded: string | undefined): WireAction => {
    telemetry.settle();
    // The report holds only what was recorded: a caller whose own calls are not must be told why they are missing.
    const caveat =
      unrecorded === undefined ? "" : `Note: ${unrecorded}; calls made without one are not in this report.\n\n`;
    // The transforms ask for a report only when the tool is offered, i.e. when the fold exists.
    const text =
      caveat +
      renderReport(report ?? createReportState(), {
        slowCallMs: config.slowCallMs,
        eventsLocation,
        live: true,
        now: new Date(events.now()),
      });
    return { to: "client", message: wireResult(id, injectedResult(text, modern, false)) };
  };

  function emit(
    draft: Extract<Action, { type: "emit" }>["draft"],
    context: RequestContext | undefined,
    bytes: number,
  ): void {
    const callId = draft.runtime_meta?.[META_CALL_ID];
    if (typeof callId !== "string") return events.emit(draft, context, bytes);
    // tool calls, resource reads/lists, prompt gets/lists
    emitForCall(draft, { callId }, draft.event_type.endsWith("_start"), context, bytes);
  }

  /** A call's events carry the context of the request that started it. */
  function emitForCall(
    draft: LazyDraft,
    call: { readonly callId: string },
    opens: boolean,
    context: RequestContext | undefined,
    bytes: number,
  ): void {
    if (opens) {
      if (context !== undefined) callContexts.set(call.callId, context);
      return events.emit(draft, context, bytes);
    }
    const started = callContexts.size === 0 ? undefined : callContexts.get(call.callId);
    if (started !== undefined) callContexts.delete(call.callId);
    events.emit(draft, started ?? context, bytes);
  }

  /**
   * Carries out observations and collects wire actions; `streamed` drops the wire part of a line
   * already sent. `lineBytes`: the size of the line the actions came from (0 for none), shared by
   * the events it produced: what stands for their size while they wait to be prepared (see
   * Dispatcher.enqueue). Shared, so a batch line's many events count its bytes once, not each.
   */
  function perform(
    actions: readonly Action[],
    context?: RequestContext,
    streamed = false,
    lineBytes = 0,
  ): WireAction[] {
    const wire: WireAction[] = [];
    let events = 0;
    if (lineBytes > 0)
      for (const action of actions) if (action.type === "emit" || action.type === "emitLater") events++;
    const bytes = events === 0 ? 0 : Math.ceil(lineBytes / events);
    for (const action of actions) {
      switch (action.type) {
        case "forward":
          if (!streamed) wire.push({ to: action.to, bytes: action.bytes });
          break;
        case "send":
          if (!streamed) wire.push({ to: action.to, message: action.message });
          break;
        case "emit":
          emit(action.draft, context, bytes);
          break;
        case "emitLater":
          emitForCall(action.build, action.call, action.opens, context, bytes);
          break;
        case "log":
          logger[action.level](action.text);
          break;
        case "report":
          wire.push(answerReport(action.id, action.modern, deps.unrecorded?.(context)));
          break;
      }
    }
    return wire;
  }

  const engine: SessionEngine = {
    sessionId: events.sessionId,
    fromClient: (raw, line, context) => {
      const unrecorded = deps.unrecorded?.(context);
      const actions = fromClient(
        state,
        raw,
        line,
        now(),
        context?.principal === undefined && unrecorded === undefined
          ? undefined
          : { principal: context?.principal, unrecorded },
      );
      if (context !== undefined) noteListings(line, context);
      return perform(tracer === undefined ? actions : tracer.fromClient(line, actions), context, false, raw.length);
    },
    fromServer: (raw, line, streamed = false, at) => {
      tracer?.fromServer(line);
      // A listing's answer: its surface snapshot carries the listing request's context (hosted: its consent token).
      return perform(fromServer(state, raw, line, at ?? now()), listingContext(line), streamed, raw.length);
    },
    fromServerLongLine: (edges) =>
      perform(fromServerLongLine(state, decodeUtf8(edges.head), decodeUtf8(edges.tail), edges.size, now())),
    holdsClientLongLine: (head) => holdsClientLongLine(state, decodeUtf8(head)),
    fromClientLongLine: (edges, held) =>
      perform(fromClientLongLine(state, decodeUtf8(edges.head), decodeUtf8(edges.tail), edges.size, held, now())),
    serverLinesPassUnchanged: () => serverLinesPassUnchanged(state),
    // Propagating trace context rewrites every forwarded call: nothing may go out before it is parsed.
    clientLinePassesUnchanged: (body) => !propagatesTrace && clientLinePassesUnchanged(body),
    failPending: (kind, text) => perform(failPending(state, kind, text, now())),
    failRequests: (ids, kind, text, answerUntracked) =>
      perform(failRequests(state, ids, kind, text, now(), answerUntracked)),
    sweep: () => perform(sweepPending(state, now())),
    close: () => events.close(),
  };
  // Once per line or event, straight-line glue: FTL would compile them with the transforms inlined,
  // the largest compiles left (see runtime/jit-tiers.ts). Marks every engine's closures at once.
  keepOutOfFtl(engine.fromClient, engine.fromServer, perform, emitForCall);
  return engine;
}
