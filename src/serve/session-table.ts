// Maps requests to MCP sessions (the upstream's Mcp-Session-Id, or a stateless-era client group) and forgets idle ones. No sockets.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import type { RequestContext, SessionExchange } from "./exchange.ts";
import { principalKey } from "./principal.ts";
import type { CorsFields } from "./cors-echo.ts";

const REPLACED = "the client opened a new session";

/** How a session came to be known; decides nothing on the wire, only what events can say. */
export type SessionOrigin = "handshake" | "adopted" | "stateless";

export interface SessionEntry {
  readonly exchange: SessionExchange;
  readonly openedAt: number;
  lastUsedAt: number;
  /** Requests in flight on this session (an entry with one is never expired). */
  active: number;
  /**
   * A stateless-era group (see {@link statelessKey}): several clients may share it, each numbering
   * its requests alike, so each POST's requests are tracked on their own (SessionExchange.forPost).
   */
  shared: boolean;
  /**
   * Calls whose POST stream the client dropped while the upstream keeps its events for a resume
   * (GET with Last-Event-ID): the answer replayed there is counted in /metrics with their method and
   * start, as on their POST. Each leaves it when so counted or when its wait ends.
   */
  resuming?: Map<JsonRpcId, ResumingCall>;
  /**
   * The upstream answered a request of this session (its handshake among them) with a 2xx: it knows
   * the session. Until then the proxy answers no call of its own tools on it without asking.
   */
  confirmed?: boolean;
  /** The CORS fields of the upstream's latest answer on this session that had any: the proxy's own answers repeat them. */
  cors?: CorsFields;
}

/** A call of {@link SessionEntry.resuming}. */
export interface ResumingCall {
  readonly method: string;
  readonly startedAt: number;
}

export interface SessionTableOptions {
  /** Builds a session's exchange; `handshakeContext` is the context of its opening request. */
  readonly create: (origin: SessionOrigin, handshakeContext: RequestContext) => SessionExchange;
  readonly idleMs: number;
  /**
   * At most this many sessions are kept (with Mcp-Session-Id and stateless groups together): a
   * new one past it evicts the least recently used idle one. A client can invent session ids and
   * client names at will; each entry holds an engine (~13 KiB idle) until the idle bound.
   */
  readonly maxSessions: number;
  /** Told about every session evicted to make room. */
  readonly evicted: () => void;
  readonly now: () => number;
  /** Told about every session that ends, with its lifetime in ms. */
  readonly ended: (lifetimeMs: number) => void;
}

/**
 * Sessions are keyed by the upstream's own Mcp-Session-Id, which is a bearer-like secret: it is
 * a map key here and nowhere else (never logged, never in events; each exchange mints its own
 * event session id). Stateless-era requests (no session id, no `initialize`) are grouped per
 * client by {@link statelessKey} within the idle window.
 */
export class SessionTable {
  private readonly byId = new Map<string, SessionEntry>();
  private readonly stateless = new Map<string, SessionEntry>();
  /**
   * Entries a newer handshake replaced (a stateless session-era upstream: every client at one
   * address shares a group; or an upstream handing out one session id again) while requests of
   * theirs were still in flight: those requests' answers come back to them, so they are closed
   * only once idle (at a sweep, or at shutdown).
   */
  private readonly replaced = new Set<SessionEntry>();

  constructor(private readonly options: SessionTableOptions) {}

  get size(): number {
    return this.byId.size + this.stateless.size;
  }

  /** A new exchange for an `initialize` (not in the table until the upstream names the session). */
  open(context: RequestContext): SessionEntry {
    return this.entry(this.options.create("handshake", context));
  }

  /** Files a handshake's entry under the session id the upstream gave it. */
  adopt(sessionId: string, entry: SessionEntry): void {
    // An upstream may hand out the same id again (one fixed id for every client): the entry filed under it ends, or its engine would live on unreachable.
    const previous = this.byId.get(sessionId);
    if (previous !== undefined && previous !== entry) this.retire(previous);
    else if (previous === undefined) this.makeRoom();
    this.byId.set(sessionId, entry);
  }

  /** Files a handshake the upstream answered without a session id (a stateless legacy server) under its client group. */
  adoptStateless(key: string, entry: SessionEntry): void {
    const previous = this.stateless.get(key);
    if (previous !== undefined && previous !== entry) this.retire(previous);
    else if (previous === undefined) this.makeRoom();
    entry.shared = true;
    this.stateless.set(key, entry);
  }

  /**
   * The entry for a request naming `sessionId`. One this replica never saw (restart, load
   * balancer without affinity) is created on the spot: the request is still forwarded and its
   * events say what is known (no handshake: client name unknown).
   */
  forSession(sessionId: string, context: RequestContext): SessionEntry {
    let entry = this.byId.get(sessionId);
    if (entry === undefined) {
      this.makeRoom();
      entry = this.entry(this.options.create("adopted", context));
      this.byId.set(sessionId, entry);
    }
    entry.lastUsedAt = this.options.now();
    return entry;
  }

  /** The stateless-era group for this client (see {@link statelessKey}). */
  forStateless(key: string, context: RequestContext): SessionEntry {
    let entry = this.stateless.get(key);
    if (entry === undefined) {
      this.makeRoom();
      entry = this.entry(this.options.create("stateless", context));
      entry.shared = true;
      this.stateless.set(key, entry);
    }
    entry.lastUsedAt = this.options.now();
    return entry;
  }

  /** The CORS fields the upstream gave the session `sessionId` names, if this replica knows it (a refusal starts no session). */
  corsOf(sessionId: string): CorsFields | undefined {
    return this.byId.get(sessionId)?.cors;
  }

  /** The stateless-era group for this client if it exists (a GET stream joins a group; it starts none). */
  findStateless(key: string): SessionEntry | undefined {
    const entry = this.stateless.get(key);
    if (entry !== undefined) entry.lastUsedAt = this.options.now();
    return entry;
  }

  /** Ends a session (DELETE answered by the upstream). */
  end(sessionId: string, reason: string): void {
    const entry = this.byId.get(sessionId);
    if (entry === undefined) return;
    this.byId.delete(sessionId);
    this.close(entry, reason);
  }

  /**
   * Forgets sessions idle longer than the bound, and sweeps the others' engines (a session kept busy,
   * or open by a GET stream, must still end its abandoned rounds and tasks); returns how many ended.
   */
  sweep(): number {
    const cutoff = this.options.now() - this.options.idleMs;
    let ended = 0;
    for (const entry of this.replaced) {
      if (entry.active > 0) {
        entry.exchange.sweep();
        continue;
      }
      this.replaced.delete(entry);
      this.close(entry, REPLACED);
    }
    for (const map of [this.byId, this.stateless]) {
      for (const [key, entry] of map) {
        if (entry.active > 0 || entry.lastUsedAt > cutoff) {
          entry.exchange.sweep();
          continue;
        }
        map.delete(key);
        this.close(entry, "the session was idle too long");
        ended++;
      }
    }
    return ended;
  }

  /** Ends every session (shutdown). */
  closeAll(reason: string): void {
    for (const map of [this.byId, this.stateless]) {
      for (const entry of map.values()) this.close(entry, reason);
      map.clear();
    }
    for (const entry of this.replaced) this.close(entry, reason);
    this.replaced.clear();
  }

  /**
   * Before a new entry is filed: at the cap, ends the least recently used idle session (a later
   * request of it is forwarded as one this replica never saw). Busy sessions are never evicted,
   * so the table may exceed the cap while they all are.
   */
  private makeRoom(): void {
    while (this.size >= this.options.maxSessions) {
      // A scan, only at the cap: cheaper overall than keeping an order of use on every request.
      let victim: { map: Map<string, SessionEntry>; key: string; entry: SessionEntry } | undefined;
      for (const map of [this.byId, this.stateless])
        for (const [key, entry] of map)
          if (entry.active === 0 && (victim === undefined || entry.lastUsedAt < victim.entry.lastUsedAt))
            victim = { map, key, entry };
      if (victim === undefined) return;
      victim.map.delete(victim.key);
      this.options.evicted();
      this.close(victim.entry, "the proxy holds too many sessions (--max-sessions)");
    }
  }

  /** An entry a newer handshake replaced: closed now if idle, else once its requests are done (see {@link replaced}). */
  private retire(previous: SessionEntry): void {
    if (previous.active > 0) this.replaced.add(previous);
    else this.close(previous, REPLACED);
  }

  private entry(exchange: SessionExchange): SessionEntry {
    const now = this.options.now();
    return { exchange, openedAt: now, lastUsedAt: now, active: 0, shared: false };
  }

  private close(entry: SessionEntry, reason: string): void {
    try {
      entry.exchange.close(reason);
    } finally {
      this.options.ended(this.options.now() - entry.openedAt);
    }
  }
}

/**
 * The stateless-era grouping rule: requests belong to one event session when they share the
 * principal (from the credential) if there is one, else the remote address, and the client's
 * name and version from `_meta["io.modelcontextprotocol/clientInfo"]`; a group unused for the
 * idle window starts afresh. A 2026-era request (one naming its client) has no handshake to
 * decide what it is shown: requests with and without a consent token (per-request mode) fall
 * into separate groups, so one client's consent never shows the proxy's additions to another's
 * requests, nor does a first request without one hide them from the consenting.
 */
export function statelessKey(context: RequestContext, clientInfo: unknown): string {
  const info = typeof clientInfo === "object" && clientInfo !== null ? (clientInfo as Record<string, unknown>) : {};
  const who =
    context.principal !== undefined ? `p:${principalKey(context.principal)}` : `a:${context.remoteAddress ?? "?"}`;
  const key = `${who}\u0000${String(info.name ?? "")}\u0000${String(info.version ?? "")}`;
  return info === clientInfo && context.consentToken === undefined ? `${key}\u0000unconsented` : key;
}
