// Bookkeeping of requests awaiting the server: bounded by count and age, closed on exit. No I/O.

import type { IdKey } from "../wire/jsonrpc.ts";
import { idOfKey, wireError, WIRE_ERROR } from "../wire/jsonrpc.ts";
import { failRounds } from "./multi-round.ts";
import { closeRequest } from "./resource-prompt-events.ts";
import {
  MAX_PENDING_REQUESTS,
  PENDING_MAX_AGE_MS,
  PENDING_TTL_MS,
  REWRITTEN_METHODS,
  type Action,
  type ProxyState,
} from "./proxy-state.ts";
import type { PendingRequest } from "./pending-book.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * Characters of the client's long strings (string ids, tool names, uris) the requests awaiting the
 * server may hold, and as many for the ids of evicted ones still owed an answer; beyond it the
 * oldest is evicted (forgotten). The count bound alone let 100 000 requests of 1 MiB ids each pin
 * 100 GB; 32 Mi characters is far beyond any real session's need.
 */
export const MAX_PENDING_CHARS = 32 * 1024 * 1024;
/** Strings up to this long are not counted (the count bound covers them): the common request costs no bookkeeping. */
const COUNTED_STRING_CHARS = 256;
/** Characters counted per map (a pending book's `pending` or `evictedIds`: the engine swaps books). */
const heldChars = new WeakMap<object, number>();
/**
 * The id of each pending request that carries a progress token, per `pending` map (the engine swaps
 * books): a server's `notifications/progress` names only the token (unique among requests in flight).
 */
const progressIds = new WeakMap<object, Map<string | number, IdKey>>();

/**
 * Pending requests keyed by a number id's text (`1.0`, digits beyond 2^53: see IdKey), per `pending`
 * map: while there are none, an answer whose id misses is looked for no further.
 */
const textKeyed = new WeakMap<object, number>();

/** The number a key stands for: itself, or the value of the text it holds; undefined for a string id. */
function numberOfKey(key: IdKey): number | undefined {
  if (typeof key === "number") return key;
  return key.charCodeAt(0) === 0 && key.charCodeAt(1) === 0x23 ? Number(key.slice(2)) : undefined;
}

/** True while some pending request is keyed by a number id's text (a fast path then leaves a missed answer to {@link untrackAnswered}). */
export function holdsTextKeys(state: ProxyState): boolean {
  return (textKeyed.get(state.pending) ?? 0) > 0;
}

function countTextKey(state: ProxyState, id: IdKey, by: number): void {
  if (typeof id === "string" && numberOfKey(id) !== undefined)
    textKeyed.set(state.pending, (textKeyed.get(state.pending) ?? 0) + by);
}

/**
 * The key of the pending request an answer with id `key` is for: the one whose id is written as the
 * answer's, else, for a number, the oldest whose id has that value; `key` itself when none is.
 * Servers that parse ids write them back as JavaScript does (`1.0` as `1`, digits beyond 2^53
 * rounded), and an upstream failure (`--url`, `serve`) names its requests by value: only when the
 * exact one is not pending is value enough.
 */
export function answeredKey(state: ProxyState, key: IdKey): IdKey {
  if (state.pending.has(key)) return key;
  const value = numberOfKey(key);
  if (value === undefined) return key;
  if (typeof key !== "number" && state.pending.has(value)) return value;
  if (!holdsTextKeys(state)) return key;
  for (const other of state.pending.keys()) if (typeof other === "string" && numberOfKey(other) === value) return other;
  return key;
}

/** Removes the request an answer with id `key` is for (see answeredKey). */
export function untrackAnswered(state: ProxyState, key: IdKey): PendingRequest | undefined {
  return untrack(state, answeredKey(state, key));
}

function progressTokenOf(request: PendingRequest): string | number | undefined {
  const token = (request.call?.meta ?? request.subject?.meta)?.progressToken;
  return typeof token === "string" || typeof token === "number" ? token : undefined;
}

/** True while some pending request has a progress token (else a progress notification need not be read). */
export function tracksProgress(state: ProxyState): boolean {
  return (progressIds.get(state.pending)?.size ?? 0) > 0;
}

/**
 * The server sent progress for `token`: its request's eviction clock restarts (MCP lets a receiver
 * reset its timeout on progress), as long as that keeps it within PENDING_MAX_AGE_MS of its start
 * (the maximum MCP asks for regardless of progress). It moves to the end of `pending`, which stays
 * ordered by last sign of life for the sweep (and the count bound evicts the longest silent first).
 */
export function keepAlive(state: ProxyState, token: unknown, now: number): void {
  if (typeof token !== "string" && typeof token !== "number") return;
  const id = progressIds.get(state.pending)?.get(token);
  const request = id === undefined ? undefined : state.pending.get(id);
  if (id === undefined || request === undefined) return;
  if (now - request.startedAt + PENDING_TTL_MS > PENDING_MAX_AGE_MS) return;
  state.pending.delete(id);
  state.pending.set(id, { ...request, aliveAt: now });
}

function longChars(value: unknown): number {
  return typeof value === "string" && value.length > COUNTED_STRING_CHARS ? value.length : 0;
}

function requestChars(id: IdKey, request: PendingRequest): number {
  return longChars(id) + longChars(request.call?.toolName) + longChars(request.subject?.subject);
}

/** Adds `chars` to what `map` holds; returns the new total. */
function addChars(map: object, chars: number): number {
  const total = (heldChars.get(map) ?? 0) + chars;
  if (chars !== 0) heldChars.set(map, total);
  return total;
}

/**
 * Ends every request still awaiting the server: the client gets a JSON-RPC error (so it is never
 * left waiting) and each tool call gets a `tool_call_error` of `errorType`.
 */
export function failPending(
  state: ProxyState,
  errorType: "upstream_exit" | "proxy_shutdown",
  reason: string,
  now: number,
): Action[] {
  const actions: Action[] = [];
  for (const [id, request] of state.pending) {
    actions.push({
      type: "send",
      to: "client",
      message: wireError(idOfKey(id), WIRE_ERROR.INTERNAL, reason),
    });
    closeRequest(state, request, errorType, reason, now, actions);
  }
  // Evicted requests were closed in events already; the client still waits for them.
  for (const id of state.evictedIds)
    actions.push({ type: "send", to: "client", message: wireError(idOfKey(id), WIRE_ERROR.INTERNAL, reason) });
  state.evictedIds.clear();
  heldChars.delete(state.evictedIds);
  failRounds(state, errorType, reason, now, actions);
  state.pending.clear();
  heldChars.delete(state.pending);
  progressIds.delete(state.pending);
  textKeyed.delete(state.pending);
  state.rewritablePending = 0;
  return actions;
}

export function track(state: ProxyState, id: IdKey, request: PendingRequest, now: number, actions: Action[]): void {
  const previous = untrack(state, id);
  if (previous !== undefined)
    closeRequest(
      state,
      previous,
      "evicted",
      "the client reused this request id before the server answered",
      now,
      actions,
    );
  state.pending.set(id, request);
  countTextKey(state, id, 1);
  const token = progressTokenOf(request);
  if (token !== undefined) {
    let ids = progressIds.get(state.pending);
    if (ids === undefined) progressIds.set(state.pending, (ids = new Map()));
    ids.set(token, id);
  }
  if (REWRITTEN_METHODS.has(request.method)) state.rewritablePending++;
  const max = state.options.maxPending ?? MAX_PENDING_REQUESTS;
  if (state.pending.size > max) {
    const [oldId, oldest] = state.pending.entries().next().value as [IdKey, PendingRequest];
    evict(state, oldId, oldest, `more than ${max} requests awaiting the server`, now, actions);
  }
  const chars = requestChars(id, request);
  if (chars === 0) return;
  // The newest request stays tracked, however long its strings (a line is at most the inspection cap).
  let total = addChars(state.pending, chars);
  while (total > MAX_PENDING_CHARS && state.pending.size > 1) {
    const [oldId, oldest] = state.pending.entries().next().value as [IdKey, PendingRequest];
    const why = "the requests awaiting the server hold more than 32 Mi characters of ids and names";
    evict(state, oldId, oldest, why, now, actions);
    total = heldChars.get(state.pending) ?? 0;
  }
}

/**
 * A request of a group BATON_CAPTURE leaves out: no events, but still tracked, so the client gets
 * its JSON-RPC error if the server exits before answering (never left waiting).
 */
export function trackUnobserved(state: ProxyState, id: IdKey, method: string, now: number, actions: Action[]): void {
  track(state, id, { method, startedAt: now, firstPage: false, call: undefined }, now, actions);
}

/** Removes a pending request, keeping the rewritable count true. */
export function untrack(state: ProxyState, id: IdKey): PendingRequest | undefined {
  const request = state.pending.get(id);
  if (request === undefined) {
    // answered late, cancelled or reused: nothing owed
    if (state.evictedIds.size > 0 && state.evictedIds.delete(id)) addChars(state.evictedIds, -longChars(id));
    return undefined;
  }
  state.pending.delete(id);
  countTextKey(state, id, -1);
  addChars(state.pending, -requestChars(id, request));
  const tokens = progressIds.get(state.pending);
  if (tokens !== undefined && tokens.size > 0) {
    const token = progressTokenOf(request);
    if (token !== undefined && tokens.get(token) === id) tokens.delete(token);
  }
  if (REWRITTEN_METHODS.has(request.method)) state.rewritablePending--;
  return request;
}

export function evict(
  state: ProxyState,
  id: IdKey,
  request: PendingRequest,
  why: string,
  now: number,
  actions: Action[],
): void {
  untrack(state, id);
  state.evictedIds.add(id);
  let chars = addChars(state.evictedIds, longChars(id));
  while (
    state.evictedIds.size > (state.options.maxPending ?? MAX_PENDING_REQUESTS) ||
    (chars > MAX_PENDING_CHARS && state.evictedIds.size > 1)
  ) {
    const oldest = state.evictedIds.values().next().value as IdKey;
    state.evictedIds.delete(oldest);
    chars = addChars(state.evictedIds, -longChars(oldest));
  }
  state.evicted++;
  closeRequest(
    state,
    request,
    "evicted",
    `${why}; the proxy stopped tracking this call (a late answer is still forwarded)`,
    now,
    actions,
  );
  // One line for the first eviction, then one per thousand: a stuck server must not flood the log.
  if (state.evicted === 1 || state.evicted % 1000 === 0) {
    actions.push({ type: "log", level: "warn", text: `stopped tracking ${state.evicted} request(s) so far: ${why}` });
  }
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(track, untrack);
