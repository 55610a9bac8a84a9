// Closes the request answered by a server line too long to inspect, from the line's first and last bytes. No I/O.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { callError, emit } from "./call-events.ts";
import { untrack } from "./pending.ts";
import { subjectError, subjectUninspected } from "./resource-prompt-events.ts";
import type { Action, ProxyState } from "./proxy-state.ts";
import { elapsedMs } from "./proxy-state.ts";

const HEAD_ID = /^\s*\{(?:\s*"jsonrpc"\s*:\s*"2\.0"\s*,)?\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")/;

/** `"id": <value>` as the last member of the outermost object: exactly one `}` may follow it. */
const TAIL_ID = /[{,]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*\r?$/;

const IS_ERROR_TRUE = /"isError"\s*:\s*true/;

/** A JSON string or integer, as the `jsonrpc` and `id` members hold. */
const SCALAR = String.raw`(?:"(?:[^"\\]|\\.)*"|-?\d+)`;
/** A top-level `"error": {` (nothing but `jsonrpc` and `id` before it), with its code when that comes first. */
const HEAD_ERROR = new RegExp(
  String.raw`^\s*\{(?:\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR}\s*,)*\s*"error"\s*:\s*\{(?:\s*"code"\s*:\s*(-?\d+))?`,
);
/** The error's code as its last member, the error object then followed only by `jsonrpc` and `id`. */
const TAIL_CODE = new RegExp(
  String.raw`"code"\s*:\s*(-?\d+)\s*\}(?:\s*,\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR})*\s*\}\s*\r?$`,
);

/** `jsonrpc_<code>` when the line is a JSON-RPC error answer (`jsonrpc_invalid` if its code cannot be read), else undefined. */
function errorTypeOf(head: string, tail: string): string | undefined {
  const error = HEAD_ERROR.exec(head);
  if (error === null) return undefined;
  const code = error[1] ?? TAIL_CODE.exec(tail)?.[1];
  return code === undefined ? "jsonrpc_invalid" : `jsonrpc_${code}`;
}

/**
 * A top-level `method` before the first nested value: the server's own request (or a notification),
 * whose id is in the server's id space, not an answer to the client's request of that id.
 */
const HEAD_METHOD = /^\s*\{[^{[]*"method"\s*:/;

/**
 * The id of a client request too long to send, from its first and last bytes (SDKs put `id` first
 * or last), so it can be answered; undefined for a notification, an answer to the server (its id is
 * the server's), or an id that cannot be read exactly (not found, or an integer beyond 2^53).
 */
export function requestIdOfLongLine(head: string, tail: string): JsonRpcId | undefined {
  if (!HEAD_METHOD.test(head)) return undefined;
  const match = HEAD_ID.exec(head) ?? TAIL_ID.exec(tail);
  if (match === null) return undefined;
  const id = JSON.parse(match[1] as string) as JsonRpcId;
  return typeof id === "number" && !Number.isSafeInteger(id) ? undefined : id;
}

/**
 * A server line too long to inspect (see MAX_LINE_BYTES) has already gone to the client. Its id
 * is read from its first or last bytes (SDKs put `id` first or last) so the request it answers
 * is closed: never answered twice, never reported as lost. The event says it was not inspected.
 */
export function fromServerLongLine(state: ProxyState, head: string, tail: string, size: number, now: number): Action[] {
  if (HEAD_METHOD.test(head)) return [];
  const match = HEAD_ID.exec(head) ?? TAIL_ID.exec(tail);
  if (match === null) return [];
  const id = JSON.parse(match[1] as string) as JsonRpcId;
  const request = untrack(state, id);
  if (request === undefined) return [];
  const note = `[baton-proxy: a ${Math.round(size / 1048576)} MiB answer, over the inspection limit; forwarded unchanged, not inspected]`;
  // A JSON-RPC error is an error whatever its size (a huge message or data): never recorded as a success.
  const errorType = errorTypeOf(head, tail);
  if (request.subject !== undefined)
    return [
      errorType === undefined
        ? subjectUninspected(state, request.subject, request.startedAt, now)
        : subjectError(state, request.subject, errorType, note, elapsedMs(request.startedAt, now)),
    ];
  if (request.call === undefined) {
    return request.method === "tools/list"
      ? [
          {
            type: "log",
            level: "warn",
            text: `a tools/list answer of ${size} bytes is too large to add the injected tools to; forwarded unchanged`,
          },
        ]
      : [];
  }
  if (errorType !== undefined) return [callError(state, request, errorType, note, now)];
  if (IS_ERROR_TRUE.test(tail) || IS_ERROR_TRUE.test(head)) return [callError(state, request, "tool_error", note, now)];
  return [
    emit(state, "tool_call_end", request.call, {
      tool_name: request.call.toolName,
      result: [{ type: "text", text: note }],
      duration_ms: elapsedMs(request.startedAt, now),
    }),
  ];
}
