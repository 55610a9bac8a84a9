// Requests awaiting the server that end without their answer: the ones the upstream will never answer failed, the ones silent too long evicted. No I/O.

import type { IdKey } from "../wire/jsonrpc.ts";
import { idOfKey, wireError, WIRE_ERROR } from "../wire/jsonrpc.ts";
import { sweepRounds } from "./multi-round.ts";
import { answeredKey, evict, untrack } from "./pending.ts";
import { closeRequest } from "./resource-prompt-events.ts";
import { PENDING_TTL_MS, type Action, type ProxyState } from "./proxy-state.ts";

/**
 * Ends the requests `ids` (keys: see IdKey) that the upstream will never answer (`--url`: unreachable, HTTP 5xx,
 * timeout; `serve`: one POST got no answer while the session's other POSTs may still succeed):
 * each gets a JSON-RPC error naming the reason (`data["baton/error_type"]` = `errorType`), its tool
 * call a `tool_call_error` of `errorType` (a read, get or list its `*_error`); other requests stay pending. An id the proxy no longer
 * tracks is skipped (it may have been answered already), unless `answerUntracked`: a request whose
 * delivery failed was answered by nobody, even if it was evicted meanwhile. A null id (a refused
 * malformed request reusing the id of one in flight, `--url`) is answered with a null id, ending nothing.
 * `startedBefore`: only requests started at or before it are ended (a later one reused the id).
 */
export function failRequests(
  state: ProxyState,
  ids: readonly (IdKey | null)[],
  errorType: string,
  reason: string,
  now: number,
  answerUntracked = false,
  startedBefore?: number,
): Action[] {
  const actions: Action[] = [];
  for (const id of ids) {
    // A request that reuses the id of one this failure is about (started after it) is another's: left pending.
    if (startedBefore !== undefined && id !== null && (state.pending.get(id)?.startedAt ?? 0) > startedBefore) continue;
    if (id === null) {
      actions.push({
        type: "send",
        to: "client",
        message: wireError(null, WIRE_ERROR.INTERNAL, reason, { "baton/error_type": errorType }),
      });
      continue;
    }
    const key = answeredKey(state, id);
    const request = untrack(state, key);
    if (request === undefined && !answerUntracked) continue;
    actions.push({
      type: "send",
      to: "client",
      message: wireError(idOfKey(key), WIRE_ERROR.INTERNAL, reason, { "baton/error_type": errorType }),
    });
    // Tool calls and resource/prompt requests alike: every start gets its error.
    if (request !== undefined) closeRequest(state, request, errorType, reason, now, actions);
  }
  return actions;
}

/** Evicts requests older than `ttlMs` (called on a timer by the session). */
export function sweepPending(state: ProxyState, now: number, ttlMs: number = PENDING_TTL_MS): Action[] {
  const actions: Action[] = [];
  for (const [id, request] of state.pending) {
    const aliveAt = request.aliveAt ?? request.sentAt ?? request.startedAt;
    if (now - aliveAt < ttlMs) break; // insertion order = order of the last sign of life (see keepAlive)
    const seconds = Math.round(ttlMs / 1000);
    const why =
      request.aliveAt === undefined
        ? `no answer from the server after ${seconds} s`
        : `no answer or progress from the server for ${seconds} s (its last progress came ${Math.round((aliveAt - request.startedAt) / 1000)} s after the call)`;
    evict(state, id, request, why, now, actions);
  }
  sweepRounds(state, now, actions);
  return actions;
}
