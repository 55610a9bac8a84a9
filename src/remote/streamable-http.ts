// The remote server as an upstream over Streamable HTTP: one concurrent POST per client message, answers become lines as they arrive.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import type { SessionFacts } from "./http-wire.ts";
import { LegacySseUpstream } from "./legacy-sse.ts";
import { readOutgoingLine } from "./outgoing-line.ts";
import { PostCancellations } from "./post-cancellations.ts";
import { postExchange, type PostExchangeSession } from "./post-exchange.ts";
import { DELETE_TIMEOUT_MS, deleteSession, HANDSHAKE_EXTRA_GRACE_MS, STOP_GRACE_MS } from "./session-end.ts";
import { runStandingStream } from "./standing-stream.ts";
import type { UpstreamFailure } from "./upstream-failure.ts";
import type { HttpUpstreamDeps } from "./upstream-types.ts";

/** Undelivered messages (notifications, junk lines, answers to the server) logged one by one; later ones are counted. */
export const MAX_UNDELIVERED_LOGGED = 5;

/**
 * Streamable HTTP (2025-03-26 … 2025-11-25, and stateless 2026-07-28 POSTs) toward one server.
 * `send` never waits: every message is POSTed at once, so many calls are in flight and a
 * `notifications/cancelled` can overtake the call it cancels. Only messages behind an
 * `initialize` wait for its answer (they need the session id it brings).
 */
export class StreamableHttpUpstream {
  readonly facts: SessionFacts = { sessionId: undefined, protocolVersion: undefined };
  private readonly base: Record<string, string>;
  private readonly inflight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  /** Which POST carries each request in flight, and which the client cancelled. */
  private readonly cancellations = new PostCancellations(this.controllers);
  /** The server's requests on a POST's stream that the client has not answered (its silence is then the client's). */
  private readonly owed = new Map<JsonRpcId, AbortController>();
  private standingAbort = new AbortController();
  private gate: Promise<void> | undefined;
  private legacy: LegacySseUpstream | undefined;
  /** The session whose server→client GET stream was opened (null: none yet). */
  private standingFor: string | undefined | null = null;
  private expiredLogged = false;
  private closing = false;
  /** stop() has begun (closing follows once the lines waiting for the handshake went out). */
  private stopping = false;
  private undelivered = 0;
  /** What a POST exchange (and reading its SSE answer) needs of this session. */
  private readonly exchange: PostExchangeSession;

  constructor(private readonly deps: HttpUpstreamDeps) {
    this.base = { "User-Agent": deps.userAgent, ...deps.target.headers };
    this.exchange = {
      deps,
      facts: this.facts,
      authorized: () => this.authorized(),
      isClosing: () => this.closing,
      isCancelled: (controller) => this.cancellations.isCancelled(controller),
      fail: (ids, failure, controller) => this.fail(ids, failure, controller),
      expired: () => this.expired(),
      controllers: this.controllers,
      byId: this.cancellations.byId,
      legacy: () => this.legacy,
      fallBack: (body, ids, refused) => this.fallBack(body, ids, refused),
      openStanding: () => this.openStanding(),
      // A session the client handshook again on (or one that expired: its DELETE is refused, harmlessly).
      replaced: (sessionId) =>
        void deleteSession(this.deps, this.facts, () => this.authorized(), sessionId, DELETE_TIMEOUT_MS),
      cancelledPost: (params) => this.cancellations.cancelledPost(params),
      stopReading: (cancelled) => this.cancellations.stopReading(cancelled),
      answered: (id, controller) => this.cancellations.answered(id, controller),
      owed: this.owed,
    };
  }

  /** True once the server turned out to speak only the 2024-11-05 HTTP+SSE transport. */
  get isLegacy(): boolean {
    return this.legacy !== undefined;
  }

  /**
   * Sends one client line (with or without its newline); the promise settles when its exchange is
   * over (answered, failed, or accepted). Junk (not JSON-RPC, logged by the session as forwarded) is
   * POSTed unchanged like any line, so the server's refusal reaches a request among it rather than
   * leaving it unanswered; only blank lines are dropped.
   */
  send(raw: Uint8Array): Promise<void> {
    if (this.closing) return Promise.resolve();
    const outgoing = readOutgoingLine(raw);
    if (outgoing === undefined) return Promise.resolve();
    const { body, line, messages, ids, refused } = outgoing;
    for (const message of messages)
      if (message.kind === "response" && message.id !== null) this.owed.delete(message.id);
    // A refused request reusing the id of one in flight: its refusal must not end that request.
    const shadowing = refused.filter((id) => this.cancellations.byId.has(id));
    const exchange = shadowing.length === 0 ? this.exchange : this.shadowingExchange(shadowing);
    const first = messages[0];
    const isInitialize = line.kind === "message" && first?.kind === "request" && first.method === "initialize";
    const start = (): Promise<void> =>
      this.track(
        postExchange(exchange, body, line.kind === "message" ? first : undefined, ids, isInitialize),
        ids,
        shadowing,
      );
    // Behind a handshake in flight, messages wait for it (they need its session id), in send order.
    const sent = this.gate === undefined ? start() : this.gate.then(start);
    if (isInitialize) this.setGate(sent);
    return sent;
  }

  /**
   * The exchange of a line whose refused requests reuse ids of requests in flight (`shadowing`):
   * their refusal is answered with a null id, as JSON-RPC answers a request whose id cannot be
   * used, so the client's request of that id still gets its own answer. Its POST is not the one a
   * cancellation of that id stops.
   */
  private shadowingExchange(shadowing: readonly JsonRpcId[]): PostExchangeSession {
    return {
      ...this.exchange,
      byId: new Map(),
      fail: (ids, failure, controller) => this.fail(ids, failure, controller, shadowing),
    };
  }

  private setGate(handshake: Promise<void>): void {
    const gate: Promise<void> = handshake.finally(() => {
      if (this.gate === gate) this.gate = undefined;
    });
    this.gate = gate;
  }

  /**
   * Ends the session: lets requests in flight finish briefly (a handshake a little longer, for the
   * session id it brings), aborts the rest, DELETEs the session. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const graceEnds = performance.now() + STOP_GRACE_MS;
    // Lines the client sent before it left may wait behind the handshake (`--url … < requests.jsonl`):
    // a server reading the same pipe would still read them, so they go out once it is answered
    // (its `then` callbacks run before this wait ends), within the same grace as those in flight.
    if (this.gate !== undefined) await Promise.race([this.gate, Bun.sleep(STOP_GRACE_MS)]);
    this.closing = true;
    if (this.undelivered > MAX_UNDELIVERED_LOGGED)
      this.deps.logger.warn(`${this.undelivered} messages to ${this.deps.target.origin} were not delivered in all`);
    const left = Math.max(0, graceEnds - performance.now());
    if (this.inflight.size > 0) await Promise.race([Promise.allSettled([...this.inflight]), Bun.sleep(left)]);
    let deleteTimeoutMs = DELETE_TIMEOUT_MS;
    if (this.gate !== undefined && this.facts.sessionId === undefined) {
      const started = performance.now();
      await Promise.race([this.gate, Bun.sleep(HANDSHAKE_EXTRA_GRACE_MS)]);
      deleteTimeoutMs -= Math.round(performance.now() - started);
    }
    for (const controller of this.controllers) controller.abort();
    this.standingAbort.abort();
    if (this.legacy !== undefined) {
      this.legacy.stop();
      return;
    }
    if (this.facts.sessionId === undefined) return;
    await deleteSession(this.deps, this.facts, () => this.authorized(), this.facts.sessionId, deleteTimeoutMs);
  }

  /** Keeps the exchange in flight until it ends; a bug of ours still answers its requests (never a hang). */
  private track(work: Promise<void>, ids: readonly JsonRpcId[], shadowing: readonly JsonRpcId[]): Promise<void> {
    const done = work.catch((error: unknown) => {
      const reason = `baton-proxy failed talking to ${this.deps.target.origin}: ${error instanceof Error ? error.message : String(error)}`;
      this.deps.logger.error(reason);
      this.fail(ids, { errorType: "proxy_internal", reason }, undefined, shadowing);
    });
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
    return done;
  }

  private async authorized(): Promise<Record<string, string>> {
    const value = await this.deps.authorizer?.header();
    return value === undefined ? this.base : { ...this.base, Authorization: value };
  }

  /** Answers `ids` with `failure` through the sink; those in `shadowing` with a null id (see shadowingExchange). */
  private fail(
    ids: readonly JsonRpcId[],
    failure: UpstreamFailure,
    controller?: AbortController,
    shadowing: readonly JsonRpcId[] = [],
  ): void {
    if (this.closing) return; // the session answers what is left when it shuts down
    if (controller !== undefined && this.cancellations.isCancelled(controller)) return; // the client gave up on it
    const gaveUp = controller === undefined ? undefined : this.cancellations.gaveUp(controller);
    // A notification or a response to the server has nobody to answer: say it was lost (the first
    // few one by one: a client sending junk in a loop must not flood the host's log; `stop` sums up).
    if (ids.length === 0 && failure.errorType !== "session_expired" && ++this.undelivered <= MAX_UNDELIVERED_LOGGED) {
      const more = this.undelivered === MAX_UNDELIVERED_LOGGED ? " (further ones are counted, not logged)" : "";
      this.deps.logger.warn(`a message to ${this.deps.target.origin} was not delivered: ${failure.reason}${more}`);
    }
    for (const id of ids) {
      if (gaveUp?.has(id)) continue; // cancelled: the client expects no answer
      this.deps.sink.failure(shadowing.includes(id) ? null : id, failure);
    }
  }

  /** The optional server→client GET stream, opened once per session after its handshake. */
  private async openStanding(): Promise<void> {
    if (this.standingFor === this.facts.sessionId || this.closing) return;
    if (this.standingFor !== null) {
      // A new handshake made a new session (the old one expired): its stream replaces the old session's.
      this.standingAbort.abort();
      this.standingAbort = new AbortController();
    }
    this.standingFor = this.facts.sessionId;
    await runStandingStream({
      deps: this.deps,
      facts: this.facts,
      headers: () => this.authorized(),
      signal: this.standingAbort.signal,
      isClosing: () => this.closing,
    });
  }

  private expired(): UpstreamFailure {
    const reason = `the session with ${this.deps.target.origin} expired (HTTP 404): restart the MCP server in your client to start a new one`;
    if (!this.expiredLogged) {
      this.expiredLogged = true;
      this.deps.logger.warn(reason);
    }
    return { errorType: "session_expired", reason };
  }

  /** The server refused the handshake POST in a way old HTTP+SSE servers do: try that transport, as SDK clients do. */
  private async fallBack(body: Uint8Array, ids: readonly JsonRpcId[], refused: UpstreamFailure): Promise<void> {
    const legacy = new LegacySseUpstream(this.deps, () => this.authorized());
    const started = await legacy.start();
    if (started !== true) {
      this.deps.logger.warn(
        `${this.deps.target.origin} refused the Streamable HTTP handshake (${refused.reason}) and the HTTP+SSE fallback failed too (${started.reason})`,
      );
      return this.fail(ids, refused);
    }
    this.deps.logger.info(`${this.deps.target.origin} speaks the older HTTP+SSE transport (2024-11-05): using it`);
    this.legacy = legacy;
    await legacy.send(body, ids);
  }
}
