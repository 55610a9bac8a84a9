// Closes the request answered by a server line too long to inspect, and holds back a client call to our own tools that long, from the line's first and last bytes. No I/O.

import { MAX_LINE_BYTES } from "../wire/framing.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { exactId, keyOfSource, wireError, WIRE_ERROR } from "../wire/jsonrpc.ts";
import { callError, emit, userIdFor } from "./call-events.ts";
import { isInjected } from "./injection.ts";
import { resultIsErrorTrue } from "./long-line-is-error.ts";
import { track, trackUnobserved, untrackAnswered } from "./pending.ts";
import { subjectError, subjectUninspected } from "./resource-prompt-events.ts";
import type { Action, ProxyState } from "./proxy-state.ts";
import type { PendingCall } from "./pending-book.ts";
import { captures, elapsedMs } from "./proxy-state.ts";

/** A JSON string, or a number as a peer may write an id (`1`, `1.0`, `-0`, `1e3`): read whole, `1.5` is not `1`. */
const ID_VALUE = String.raw`"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`;

const HEAD_ID = new RegExp(String.raw`^\s*\{(?:\s*"jsonrpc"\s*:\s*"2\.0"\s*,)?\s*"id"\s*:\s*(${ID_VALUE})`);

/** After an id at a line's end: its `jsonrpc` member may still follow (`{"result":…,"id":5,"jsonrpc":"2.0"}`). */
const AFTER_TAIL_ID = String.raw`(?:\s*,\s*"jsonrpc"\s*:\s*"2\.0")?\s*\}\s*\r?$`;

/** `"id": <value>` as the last member of the outermost object but `jsonrpc`: exactly one `}` may follow them. */
const TAIL_ID = new RegExp(String.raw`[{,]\s*"id"\s*:\s*(${ID_VALUE})${AFTER_TAIL_ID}`);

/**
 * The id of a line from its tail's match, else its head's: an id the tail shows is the outermost
 * object's last member, so the one JSON.parse keeps should the line give its id twice.
 */
const lastId = (tail: RegExpExecArray | null, head: RegExpExecArray | null): RegExpExecArray | null => tail ?? head;

/** A JSON string or number, as the `jsonrpc` and `id` members hold. */
const SCALAR = `(?:${ID_VALUE})`;
/** A JSON number, whole: only one whose value is an integer is a JSON-RPC code (`-3.2e4` is -32000, `-32000.5` none). */
const NUMBER = String.raw`-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`;
/** A top-level `"error": {` (nothing but `jsonrpc` and `id` before it), with its code when that comes first. */
const HEAD_ERROR = new RegExp(
  String.raw`^\s*\{(?:\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR}\s*,)*\s*"error"\s*:\s*\{(?:\s*"code"\s*:\s*(${NUMBER}))?`,
);
/** The error's code as its last member, the error object then followed only by `jsonrpc` and `id`. */
const TAIL_CODE = new RegExp(
  String.raw`"code"\s*:\s*(${NUMBER})\s*\}(?:\s*,\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR})*\s*\}\s*\r?$`,
);

/** `jsonrpc_<code>` when the line is a JSON-RPC error answer (`jsonrpc_invalid` if its code cannot be read), else undefined. */
function errorTypeOf(head: string, tail: string): string | undefined {
  const error = HEAD_ERROR.exec(head);
  if (error === null) return undefined;
  const code = Number(error[1] ?? TAIL_CODE.exec(tail)?.[1]);
  return Number.isSafeInteger(code) ? `jsonrpc_${code}` : "jsonrpc_invalid";
}

/**
 * A top-level `method` before the first nested value: the server's own request (or a notification),
 * whose id is in the server's id space, not an answer to the client's request of that id.
 */
const HEAD_METHOD = /^\s*\{[^{[]*"method"\s*:/;

/**
 * A top-level `result` or `error` after nothing but `jsonrpc` and `id`, as every SDK writes an
 * answer. Without it a line is not taken for one: a server request whose `method` follows its
 * bulky `params` shows no method in its head, and its id would close the client's request.
 */
const HEAD_ANSWER = new RegExp(String.raw`^\s*\{(?:\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR}\s*,)*\s*"(?:result|error)"\s*:`);

/**
 * The id of a client request too long to send, from its first and last bytes (SDKs put `id` first
 * or last), so it can be answered; undefined for a notification, an answer to the server (its id is
 * the server's), or an id that cannot be read exactly (not found, or an integer beyond 2^53).
 */
export function requestIdOfLongLine(head: string, tail: string): JsonRpcId | undefined {
  if (!HEAD_METHOD.test(head)) return undefined;
  const match = lastId(TAIL_ID.exec(tail), HEAD_ID.exec(head));
  if (match === null) return undefined;
  const id = JSON.parse(match[1] as string) as JsonRpcId;
  return typeof id === "number" && !Number.isSafeInteger(id) ? undefined : id;
}

/**
 * A server line too long to inspect (see MAX_LINE_BYTES) has already gone to the client. Its id
 * is read from its first or last bytes (SDKs put `id` first or last) so the request it answers
 * is closed: never answered twice, never reported as lost. The event says it was not inspected,
 * and a result or error body replaced by that note counts as a value cut (`baton/truncated`), as
 * the start of a call over the cap does.
 */
export function fromServerLongLine(state: ProxyState, head: string, tail: string, size: number, now: number): Action[] {
  const source = answerIdSource(head, tail);
  if (source === undefined) return [];
  const request = untrackAnswered(state, keyOfSource(source));
  if (request === undefined) return [];
  const note = `[baton-proxy: a ${Math.round(size / 1048576)} MiB answer, over the inspection limit; forwarded unchanged, not inspected]`;
  // A JSON-RPC error is an error whatever its size (a huge message or data): never recorded as a success.
  const errorType = errorTypeOf(head, tail);
  if (request.subject !== undefined)
    return [
      errorType === undefined
        ? subjectUninspected(state, request.subject, request.startedAt, now)
        : subjectError(state, request.subject, errorType, note, elapsedMs(request.startedAt, now), 1),
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
  if (errorType !== undefined) return [callError(state, request, errorType, note, now, 1)];
  if (resultIsErrorTrue(head, tail)) return [callError(state, request, "tool_error", note, now, 1)];
  return [
    emit(
      state,
      "tool_call_end",
      request.call,
      {
        tool_name: request.call.toolName,
        result: [{ type: "text", text: note }],
        duration_ms: elapsedMs(request.startedAt, now),
      },
      1,
    ),
  ];
}

/**
 * `"method": <string>` as the outermost object's last member but `jsonrpc` and `id`. JSON.parse
 * keeps a key's last occurrence, and a message with a method is a request or a notification even
 * beside a `result` (as toMessage reads a short line): what the tail shows overrules the head.
 */
const TAIL_METHOD = new RegExp(
  String.raw`[{,]\s*"method"\s*:\s*("(?:[^"\\]|\\.)*")(?:\s*,\s*"(?:jsonrpc|id)"\s*:\s*${SCALAR})*\s*\}\s*\r?$`,
);

/** The id a server line too long to inspect answers, from its first and last bytes; undefined when it shows none (or is no answer). */
export function answerIdOfLongLine(head: string, tail: string): JsonRpcId | undefined {
  const source = answerIdSource(head, tail);
  return source === undefined ? undefined : (JSON.parse(source) as JsonRpcId);
}

/** That id's JSON text, as written. */
function answerIdSource(head: string, tail: string): string | undefined {
  if (!HEAD_ANSWER.test(head) || TAIL_METHOD.test(tail)) return undefined;
  const match = lastId(TAIL_ID.exec(tail), HEAD_ID.exec(head));
  return match === null ? undefined : (match[1] as string);
}

/** How a server line too long to inspect ends its request, from its edges: `jsonrpc_<code>` (an error), `tool_error` (isError), or undefined (a result). */
export function outcomeOfLongLine(head: string, tail: string): string | undefined {
  return errorTypeOf(head, tail) ?? (resultIsErrorTrue(head, tail) ? "tool_error" : undefined);
}

/** The start's only `params` key: the scrub walk's key for an object it cut, as the arguments were not read. */
const NOT_INSPECTED_KEY = "[truncated]";

/** A client request's top-level id before its first nested value (after `jsonrpc` and `method`, as Python SDKs write it). */
const CLIENT_HEAD_ID = new RegExp(
  String.raw`^\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"(?:[^"\\]|\\.)*"\s*,)*\s*"id"\s*:\s*(${ID_VALUE})`,
);
/** The id as the outermost object's last member but `jsonrpc` (the TypeScript SDK writes it last). */
const CLIENT_TAIL_ID = new RegExp(String.raw`[{,]\s*"id"\s*:\s*(${ID_VALUE})${AFTER_TAIL_ID}`);
/**
 * An object holding objects at most three deep and no braces in its strings: a request's `_meta`
 * (the 2026-07-28 era's carries the client's info, which may list icons). Its alternatives start
 * with different bytes, so matching never backtracks.
 */
const META_OBJECT = [1, 2, 3].reduce((inner) => String.raw`\{(?:[^{}]|${inner})*\}`, String.raw`\{[^{}]*\}`);

/**
 * Top-level scalar members, then `"params": {"name": …`: SDKs put the tool's name before its
 * arguments, after a `_meta` at most (the Python SDK writes `_meta` first when it has one).
 */
const HEAD_CALL = new RegExp(
  String.raw`^\s*\{((?:\s*"(?:jsonrpc|id|method)"\s*:\s*(?:${ID_VALUE})\s*,)*)\s*"params"\s*:\s*\{(?:\s*"_meta"\s*:\s*${META_OBJECT}\s*,)?\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")`,
);
const METHOD_MEMBER = /"method"\s*:\s*("(?:[^"\\]|\\.)*")/g;

/**
 * The tool a `tools/call` line names in its first bytes; undefined when they show no such call. The
 * method is the last one the head gives, or the one the tail shows (`tail`, once the line has ended):
 * JSON.parse, and so the server, keeps a key's last occurrence.
 */
function toolCalledInHead(head: string, tail = ""): string | undefined {
  const call = HEAD_CALL.exec(head);
  const method =
    call === null ? undefined : (TAIL_METHOD.exec(tail) ?? [...(call[1] as string).matchAll(METHOD_MEMBER)].at(-1));
  if (call === null || method === undefined) return undefined;
  try {
    return JSON.parse(method[1] as string) === "tools/call" ? (JSON.parse(call[2] as string) as string) : undefined;
  } catch {
    return undefined; // a bad escape: not a call we can read
  }
}

/**
 * A client line has just gone over the inspection cap; `head` is its first bytes. True when it
 * calls one of the proxy's own tools: the server does not know them, so the line must not reach
 * it (the transport drops its bytes and, at its end, hands its edges to fromClientLongLine).
 * Anything else goes on uninspected, as before.
 */
export function holdsClientLongLine(state: ProxyState, head: string): boolean {
  const tool = toolCalledInHead(head);
  return tool !== undefined && isInjected(state, tool);
}

/**
 * A client line over the inspection cap has ended. `held` (see holdsClientLongLine): answered here
 * with a JSON-RPC error. Otherwise it went to the server uninspected; a `tools/call` among them is
 * still tracked from its edges (tool name from the head, id from head or tail), so it gets its
 * events and, if the server never answers, its -32603: its start says it was not inspected (its
 * arguments are not read, nor are `user_goal`/`expected_result` stripped from them).
 */
export function fromClientLongLine(
  state: ProxyState,
  head: string,
  tail: string,
  size: number,
  held: boolean,
  now: number,
): Action[] {
  return held ? answerHeldCall(head, tail, size) : trackUninspectedCall(state, head, tail, size, now);
}

function trackUninspectedCall(state: ProxyState, head: string, tail: string, size: number, now: number): Action[] {
  const toolName = toolCalledInHead(head, tail);
  const match = toolName === undefined ? null : lastId(CLIENT_TAIL_ID.exec(tail), CLIENT_HEAD_ID.exec(head));
  if (toolName === undefined || match === null) return [];
  // Its key: the id as written (digits beyond 2^53, 1.0), so a server exit answers it so.
  const id = keyOfSource(match[1] as string);
  const actions: Action[] = [];
  if (!captures(state, "tools")) {
    trackUnobserved(state, id, "tools/call", now, actions);
  } else {
    const call: PendingCall = {
      toolName,
      callId: `c${state.nextCallId++}`,
      meta: {},
      userId: userIdFor(state, undefined, actions),
      rounds: 0,
    };
    track(state, id, { method: "tools/call", startedAt: now, firstPage: false, call }, now, actions);
    const note = `[baton-proxy: a ${Math.round(size / 1048576)} MiB request, over the ${MAX_LINE_BYTES / 1048576} MiB inspection limit; forwarded unchanged, not inspected]`;
    actions.push(
      emit(state, "tool_call_start", call, { tool_name: toolName, params: { [NOT_INSPECTED_KEY]: note } }, 1),
    );
  }
  return actions;
}

/** Answers a call held back by holdsClientLongLine with a JSON-RPC error (its id from the line's edges). */
function answerHeldCall(head: string, tail: string, size: number): Action[] {
  const tool = toolCalledInHead(head) ?? "the proxy's tool";
  const match = lastId(CLIENT_TAIL_ID.exec(tail), CLIENT_HEAD_ID.exec(head));
  const what = `a ${tool} call of ${size} bytes, over the ${MAX_LINE_BYTES / 1048576} MiB inspection limit`;
  if (match === null)
    return [{ type: "log", level: "warn", text: `${what}, was not forwarded; its id could not be read to answer it` }];
  const idText = match[1] as string;
  const text = `${tool} was not recorded: the request is ${Math.round(size / 1048576)} MiB, over the proxy's ${MAX_LINE_BYTES / 1048576} MiB limit for one message; nothing was read or forwarded (keep it short)`;
  return [
    { type: "log", level: "warn", text: `${what}, was answered with an error, not forwarded` },
    {
      type: "send",
      to: "client",
      message: wireError(exactId(JSON.parse(idText) as JsonRpcId, idText), WIRE_ERROR.INVALID_PARAMS, text),
    },
  ];
}
