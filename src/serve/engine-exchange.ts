// One MCP session's exchange over a SessionEngine: HTTP bodies in, wire actions back into HTTP answers; per-request consent gates events.

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import {
  createSessionEngine,
  type RequestContext as EngineRequestContext,
  type RequestScope,
  type SessionEngine,
  type WireAction,
} from "../engine/session-engine.ts";
import type { TelemetryHub } from "../telemetry/telemetry-hub.ts";
import type { LineEdges } from "../wire/framing.ts";
import type { Classified, JsonRpcId } from "../wire/jsonrpc.ts";
import { decodeUtf8, encodeUtf8 } from "../wire/jsonrpc.ts";
import type { ClientVerdict, RequestContext, SessionExchange } from "./exchange.ts";
import type { SessionOrigin } from "./session-table.ts";

export interface EngineExchangeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly now: () => number;
  /** The process's hub, already gated by {@link consentGatedHub} in per-request mode. */
  readonly telemetry: TelemetryHub;
}

/** The error type of calls whose POST got no answer from the upstream. */
export const UPSTREAM_UNREACHABLE = "upstream_unreachable";

/** What the proxy's own tools tell a caller whose request carried no usable token (never the token itself). */
const UNRECORDED = "this request carried no valid consent token (this proxy records only requests that do)";

/**
 * In per-request mode an event is recorded only when its request carried a valid consent token
 * (the context of the request that started the call, for a call's end/error). Everything else
 * is dropped before stamping: no token, no trace. Static mode uses the hub as it is.
 */
export function consentGatedHub(hub: TelemetryHub): TelemetryHub {
  return {
    openSession(observe) {
      const inner = hub.openSession(observe);
      return {
        sessionId: inner.sessionId,
        emit: (draft, context, bytes) => {
          if (context?.consentToken !== undefined) inner.emit(draft, context, bytes);
        },
        now: () => inner.now(),
        close: () => inner.close(),
      };
    },
    settle: () => hub.settle(),
    get dropped() {
      return hub.dropped;
    },
    droppedBy: (label) => hub.droppedBy(label),
    get needsTurn() {
      return hub.needsTurn;
    },
    shutdown: (deadlineMs) => hub.shutdown(deadlineMs),
  };
}

/**
 * Whether a session is shown the proxy's tools and instructions: always in static mode; in
 * per-request mode only when the request that opened it (the handshake; for a stateless group
 * or a session another replica opened, its first request here) carried a consent token.
 */
export function sessionShowsInjection(config: Config, opening: RequestContext): boolean {
  return config.consentMode === "static" || opening.consentToken !== undefined;
}

/**
 * The exchange. An injecting session carries out the engine's wire actions (rewritten handshake
 * and tool lists, injected tools answered locally). A non-injecting one forwards every body
 * unchanged both ways and lets the engine only observe (events of requests that carry a token).
 */
export function createEngineExchange(
  deps: EngineExchangeDeps,
  _origin: SessionOrigin,
  opening: RequestContext,
): SessionExchange {
  const inject = sessionShowsInjection(deps.config, opening);
  const engine: SessionEngine = createSessionEngine({
    // BATON_PRINCIPAL names the one user of a stdio proxy; here each request names its own, and one
    // without a principal is nobody's (never the operator's: that would merge every anonymous caller).
    config: { ...deps.config, principal: undefined },
    logger: deps.logger,
    now: deps.now,
    telemetry: deps.telemetry,
    observeOnly: !inject,
    // The gate drops such requests' events (consentGatedHub); the proxy's own tools must not claim otherwise.
    unrecorded:
      deps.config.consentMode === "per-request"
        ? (context) => (context?.consentToken === undefined ? UNRECORDED : undefined)
        : undefined,
    perTokenRecords: deps.config.consentMode === "per-request",
  });
  // The engine hashes the principal into user_id (with BATON_USER_ID_HMAC_KEY); the raw value never reaches an event.
  const engineContext = (context: RequestContext) => ({
    consentToken: context.consentToken,
    principal: context.principal,
    trace: context.trace,
  });
  return exchangeOver(engine, inject, engineContext, undefined);
}

/** The exchange over `engine`; `scope`: the POST of a stateless group it stands for (see SessionExchange.forPost). */
function exchangeOver(
  engine: SessionEngine,
  inject: boolean,
  engineContext: (context: RequestContext) => EngineRequestContext,
  scope: RequestScope | undefined,
): SessionExchange {
  return {
    fromClient(body: Uint8Array, line: Classified, context: RequestContext): ClientVerdict {
      const actions = engine.fromClient(body, line, engineContext(context), scope);
      if (!inject) return { forward: body, answers: [] };
      const toServer = actions.filter((a) => a.to === "server");
      const answers = actions.filter((a) => a.to === "client").map(messageOf);
      return { forward: toServer.length === 0 ? undefined : joinForServer(toServer), answers };
    },
    fromServer(data: Uint8Array, line: Classified): Uint8Array | undefined {
      if (!inject) {
        engine.fromServer(data, line, true, undefined, scope);
        return undefined;
      }
      const actions = engine.fromServer(data, line, false, undefined, scope).filter((a) => a.to === "client");
      if (
        actions.length === 1 &&
        "bytes" in (actions[0] as WireAction) &&
        (actions[0] as { bytes: Uint8Array }).bytes === data
      )
        return undefined;
      if (actions.length === 0) return undefined;
      return encodeUtf8(actions.length === 1 ? textOf(actions[0] as WireAction) : `[${actions.map(textOf).join(",")}]`);
    },
    fromServerLongLine(edges: LineEdges): void {
      // Only events and logs come of it: its bytes already went out, unchanged (nothing is rewritten past the cap).
      engine.fromServerLongLine(edges, scope);
    },
    upstreamFailed(
      ids: readonly JsonRpcId[],
      reason: string,
      kind = UPSTREAM_UNREACHABLE,
      startedBefore?: number,
    ): void {
      // The client's answer is the proxy's 502 / stream error / the upstream's own HTTP answer; only the events matter here.
      engine.failRequests(ids, kind, reason, false, scope, startedBefore);
    },
    close(reason: string): void {
      engine.failPending("proxy_shutdown", reason);
      engine.close();
    },
    sweep(): void {
      // Only events come of it: a request evicted here still has its POST, which the upstream answers or fails.
      engine.sweep();
    },
    forPost: () => exchangeOver(engine, inject, engineContext, engine.openScope()),
  };
}

function messageOf(action: WireAction): unknown {
  return "message" in action ? action.message : JSON.parse(decodeUtf8(action.bytes));
}

function textOf(action: WireAction): string {
  return "message" in action ? JSON.stringify(action.message) : decodeUtf8(action.bytes);
}

/** One body for the upstream: the original bytes when the engine forwarded them, else the serialised message(s). */
function joinForServer(actions: readonly WireAction[]): Uint8Array {
  const only = actions[0] as WireAction;
  if (actions.length === 1) return "bytes" in only ? only.bytes : encodeUtf8(JSON.stringify(only.message));
  return encodeUtf8(`[${actions.map(textOf).join(",")}]`);
}
