// A client line as `--url` POSTs it: its body, the messages read from it, and the request ids its exchange must answer (the server's refusal answers the ones the junk policy could not accept). Pure; sends nothing.

import type { Classified, JsonRpcId, Message } from "../wire/jsonrpc.ts";
import { classifyLine, decodeUtf8, isObject } from "../wire/jsonrpc.ts";

/** One client line, read for its POST. */
export interface OutgoingLine {
  /** The line without its trailing newline (and carriage returns): the POST's body, POSTed unchanged. */
  readonly body: Uint8Array;
  readonly line: Classified;
  /** The JSON-RPC messages it carries (none for junk; a batch's accepted members). */
  readonly messages: readonly Message[];
  /** Every request id the exchange answers: the messages' requests, then the refused ones. */
  readonly ids: readonly JsonRpcId[];
  /** Requests the junk policy could not accept (alone or in a batch): the server's refusal is their answer. */
  readonly refused: readonly JsonRpcId[];
}

/**
 * Reads one client line (with or without its newline). Junk (not JSON-RPC) is kept, to be POSTed
 * unchanged like any line, so the server's refusal reaches a request among it rather than leaving it
 * unanswered; only a blank line gives undefined (it is dropped). Never throws.
 */
export function readOutgoingLine(raw: Uint8Array): OutgoingLine | undefined {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  const body = raw.subarray(0, end);
  const line = classifyLine(body);
  if (line.kind === "junk" && line.reason === "blank") return undefined;
  const messages =
    line.kind === "junk"
      ? []
      : line.kind === "message"
        ? [line.message]
        : line.members.filter((m): m is Message => m !== undefined);
  const ids = messages.flatMap((m) => (m.kind === "request" ? [m.id] : []));
  const refused: JsonRpcId[] = [];
  if (line.kind === "junk") refused.push(...refusedRequestId(parsedOrUndefined(body)));
  else if (line.kind === "batch")
    for (const [i, member] of line.members.entries())
      if (member === undefined) refused.push(...refusedRequestId(line.values[i]));
  ids.push(...refused);
  return { body, line, messages, ids, refused };
}

/**
 * The id of a request the junk policy could not accept (an object with a usable `id` and a `method`
 * that is not a string, alone or in a batch): the server refuses the line, and that refusal is its answer.
 */
function refusedRequestId(value: unknown): JsonRpcId[] {
  if (!isObject(value) || !("method" in value)) return [];
  const { id } = value;
  return typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id)) ? [id] : [];
}

function parsedOrUndefined(body: Uint8Array): unknown {
  try {
    return JSON.parse(decodeUtf8(body));
  } catch {
    return undefined;
  }
}
