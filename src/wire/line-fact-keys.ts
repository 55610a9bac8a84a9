// The vocabulary of the line scan: the FACT flags it reports, the keys it records (top level, params, result) and how a key's bytes are matched. Pure.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Set in `LineFacts.flags` (line-facts.ts): the line holds something the hot path must not guess about (it parses instead). */
export const FACT = {
  /** `params._meta` (client info, progress tokens, our own keys): see metaAt. */
  PARAMS_META: 1,
  /** `params.requestState` / `params.inputResponses` (one more round of a held call). */
  PARAMS_ROUND: 2,
  /** `result.task`, or a `result.resultType` other than "complete" (multi-round, tasks). */
  RESULT_SPECIAL: 4,
  /** `result.isError` is the literal `true`. */
  IS_ERROR_TRUE: 8,
  /** A key under params/result with an escape, or one of the keys above twice: could be anything. */
  UNSURE: 16,
  /** `params` is present but not an object. */
  PARAMS_NOT_OBJECT: 32,
  /** `result._meta` (the server's info, in the modern era). */
  RESULT_META: 64,
} as const;

// The member being read: a top-level key, a key of params/result, or nothing to record.
export const NONE = 0;
export const ID = 1;
export const METHOD = 2;
export const PARAMS = 3;
export const RESULT = 4;
export const ERROR = 5;
export const NAME = 6;
export const PARAMS_META = 7;
export const PARAMS_ROUND = 8;
export const IS_ERROR = 9;
export const RESULT_SPECIAL = 10;
export const ARGUMENTS = 11;
export const CONTENT = 12;
export const RESULT_META = 13;
export const RESULT_TYPE = 14;
/** `complete` as bytes: the one resultType the hot path reads past. */
export const COMPLETE = [0x63, 0x6f, 0x6d, 0x70, 0x6c, 0x65, 0x74, 0x65];

/** The flag a container value (or any value, for the keys whose mere presence counts) of a recorded params/result key sets. */
export function innerFlag(member: number): number {
  if (member === PARAMS_META) return FACT.PARAMS_META;
  if (member === RESULT_META) return FACT.RESULT_META;
  if (member === RESULT_TYPE) return FACT.RESULT_SPECIAL; // not a string: not "complete"
  if (member === PARAMS_ROUND) return FACT.PARAMS_ROUND;
  if (member === RESULT_SPECIAL) return FACT.RESULT_SPECIAL;
  return 0;
}

interface RecordedKey {
  readonly bytes: Uint8Array;
  readonly kind: number;
}
const keys = (entries: [string, number][]): readonly RecordedKey[] =>
  entries.map(([text, kind]) => ({ bytes: Uint8Array.from(text, (c) => c.charCodeAt(0)), kind }));
const TOP_KEYS = keys([
  ["id", ID],
  ["method", METHOD],
  ["params", PARAMS],
  ["result", RESULT],
  ["error", ERROR],
]);
const PARAMS_KEYS = keys([
  ["name", NAME],
  ["arguments", ARGUMENTS],
  ["_meta", PARAMS_META],
  ["requestState", PARAMS_ROUND],
  ["inputResponses", PARAMS_ROUND],
]);
const RESULT_KEYS = keys([
  ["isError", IS_ERROR],
  ["content", CONTENT],
  ["_meta", RESULT_META],
  ["resultType", RESULT_TYPE],
  ["task", RESULT_SPECIAL],
]);

/** The member kind of the key `start..stop` of the top level (`section` NONE), params or result; NONE when not recorded. */
export function keyOf(body: Uint8Array, start: number, stop: number, section: number): number {
  const candidates = section === NONE ? TOP_KEYS : section === PARAMS ? PARAMS_KEYS : RESULT_KEYS;
  const length = stop - start;
  for (let n = 0; n < candidates.length; n++) {
    const { bytes, kind } = candidates[n] as RecordedKey;
    if (bytes.length !== length || bytes[0] !== body[start]) continue;
    let k = 1;
    while (k < length && body[start + k] === bytes[k]) k++;
    if (k === length) return kind;
  }
  return NONE;
}
// Part of scanLineFacts (kept in DFG, which inlines it): no FTL compile of its own.
keepOutOfFtl(keyOf);
