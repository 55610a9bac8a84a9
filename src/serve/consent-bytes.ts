// Removes the `_meta` consent token from a request body's bytes, leaving every other byte as the client sent it. Pure.

import { skipSpace } from "../wire/json-bytes.ts";
import {
  type Cut,
  elementsOf,
  isArrayAt,
  isObjectAt,
  type Member,
  membersOf,
  spanCuts,
  withCuts,
} from "../wire/json-cuts.ts";
import { concatBytes } from "../wire/bytes.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { decodeUtf8, withoutBom } from "../wire/utf8.ts";
import { CONSENT_META_KEY, mayCarryMetaToken, stripConsentMeta } from "./consent.ts";

/**
 * `body` (a JSON-RPC message or batch JSON.parse accepts) without the member `key` of each
 * message's `params._meta`; a `_meta` left empty goes too (as the client would have sent the
 * request without the proxy). Re-serialising the parsed message instead would rewrite the rest:
 * `1.0` becomes `1`, integers beyond 2^53 lose digits, escapes are decoded.
 */
export function withoutMetaMember(body: Uint8Array, key: string): Uint8Array {
  const cuts: Cut[] = [];
  const start = skipSpace(body, 0);
  if (isArrayAt(body, start)) {
    for (const element of elementsOf(body, start))
      if (isObjectAt(body, element.at)) cutMessage(body, element.at, key, cuts);
  } else if (isObjectAt(body, start)) {
    cutMessage(body, start, key, cuts);
  }
  return withCuts(body, cuts);
}

function cutMessage(body: Uint8Array, at: number, key: string, cuts: Cut[]): void {
  for (const params of membersOf(body, at)) {
    if (params.key !== "params" || !isObjectAt(body, params.valueAt)) continue;
    const inParams = membersOf(body, params.valueAt);
    const metas = inParams.flatMap((member, index) => (member.key === "_meta" ? [index] : []));
    const inMetas = new Map<number, { members: Member[]; gone: Set<number> }>();
    const emptied = new Set<number>();
    for (const index of metas) {
      const meta = inParams[index] as Member;
      if (!isObjectAt(body, meta.valueAt)) continue;
      const members = membersOf(body, meta.valueAt);
      const gone = new Set(members.flatMap((member, k) => (member.key === key ? [k] : [])));
      if (gone.size === members.length && gone.size > 0) emptied.add(index);
      else inMetas.set(index, { members, gone });
    }
    // `_meta` twice: JSON.parse reads the last; when that one goes, so do the others (else one would take its place).
    if (emptied.has(metas[metas.length - 1] as number)) for (const index of metas) emptied.add(index);
    for (const [index, { members, gone }] of inMetas) if (!emptied.has(index)) cuts.push(...spanCuts(members, gone));
    cuts.push(...spanCuts(inParams, emptied));
  }
}

/**
 * A body passed through unparsed (the MCP path's near spellings, which an upstream may serve as its
 * MCP endpoint) without its messages' `_meta` consent token: the caller's credential, as on the MCP
 * path. Any other body, JSON or not, is returned as it is.
 */
export function withoutConsentMetaToken(body: Uint8Array): Uint8Array {
  if (!mayCarryMetaToken(body)) return body;
  // A byte order mark (RFC 8259 §8.1) is read past and kept: the body goes on as the client wrote it.
  const json = withoutBom(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(json));
  } catch {
    return body;
  }
  let carried = false;
  for (const message of Array.isArray(parsed) ? parsed : [parsed])
    if (isObject(message) && stripConsentMeta(message)) carried = true;
  if (!carried) return body;
  const cut = withoutMetaMember(json, CONSENT_META_KEY);
  return json === body ? cut : concatBytes([body.subarray(0, body.length - json.length), cut]);
}
