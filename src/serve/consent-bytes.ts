// Removes the `_meta` consent token from a request body's bytes, leaving every other byte as the client sent it. Pure.

import { scalarEnd, scanString, skipSpace } from "../wire/json-bytes.ts";
import { decodeUtf8 } from "../wire/jsonrpc.ts";

const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** One member of an object: where its key starts and where its value starts and ends. */
interface Member {
  readonly key: string;
  readonly keyAt: number;
  readonly valueAt: number;
  readonly valueEnd: number;
}

/**
 * `body` (a JSON-RPC message or batch JSON.parse accepts) without the member `key` of each
 * message's `params._meta`; a `_meta` left empty goes too (as the client would have sent the
 * request without the proxy). Re-serialising the parsed message instead would rewrite the rest:
 * `1.0` becomes `1`, integers beyond 2^53 lose digits, escapes are decoded.
 */
export function withoutMetaMember(body: Uint8Array, key: string): Uint8Array {
  const cuts: [number, number][] = [];
  const start = skipSpace(body, 0);
  if (body[start] === OPEN_BRACKET) {
    for (const element of elementsOf(body, start))
      if (body[element] === OPEN_BRACE) cutMessage(body, element, key, cuts);
  } else if (body[start] === OPEN_BRACE) {
    cutMessage(body, start, key, cuts);
  }
  if (cuts.length === 0) return body;
  cuts.sort((a, b) => a[0] - b[0]);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [from, to] of cuts) {
    parts.push(body.subarray(at, from));
    at = to;
  }
  parts.push(body.subarray(at));
  return Buffer.concat(parts);
}

function cutMessage(body: Uint8Array, at: number, key: string, cuts: [number, number][]): void {
  for (const params of membersOf(body, at)) {
    if (params.key !== "params" || body[params.valueAt] !== OPEN_BRACE) continue;
    const inParams = membersOf(body, params.valueAt);
    const metas = inParams.flatMap((member, index) => (member.key === "_meta" ? [index] : []));
    const inMetas = new Map<number, { members: Member[]; gone: Set<number> }>();
    const emptied = new Set<number>();
    for (const index of metas) {
      const meta = inParams[index] as Member;
      if (body[meta.valueAt] !== OPEN_BRACE) continue;
      const members = membersOf(body, meta.valueAt);
      const gone = new Set(members.flatMap((member, k) => (member.key === key ? [k] : [])));
      if (gone.size === members.length && gone.size > 0) emptied.add(index);
      else inMetas.set(index, { members, gone });
    }
    // `_meta` twice: JSON.parse reads the last; when that one goes, so do the others (else one would take its place).
    if (emptied.has(metas[metas.length - 1] as number)) for (const index of metas) emptied.add(index);
    for (const [index, { members, gone }] of inMetas) if (!emptied.has(index)) cuts.push(...memberCuts(members, gone));
    cuts.push(...memberCuts(inParams, emptied));
  }
}

/**
 * Byte ranges that remove members `gone` (not all of them) with their commas. Members before the
 * first kept one go with the separator after them; later ones with the separator before them.
 */
function memberCuts(members: readonly Member[], gone: ReadonlySet<number>): [number, number][] {
  if (gone.size === 0) return [];
  const firstKept = members.findIndex((_, k) => !gone.has(k));
  if (firstKept === -1) return [[(members[0] as Member).keyAt, (members[members.length - 1] as Member).valueEnd]];
  const cuts: [number, number][] = [];
  for (const k of gone) {
    if (k < firstKept) cuts.push([(members[k] as Member).keyAt, (members[k + 1] as Member).keyAt]);
    else cuts.push([(members[k - 1] as Member).valueEnd, (members[k] as Member).valueEnd]);
  }
  return cuts;
}

/** The members of the object whose `{` is at `at`, keys decoded. */
function membersOf(body: Uint8Array, at: number): Member[] {
  const members: Member[] = [];
  let i = skipSpace(body, at + 1);
  if (body[i] === CLOSE_BRACE) return members;
  for (;;) {
    const keyAt = i;
    const keyEnd = (scanString(body, i + 1) >>> 2) as number;
    const key = JSON.parse(decodeUtf8(body.subarray(keyAt, keyEnd))) as string;
    const valueAt = skipSpace(body, skipSpace(body, keyEnd) + 1); // past the colon
    const valueEnd = valueEndOf(body, valueAt);
    members.push({ key, keyAt, valueAt, valueEnd });
    i = skipSpace(body, valueEnd);
    if (body[i] !== COMMA) return members;
    i = skipSpace(body, i + 1);
  }
}

/** Where each element of the array whose `[` is at `at` starts. */
function elementsOf(body: Uint8Array, at: number): number[] {
  const elements: number[] = [];
  let i = skipSpace(body, at + 1);
  if (body[i] === CLOSE_BRACKET) return elements;
  for (;;) {
    elements.push(i);
    i = skipSpace(body, valueEndOf(body, i));
    if (body[i] !== COMMA) return elements;
    i = skipSpace(body, i + 1);
  }
}

/** Index just past the value at `at` (the body is valid JSON: containers are skipped by depth, strings whole). */
function valueEndOf(body: Uint8Array, at: number): number {
  const first = body[at];
  if (first === QUOTE) return scanString(body, at + 1) >>> 2;
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return scalarEnd(body, at);
  let depth = 0;
  for (let i = at; i < body.length; i++) {
    const byte = body[i];
    if (byte === QUOTE) i = (scanString(body, i + 1) >>> 2) - 1;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
    else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return body.length;
}
