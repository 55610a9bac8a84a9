// A validating byte scan of one JSON-RPC line: whether JSON.parse would accept it, and the few facts the hot path needs (id, method, a handful of keys under params/result), without decoding or parsing it.

import { CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "./json-codes.ts";
import { ESCAPED, matches, NON_ASCII, scalarEnd, scanString, shortInteger, skipSpace } from "./json-bytes.ts";
import { asciiText } from "./line-scan.ts";
import {
  ARGUMENTS,
  COMPLETE,
  CONTENT,
  ERROR,
  FACT,
  ID,
  IS_ERROR,
  METHOD,
  NAME,
  NONE,
  PARAMS,
  PARAMS_META,
  RESULT,
  RESULT_TYPE,
  innerFlag,
  keyOf,
} from "./line-fact-keys.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export { FACT } from "./line-fact-keys.ts";

/** What the scan read from a line it fully validated. */
export interface LineFacts {
  /** Top-level `id`: undefined when absent (only plain strings and short integers are read; others make the scan give up). */
  readonly id: string | number | null | undefined;
  readonly method: string | undefined;
  readonly hasResult: boolean;
  readonly hasError: boolean;
  /** `result` is an object (the transforms read its members only then). */
  readonly resultIsObject: boolean;
  /** `params.name` when a plain string (ASCII, no escapes). */
  readonly name: string | undefined;
  /** Bits of {@link FACT}. */
  readonly flags: number;
  /** Where `params.arguments` is in the line (start, end), -1 when absent; and whether it is an object. */
  readonly argumentsAt: number;
  readonly argumentsEnd: number;
  readonly argumentsIsObject: boolean;
  /** Where `result` (when an object) and its `content` are in the line, -1 when absent. */
  readonly resultAt: number;
  readonly resultEnd: number;
  readonly contentAt: number;
  readonly contentEnd: number;
  readonly contentIsArray: boolean;
  /** Where `params._meta` is in the line, -1 when absent; and whether it is an object. */
  readonly metaAt: number;
  readonly metaEnd: number;
  readonly metaIsObject: boolean;
}

/** Longer lines are left to the parser (the transports inspect large ones in idle turns anyway). */
export const MAX_FACT_LINE_BYTES = 32 * 1024;
/** Deeper nesting is left to the parser (one bit per level records object or array). */
const MAX_DEPTH = 30;

/**
 * The facts of `body` (one line, without its newline) when it is exactly one JSON object that
 * JSON.parse accepts and whose top level is plain enough to read without it; undefined otherwise
 * (not JSON, a batch, escapes in top-level keys, an id that is not a plain string or short integer,
 * a method with escapes, a line over {@link MAX_FACT_LINE_BYTES}): the caller then parses.
 * One loop with its state in locals (this runs for nearly every line, so it must cost less than
 * the decode and parse it saves).
 */
export function scanLineFacts(body: Uint8Array): LineFacts | undefined {
  const end = body.length;
  if (end > MAX_FACT_LINE_BYTES) return undefined;
  let id: string | number | null | undefined;
  let method: string | undefined;
  let hasResult = false;
  let hasError = false;
  let resultIsObject = false;
  let name: string | undefined;
  let flags = 0;
  let seenTop = 0; // bit per top-level key (duplicates: JSON.parse keeps the last, we do not guess)
  let seenInner = 0; // bit per recorded key of params/result
  let depth = 0;
  let objects = 0; // bit d set: the container at depth d+1 is an object
  let section = NONE; // PARAMS or RESULT while inside that object at depth 2
  let member = NONE; // the key whose value comes next
  // Ranges of the values read later from the line's bytes (result at depth 1; arguments, content at depth 2).
  let argumentsAt = -1;
  let argumentsEnd = -1;
  let argumentsIsObject = false;
  let resultAt = -1;
  let resultEnd = -1;
  let contentAt = -1;
  let contentEnd = -1;
  let contentIsArray = false;
  let metaAt = -1;
  let metaEnd = -1;
  let metaIsObject = false;
  let rangeMember = NONE; // the recorded container directly under params/result that is open
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_BRACE) return undefined;
  // Each turn reads one value at `i` (after a key or in an array), or opens a container.
  let expectKey = false;
  for (;;) {
    i = skipSpace(body, i);
    if (expectKey) {
      // `i` at a key of the object at `depth`, or at its `}` right after `{`.
      if (body[i] !== QUOTE) return undefined;
      const scanned = scanString(body, i + 1);
      if (scanned < 0) return undefined;
      const keyEnd = (scanned >>> 2) - 1;
      member = NONE;
      if (depth === 1 || (depth === 2 && section !== NONE)) {
        if ((scanned & ESCAPED) !== 0) {
          if (depth === 1) return undefined; // a key with an escape could spell any of ours
          flags |= FACT.UNSURE;
        } else {
          member = keyOf(body, i + 1, keyEnd, depth === 1 ? NONE : section);
          if (member !== NONE) {
            const bit = 1 << member;
            if (depth === 1) {
              if ((seenTop & bit) !== 0) return undefined;
              seenTop |= bit;
            } else {
              if ((seenInner & bit) !== 0) flags |= FACT.UNSURE;
              seenInner |= bit;
            }
          }
        }
      }
      i = skipSpace(body, keyEnd + 1);
      if (body[i] !== COLON) return undefined;
      i = skipSpace(body, i + 1);
      expectKey = false;
    }
    // `i` at a value; `member` says what it is (NONE outside the recorded places).
    const byte = body[i];
    const valueAt = i;
    let valueEnd: number;
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (depth === MAX_DEPTH) return undefined;
      if (depth === 1) {
        section = byte === OPEN_BRACE && (member === PARAMS || member === RESULT) ? member : NONE;
        if (member === RESULT) {
          hasResult = true;
          resultIsObject = byte === OPEN_BRACE;
          if (resultIsObject) resultAt = i;
        } else if (member === ERROR) {
          hasError = true;
        } else if (member === PARAMS && byte === OPEN_BRACKET) {
          flags |= FACT.PARAMS_NOT_OBJECT;
        } else if (member === ID || member === METHOD) {
          return undefined; // an object or array id/method: the parser tells what that is
        }
      } else if (depth === 2 && section !== NONE) {
        rangeMember = member;
        if (member === ARGUMENTS) {
          argumentsAt = i;
          argumentsIsObject = byte === OPEN_BRACE;
        } else if (member === CONTENT) {
          contentAt = i;
          contentIsArray = byte === OPEN_BRACKET;
        } else if (member === PARAMS_META) {
          flags |= FACT.PARAMS_META;
          metaAt = i;
          metaIsObject = byte === OPEN_BRACE;
        } else {
          flags |= innerFlag(member);
        }
      }
      if (byte === OPEN_BRACE) objects |= 1 << depth;
      else objects &= ~(1 << depth);
      depth++;
      i = skipSpace(body, i + 1);
      if (body[i] === (byte === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
        depth--;
        valueEnd = i + 1;
        if (depth === 0) return undefined; // `{}`: no message
        if (depth === 2) rangeMember = NONE; // closed already: a later close at this depth (outside params/result) is not its end
      } else {
        member = NONE;
        expectKey = byte === OPEN_BRACE;
        continue;
      }
    } else {
      // A string or a scalar: a few members are read from the value itself; for the others only
      // their presence counts, the same for both kinds.
      let read = false;
      if (byte === QUOTE) {
        const scanned = scanString(body, i + 1);
        if (scanned < 0) return undefined;
        valueEnd = scanned >>> 2;
        if (member !== NONE) {
          const plain = (scanned & (ESCAPED | NON_ASCII)) === 0;
          read = true;
          if (member === ID || member === METHOD) {
            if (!plain) return undefined;
            const text = asciiText(body, i + 1, valueEnd - 1);
            if (member === ID) id = text;
            else method = text;
          } else if (member === NAME) {
            if (plain) name = asciiText(body, i + 1, valueEnd - 1);
            else flags |= FACT.UNSURE;
          } else if (member === RESULT_TYPE) {
            if (!plain || valueEnd - i - 2 !== COMPLETE.length || !matches(body, i + 1, COMPLETE))
              flags |= FACT.RESULT_SPECIAL;
          } else {
            read = false;
          }
        }
      } else {
        valueEnd = scalarEnd(body, i);
        if (valueEnd < 0) return undefined;
        if (member !== NONE) {
          read = true;
          if (member === ID) {
            if (byte === 0x6e) id = null;
            else {
              const integer = byte === 0x74 || byte === 0x66 ? undefined : shortInteger(body, i, valueEnd);
              // -0: the parse reads its text (JSON.parse makes it 0, another id).
              if (integer === undefined || (integer === 0 && byte === 0x2d)) return undefined;
              id = integer;
            }
          } else if (member === METHOD) {
            return undefined;
          } else if (member === IS_ERROR && byte === 0x74) {
            flags |= FACT.IS_ERROR_TRUE;
          } else {
            read = false;
          }
        }
      }
      if (member !== NONE && !read) {
        if (member === PARAMS) flags |= FACT.PARAMS_NOT_OBJECT;
        else if (member === RESULT) hasResult = true;
        else if (member === ERROR) hasError = true;
        else flags |= innerFlag(member);
      }
    }
    if (depth === 2 && member === PARAMS_META) {
      metaAt = valueAt;
      metaEnd = valueEnd;
    } else if (member === ARGUMENTS && depth === 2) {
      argumentsAt = valueAt;
      argumentsEnd = valueEnd;
    } else if (member === CONTENT && depth === 2) {
      contentAt = valueAt;
      contentEnd = valueEnd;
    } else if (member === RESULT && depth === 1 && resultIsObject) {
      resultEnd = valueEnd; // `{}`
    }
    // After a complete value: `,` or the container's end, possibly closing several containers.
    i = valueEnd;
    for (;;) {
      i = skipSpace(body, i);
      const next = body[i];
      const inObject = ((objects >> (depth - 1)) & 1) === 1;
      if (next === COMMA) {
        i++;
        expectKey = inObject;
        member = NONE;
        break;
      }
      if (next !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) return undefined;
      i++;
      depth--;
      if (depth === 0) {
        if (skipSpace(body, i) !== end) return undefined;
        return {
          id,
          method,
          hasResult,
          hasError,
          resultIsObject,
          name,
          flags,
          argumentsAt,
          argumentsEnd,
          argumentsIsObject,
          resultAt,
          resultEnd,
          contentAt,
          contentEnd,
          contentIsArray,
          metaAt,
          metaEnd,
          metaIsObject,
        };
      }
      if (depth === 2) {
        // a container directly under params/result ended
        if (rangeMember === ARGUMENTS) argumentsEnd = i;
        else if (rangeMember === CONTENT) contentEnd = i;
        else if (rangeMember === PARAMS_META) metaEnd = i;
        rangeMember = NONE;
      } else if (depth === 1) {
        if (section === RESULT) resultEnd = i;
        section = NONE;
      }
    }
  }
}
// The largest hot function: FTL spent ~120 ms of JIT CPU on it to scan ~25% faster (~90 ns a line).
keepOutOfFtl(scanLineFacts);
