// What a request is known by while it awaits its answer: its id as written (IdKey), made from a message, from an id's text, from a cancellation, and back into the id to write. Pure.

import type { ExactId, JsonRpcId, WireId } from "./jsonrpc.ts";

const RawJson = JSON as unknown as { rawJSON(text: string): ExactId; isRawJSON(value: unknown): value is ExactId };

/**
 * What a request is known by while it awaits its answer: its id as written, so ids one number
 * stands for (9007199254740993 and 9007199254740992, `1.0` and `1`, `-0` and `0`) stay apart. A
 * string id is itself, a number id its value when JSON.parse keeps its text, else U+0000 `#` and
 * its text; a string id starting with U+0000 gets one more in front, so no two ids share a key.
 * (An answer written back otherwise still finds its request by value: see pending.ts answeredKey.)
 */
export type IdKey = string | number;

const KEY_MARK = "\u0000";

/** The key of `id`, `idText` being a number id's text when JSON.parse changed it (see Message). */
export function idKey(id: JsonRpcId, idText: string | undefined): IdKey {
  if (typeof id === "number") return idText === undefined ? id : `${KEY_MARK}#${idText}`;
  return id.charCodeAt(0) === 0 ? `${KEY_MARK}${id}` : id;
}

/** The key of a request's or an answer's id (see IdKey). */
export function keyOf(message: { readonly id: JsonRpcId; readonly idText?: string }): IdKey {
  return idKey(message.id, message.idText);
}

/** The key of an id given as its JSON text (a string's with its quotes), as read from a line's edges. */
export function keyOfSource(source: string): IdKey {
  const id = JSON.parse(source) as JsonRpcId;
  return idKey(id, typeof id === "number" && String(id) !== source ? source : undefined);
}

/**
 * The key of the request a `notifications/cancelled` names by `requestId`; undefined when it names
 * none. `written` gives that requestId parsed keeping numbers as written (a `JSON.rawJSON` value
 * for one JSON.parse changed, see canonical-json.ts); it is asked only for a number.
 */
export function cancelledKey(requestId: unknown, written: () => unknown): IdKey | undefined {
  if (typeof requestId === "string") return idKey(requestId, undefined);
  if (typeof requestId !== "number") return undefined;
  const source = written();
  return RawJson.isRawJSON(source) ? keyOfSource(source.rawJSON) : requestId;
}

/** The id a key stands for, written as the peer wrote it. */
export function idOfKey(key: IdKey): WireId {
  if (typeof key === "number" || key.charCodeAt(0) !== 0) return key;
  return key.charCodeAt(1) === 0x23 ? RawJson.rawJSON(key.slice(2)) : key.slice(1);
}
