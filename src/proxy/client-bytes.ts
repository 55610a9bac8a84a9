// A client line as it goes on to the server after the proxy's cuts (intent params out of calls, batch members it answered), from its bytes. Pure.

import { skipSpace } from "../wire/json-bytes.ts";
import {
  type Cut,
  elementsOf,
  isArrayAt,
  isObjectAt,
  type Member,
  membersOf,
  type Span,
  spanCuts,
  withCuts,
} from "../wire/json-cuts.ts";

/** What becomes of one message of a client line: sent as written, dropped (answered by the proxy), or sent without these `arguments` keys. */
export type MessageFate = "keep" | "drop" | { readonly strip: readonly string[] };

/**
 * The line (`batch`: an array, one fate per element; else one message, one fate) with the cuts
 * made in its bytes: every other byte stays as the client wrote it (`1.0`, 20-digit integers,
 * escapes, spaces), where re-serialising the parsed message would rewrite them. Undefined when
 * the cut is unsure (the text has not the shape the parsed message had, a key given in a way a
 * cut cannot tell, a member not found): the caller then sends the message re-serialised.
 */
export function cutClientLine(raw: Uint8Array, fates: readonly MessageFate[], batch: boolean): Uint8Array | undefined {
  const start = skipSpace(raw, 0);
  const cuts: Cut[] = [];
  if (!batch) {
    const fate = fates[0];
    if (fates.length !== 1 || typeof fate !== "object" || !isObjectAt(raw, start)) return undefined;
    return argumentCuts(raw, start, fate.strip, cuts) ? withCuts(raw, cuts) : undefined;
  }
  if (!isArrayAt(raw, start)) return undefined;
  const elements = elementsOf(raw, start);
  if (elements.length !== fates.length) return undefined;
  const dropped = new Set<number>();
  for (const [i, fate] of fates.entries()) {
    const at = (elements[i] as Span).at;
    if (fate === "drop") dropped.add(i);
    else if (typeof fate === "object" && !(isObjectAt(raw, at) && argumentCuts(raw, at, fate.strip, cuts)))
      return undefined;
  }
  cuts.push(...spanCuts(elements, dropped));
  return withCuts(raw, cuts);
}

/**
 * Adds the cuts of `keys` from the `params.arguments` of the message at `at`; false when unsure:
 * `params` or `arguments` given twice or not an object, or a key not found (it was in the parsed
 * message, so the text holds it some way the scan did not read).
 */
function argumentCuts(raw: Uint8Array, at: number, keys: readonly string[], cuts: Cut[]): boolean {
  const params = only(membersOf(raw, at), "params");
  if (params === undefined || !isObjectAt(raw, params.valueAt)) return false;
  const args = only(membersOf(raw, params.valueAt), "arguments");
  if (args === undefined || !isObjectAt(raw, args.valueAt)) return false;
  const members = membersOf(raw, args.valueAt);
  const gone = new Set<number>();
  for (const key of keys) {
    const before = gone.size;
    members.forEach((member, k) => {
      if (member.key === key) gone.add(k);
    });
    if (gone.size === before) return false;
  }
  cuts.push(...spanCuts(members, gone));
  return true;
}

/** The one member named `key`; undefined when there is none or more than one. */
function only(members: readonly Member[], key: string): Member | undefined {
  const named = members.filter((member) => member.key === key);
  return named.length === 1 ? named[0] : undefined;
}

/**
 * The message (one, not a batch) with `params._meta[key]` set to the JSON text `valueText`, made in
 * its bytes: an existing member's value replaced (every copy of a key given twice), else the
 * member put first in `_meta`, else a `_meta` holding it put first in `params`. Undefined when
 * unsure (no `params` object, `params` or `_meta` given twice, `_meta` not an object).
 */
export function withMetaMember(raw: Uint8Array, key: string, valueText: string): Uint8Array | undefined {
  const start = skipSpace(raw, 0);
  if (!isObjectAt(raw, start)) return undefined;
  const params = only(membersOf(raw, start), "params");
  if (params === undefined || !isObjectAt(raw, params.valueAt)) return undefined;
  const inParams = membersOf(raw, params.valueAt);
  const member = JSON.stringify(key);
  if (!inParams.some((m) => m.key === "_meta")) {
    const comma = inParams.length > 0 ? "," : "";
    return withCuts(raw, [[params.valueAt + 1, params.valueAt + 1, `"_meta":{${member}:${valueText}}${comma}`]]);
  }
  const meta = only(inParams, "_meta");
  if (meta === undefined || !isObjectAt(raw, meta.valueAt)) return undefined;
  const inMeta = membersOf(raw, meta.valueAt);
  const given = inMeta.filter((m) => m.key === key);
  if (given.length > 0)
    return withCuts(
      raw,
      given.map((m): Cut => [m.valueAt, m.valueEnd, valueText]),
    );
  const comma = inMeta.length > 0 ? "," : "";
  return withCuts(raw, [[meta.valueAt + 1, meta.valueAt + 1, `${member}:${valueText}${comma}`]]);
}

/**
 * The message (one, not a batch) with every `params._meta[key]` member taken out of its bytes (the
 * same bytes when there is none). Undefined when unsure, as for {@link withMetaMember}.
 */
export function withoutMetaMember(raw: Uint8Array, key: string): Uint8Array | undefined {
  const start = skipSpace(raw, 0);
  if (!isObjectAt(raw, start)) return undefined;
  const params = only(membersOf(raw, start), "params");
  if (params === undefined || !isObjectAt(raw, params.valueAt)) return undefined;
  const meta = only(membersOf(raw, params.valueAt), "_meta");
  if (meta === undefined || !isObjectAt(raw, meta.valueAt)) return undefined;
  const members = membersOf(raw, meta.valueAt);
  const gone = new Set<number>();
  members.forEach((member, k) => {
    if (member.key === key) gone.add(k);
  });
  return withCuts(raw, spanCuts(members, gone));
}
