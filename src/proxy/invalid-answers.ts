// Server lines that claim to answer a request without being a JSON-RPC answer (an id, no method, neither result nor error): that request ends at once, the line still goes to the client unchanged. Pure.

import { topLevelIdSource } from "../wire/id-source.ts";
import { decodeUtf8, idKey, isObject, keyOfSource, type IdKey } from "../wire/jsonrpc.ts";
import { untrackAnswered } from "./pending.ts";
import type { Action, ProxyState } from "./proxy-state.ts";
import { closeRequest } from "./resource-prompt-events.ts";

/**
 * The error type and body of such an ending. `jsonrpc_invalid` is already the kind of an answer the
 * client cannot read as JSON-RPC (an error without a code): no new kind for reports and spans.
 */
export const INVALID_ANSWER_TYPE = "jsonrpc_invalid";
export const INVALID_ANSWER_REASON =
  "the server's answer has neither result nor error (not JSON-RPC); forwarded unchanged";

/**
 * A server line the junk policy refused (`not_jsonrpc`): when it is an object answering a request
 * awaiting the server, without `result` or `error`, that request ends now as {@link INVALID_ANSWER_TYPE}
 * instead of waiting out the eviction bound (15 minutes) for an answer that has come and gone.
 */
export function endInvalidAnswer(state: ProxyState, raw: Uint8Array, now: number, actions: Action[]): void {
  const text = decodeUtf8(raw);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  endInvalidMember(state, value, topLevelIdSource(text), now, actions);
}

/**
 * {@link endInvalidAnswer} for one value (a batch's member the junk policy refused); `source`: its
 * id as written, when known (a number JSON.parse changes is otherwise matched by value).
 */
export function endInvalidMember(
  state: ProxyState,
  value: unknown,
  source: string | undefined,
  now: number,
  actions: Action[],
): void {
  const key = claimedKey(value, source);
  const request = key === undefined ? undefined : untrackAnswered(state, key);
  if (request !== undefined) closeRequest(state, request, INVALID_ANSWER_TYPE, INVALID_ANSWER_REASON, now, actions);
}

/** The key of the request `value` claims to answer: an object with a usable id, no method, neither result nor error. */
function claimedKey(value: unknown, source: string | undefined): IdKey | undefined {
  if (!isObject(value) || "method" in value || "result" in value || "error" in value) return undefined;
  const id = value.id;
  if (typeof id === "string") return idKey(id, undefined);
  if (typeof id !== "number" || !Number.isFinite(id)) return undefined;
  return source !== undefined && Object.is(Number(source), id) ? keyOfSource(source) : id;
}
