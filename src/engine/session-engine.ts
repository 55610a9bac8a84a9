// One MCP session, whatever carries it: runs the pure transforms and turns their actions into wire actions; events, logs and the live report stay inside. No sockets, no processes, no timers.

import type { RequestContext } from "../telemetry/envelope.ts";
import type { SessionEvents } from "../telemetry/telemetry-hub.ts";
import type { WireId } from "../wire/jsonrpc.ts";
import type { Classified } from "../wire/jsonrpc.ts";
import { decodeUtf8, wireResult } from "../wire/jsonrpc.ts";
import { RANDOM_HEX } from "../telemetry/otlp/trace-context.ts";
import { clientLinePassesUnchanged } from "../proxy/pass-through.ts";
import { createTraceTracker } from "../proxy/trace-meta.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import { createCallContexts, releaseEndedCalls } from "./call-contexts.ts";
import { createFailOpen } from "./fail-open.ts";
import { createLiveReports } from "./live-reports.ts";
import type { RequestScope, SessionEngine, SessionEngineDeps, WireAction } from "./engine-contract.ts";
import { createListingContexts, type ListingContexts } from "./listing-contexts.ts";
import { createRequestScopes } from "./request-scopes.ts";
import { createSessionState } from "./session-state.ts";
import {
  createPendingBook,
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

export {
  SWEEP_INTERVAL_MS,
  type RequestScope,
  type SessionEngine,
  type SessionEngineDeps,
  type WireAction,
} from "./engine-contract.ts";

/** One engine per MCP session; a process may hold many, all feeding one telemetry hub. */
export function createSessionEngine(deps: SessionEngineDeps): SessionEngine {
  const { config, logger, now, telemetry } = deps;
  const state = createSessionState(deps);
  // Only with an otlp: sink: trace facts on tool-call starts (and BATON_OTEL_PROPAGATE=on: traceparent into forwarded calls).
  const tracer =
    config.otlp === undefined
      ? undefined
      : createTraceTracker({ propagate: config.otlp.propagate, randomHex: RANDOM_HEX });
  const propagatesTrace = config.otlp?.propagate === true;
  const reports = createLiveReports(config, deps.perTokenRecords, (label) => telemetry.droppedBy(label));
  const events: SessionEvents = telemetry.openSession(reports.fold);
  const calls = createCallContexts(events);
  const listings = createListingContexts();
  // The session's own request ids, and the exchanges of a shared session with requests in flight.
  const own: RequestScope = {
    book: {
      pending: state.pending,
      evictedIds: state.evictedIds,
      answeredHere: state.answeredHere,
    },
    listings,
  };
  const scopes = createRequestScopes(state, own);
  const failOpen = createFailOpen(logger);
  /**
   * Fail-open: the message is passed on, and a call it ended is released here too. Its outcome
   * event was lost with the message, and that event is what releases a call's context, so a
   * repeating bug would otherwise pin one context per call for the session's life.
   */
  const passOn = (error: unknown, what: string, to: Side, raw: Uint8Array, sent: boolean) => {
    if (calls.size() > 0) releaseEndedCalls(calls, scopes.books(), state.rounds);
    return failOpen.passOn(error, what, to, raw, sent);
  };

  const answerReport = (
    id: WireId,
    modern: boolean,
    unrecorded: string | undefined,
    context: RequestContext | undefined,
  ): WireAction => {
    telemetry.settle();
    const text = reports.text(context, unrecorded, new Date(events.now()));
    return { to: "client", message: wireResult(id, injectedResult(text, modern, false)) };
  };

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
          calls.emit(action.draft, context, bytes);
          break;
        case "emitLater":
          calls.emitForCall(action.build, action.call, action.opens, context, bytes);
          break;
        case "log":
          logger[action.level](action.text);
          break;
        case "report":
          wire.push(answerReport(action.id, action.modern, deps.unrecorded?.(context), context));
          break;
      }
    }
    return wire;
  }

  const clientLine = (
    raw: Uint8Array,
    line: Classified,
    context: RequestContext | undefined,
    listings: ListingContexts,
  ): WireAction[] => {
    try {
      const unrecorded = deps.unrecorded?.(context);
      const actions = fromClient(
        state,
        raw,
        line,
        now(),
        context?.principal === undefined && unrecorded === undefined && !deps.perTokenRecords
          ? undefined
          : {
              principal: context?.principal,
              unrecorded,
              recordedFor: deps.perTokenRecords ? context?.consentToken : undefined,
            },
      );
      if (context !== undefined) listings.note(line, context);
      return perform(
        tracer === undefined ? actions : tracer.fromClient(line, actions, unrecorded !== undefined, context?.trace),
        context,
        false,
        raw.length,
      );
    } catch (error) {
      return passOn(error, "a client message", "server", raw, false);
    }
  };
  const serverLine = (
    raw: Uint8Array,
    line: Classified,
    streamed: boolean,
    at: number | undefined,
    listings: ListingContexts,
  ): WireAction[] => {
    try {
      tracer?.fromServer(line);
      // A listing's answer: its surface snapshot carries the listing request's context (hosted: its consent token).
      return perform(fromServer(state, raw, line, at ?? now()), listings.take(line), streamed, raw.length);
    } catch (error) {
      return passOn(error, "a server message", "client", raw, streamed);
    }
  };

  const engine: SessionEngine = {
    sessionId: events.sessionId,
    fromClient: (raw, line, context, scope) =>
      scope === undefined
        ? clientLine(raw, line, context, listings)
        : scopes.run(scopes.ofCancel(line, scope), (its) => clientLine(raw, line, context, its)),
    fromServer: (raw, line, streamed = false, at, scope) =>
      scope === undefined
        ? serverLine(raw, line, streamed, at, listings)
        : scopes.run(scope, (its) => serverLine(raw, line, streamed, at, its)),
    // A long line's bytes went out as they came: a failure costs its events (a held call to our own tool goes unanswered).
    fromServerLongLine: (edges, scope) => {
      const longLine = (): WireAction[] => {
        try {
          // A batch: each answer in it closes its own request (its edges found as the line went by; the
          // size its event names is the line's, the one over the limit).
          return (edges.members ?? [edges]).flatMap((one) =>
            perform(fromServerLongLine(state, decodeUtf8(one.head), decodeUtf8(one.tail), edges.size, now())),
          );
        } catch (error) {
          return passOn(error, "a long server message", "client", edges.head, true);
        }
      };
      return scope === undefined ? longLine() : scopes.run(scope, longLine);
    },
    holdsClientLongLine: (head) => holdsClientLongLine(state, decodeUtf8(head)),
    fromClientLongLine: (edges, held) => {
      try {
        // A batch (never held: its head shows no call of ours): each call in it is tracked from its own
        // edges, but a call of our tools, which went on with the rest (the server will refuse it): it
        // is no call of the server's tool.
        const parts = held || edges.members === undefined ? [edges] : edges.members;
        return parts.flatMap((one) => {
          const head = decodeUtf8(one.head);
          if (one !== edges && holdsClientLongLine(state, head)) return [];
          return perform(fromClientLongLine(state, head, decodeUtf8(one.tail), edges.size, held, now()));
        });
      } catch (error) {
        return passOn(error, "a long client message", "server", edges.head, true);
      }
    },
    serverLinesPassUnchanged: () => serverLinesPassUnchanged(state),
    // Propagating trace context rewrites every forwarded call: nothing may go out before it is parsed.
    clientLinePassesUnchanged: (body) => !propagatesTrace && clientLinePassesUnchanged(body),
    failPending: (kind, text) => scopes.every(() => perform(failPending(state, kind, text, now()))),
    failRequests: (ids, kind, text, answerUntracked, scope = own, startedBefore) =>
      scopes.run(scope, () => perform(failRequests(state, ids, kind, text, now(), answerUntracked, startedBefore))),
    sweep: () => scopes.every(() => perform(sweepPending(state, now()))),
    openScope: () => ({ book: createPendingBook(), listings: createListingContexts() }),
    close: () => events.close(),
    openCallContexts: () => calls.size(),
  };
  // Once per line or event, straight-line glue: FTL would compile them with the transforms inlined,
  // the largest compiles left (see runtime/jit-tiers.ts). Marks every engine's closures at once.
  keepOutOfFtl(engine.fromClient, engine.fromServer, clientLine, serverLine, perform, calls.emitForCall);
  return engine;
}
