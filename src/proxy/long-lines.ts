// Closes the request answered by a server line too long to inspect, from the line's first and last bytes. No I/O.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { callError, emit } from "./call-events.ts";
import { untrack } from "./pending.ts";
import { subjectUninspected } from "./resource-prompt-events.ts";
import type { Action, ProxyState } from "./proxy-state.ts";
import { elapsedMs } from "./proxy-state.ts";

const HEAD_ID = /^\s*\{(?:\s*"jsonrpc"\s*:\s*"2\.0"\s*,)?\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")/;

/** `"id": <value>` as the last member of the outermost object: exactly one `}` may follow it. */
const TAIL_ID = /[{,]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*\}\s*\r?$/;

const IS_ERROR_TRUE = /"isError"\s*:\s*true/;

/**
 * A top-level `method` before the first nested value: the server's own request (or a notification),
 * whose id is in the server's id space, not an answer to the client's request of that id.
 */
const HEAD_METHOD = /^\s*\{[^{[]*"method"\s*:/;

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
  if (request.subject !== undefined) return [subjectUninspected(state, request.subject, request.startedAt, now)];
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
  if (IS_ERROR_TRUE.test(tail) || IS_ERROR_TRUE.test(head)) return [callError(state, request, "tool_error", note, now)];
  return [
    emit(state, "tool_call_end", request.call, {
      tool_name: request.call.toolName,
      result: [{ type: "text", text: note }],
      duration_ms: elapsedMs(request.startedAt, now),
    }),
  ];
}
