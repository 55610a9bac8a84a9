// The proxy's brain: pure message transforms `(state, message, now) -> actions`. No I/O, no clock, no randomness.
// State is updated in place (O(1) per message even with 100k calls in flight); everything else is returned as actions.

import type { Classified, JsonObject } from "../wire/jsonrpc.ts";
import { decodeUtf8 } from "../wire/jsonrpc.ts";
import { isPlainObject, parseKeepingNumbers } from "./canonical-json.ts";
import { cutClientLine, type MessageFate } from "./client-bytes.ts";
import { clientMessage } from "./client-message.ts";
import { plainAnswer, plainToolCall } from "./fast-path.ts";
import { endInvalidAnswer, endInvalidMember } from "./invalid-answers.ts";
import type { Action, ProxyState, RequestFacts } from "./proxy-state.ts";
import { observesServerMessage, receivedText, serverMessage } from "./server-message.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export {
  createProxyState,
  serverLinesPassUnchanged,
  usePendingBook,
  MAX_PENDING_REQUESTS,
  PENDING_MAX_AGE_MS,
  PENDING_TTL_MS,
} from "./proxy-state.ts";
export { createPendingBook } from "./pending-book.ts";
export type { Action, EventDraft, Principal, ProxyState, RequestFacts, Side, TransformOptions } from "./proxy-state.ts";
export type { PendingBook, PendingRequest } from "./pending-book.ts";
export { failPending } from "./pending.ts";
export { failRequests, sweepPending } from "./pending-failures.ts";
export { injectedResult } from "./injection.ts";
export { fromClientLongLine, fromServerLongLine, holdsClientLongLine } from "./long-lines.ts";

/**
 * A line from the client. `raw` is the line with its newline, forwarded when nothing changes.
 * `facts` are what the transport knows about this request (e.g. its principal in hosted mode).
 */
export function fromClient(
  state: ProxyState,
  raw: Uint8Array,
  line: Classified,
  now: number,
  facts?: RequestFacts,
): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    actions.push({ type: "forward", to: "server", bytes: raw });
  } else if (line.kind === "message") {
    if (plainToolCall(state, line.message, raw, now, facts, actions)) {
      actions.push({ type: "forward", to: "server", bytes: raw });
      return actions;
    }
    const disposition = clientMessage(
      state,
      line.message,
      receivedText(raw, undefined),
      now,
      raw.length,
      facts,
      actions,
    );
    if (disposition === "forward") actions.push({ type: "forward", to: "server", bytes: raw });
    else if (disposition !== "handled") {
      // The intent params cut from the line's bytes; re-serialised only when the cut is unsure.
      const cut = cutClientLine(raw, [disposition], false);
      actions.push(
        cut !== undefined
          ? { type: "forward", to: "server", bytes: cut }
          : {
              type: "send",
              to: "server",
              message: withoutArguments(raw, undefined, disposition.strip) ?? line.message.value,
            },
      );
    }
  } else {
    const fates: MessageFate[] = line.values.map((_, i) => {
      const member = line.members[i];
      const disposition =
        member === undefined
          ? "forward"
          : clientMessage(state, member, receivedText(raw, i), now, raw.length, facts, actions);
      return disposition === "forward" ? "keep" : disposition === "handled" ? "drop" : disposition;
    });
    if (fates.every((fate) => fate === "keep")) actions.push({ type: "forward", to: "server", bytes: raw });
    else if (fates.some((fate) => fate !== "drop")) {
      const cut = cutClientLine(raw, fates, true);
      actions.push(
        cut !== undefined
          ? { type: "forward", to: "server", bytes: cut }
          : { type: "send", to: "server", message: resentBatch(raw, line.values, fates) },
      );
    }
  }
  return actions;
}

/**
 * The batch again from its text when its bytes could not be cut: members sent on as they were
 * come from it with numbers as written (`1.0`, big integers), stripped calls without their keys.
 */
function resentBatch(raw: Uint8Array, values: readonly unknown[], fates: readonly MessageFate[]): unknown[] {
  const asWritten = lazyMembers(raw, values);
  return fates.flatMap((fate, i) =>
    fate === "drop" ? [] : fate === "keep" ? [asWritten(i)] : [withoutArguments(raw, i, fate.strip) ?? values[i]],
  );
}

/**
 * The call again from its text (numbers as the client wrote them: `1.0`, big integers) without
 * the `keys` of its arguments; undefined when the text does not have that shape (the caller then
 * sends the parsed message, already stripped).
 */
function withoutArguments(raw: Uint8Array, index: number | undefined, keys: readonly string[]): JsonObject | undefined {
  const parsed = parseKeepingNumbers(decodeUtf8(raw));
  const message = index === undefined ? parsed : Array.isArray(parsed) ? parsed[index] : undefined;
  if (!isPlainObject(message) || !isPlainObject(message.params) || !isPlainObject(message.params.arguments))
    return undefined;
  for (const key of keys) delete message.params.arguments[key];
  return message;
}

/** A line from the server. Responses to tracked requests are observed; a few are rewritten. */
export function fromServer(state: ProxyState, raw: Uint8Array, line: Classified, now: number): Action[] {
  const actions: Action[] = [];
  if (line.kind === "junk") {
    if (line.reason === "not_jsonrpc" && state.pending.size > 0) endInvalidAnswer(state, raw, now, actions);
    actions.push({ type: "forward", to: "client", bytes: raw });
  } else if (line.kind === "message") {
    if (plainAnswer(state, line.message, raw, now, actions)) {
      actions.push({ type: "forward", to: "client", bytes: raw });
      return actions;
    }
    // Most of a long stream is log and progress notifications: nothing to read in them (progress: see observesServerMethod).
    if (!observesServerMessage(line.message)) {
      actions.push({ type: "forward", to: "client", bytes: raw });
      return actions;
    }
    const out = serverMessage(state, line.message, receivedText(raw, undefined), now, raw.length, actions);
    actions.push(
      out === undefined ? { type: "forward", to: "client", bytes: raw } : { type: "send", to: "client", message: out },
    );
  } else {
    const rewritten = new Map<number, unknown>();
    line.members.forEach((member, i) => {
      if (member === undefined) return endInvalidMember(state, line.values[i], undefined, now, actions);
      const out = serverMessage(state, member, receivedText(raw, i), now, raw.length, actions);
      if (out !== undefined) rewritten.set(i, out);
    });
    if (rewritten.size === 0) actions.push({ type: "forward", to: "client", bytes: raw });
    else {
      // The other members as the server wrote them (numbers included), the rewritten ones replaced.
      const asWritten = lazyMembers(raw, line.values);
      const values = line.values.map((_, i) => (rewritten.has(i) ? rewritten.get(i) : asWritten(i)));
      actions.push({ type: "send", to: "client", message: values });
    }
  }
  return actions;
}

/**
 * Member `i` of a batch line parsed again from its text with numbers as written (`1.0`, big
 * integers: JSON.parse would change them when the batch is serialised again), parsed once, on
 * first use; the plain parsed value should the text not be an array.
 */
function lazyMembers(raw: Uint8Array, values: readonly unknown[]): (i: number) => unknown {
  let exact: unknown;
  return (i) => {
    exact ??= parseKeepingNumbers(decodeUtf8(raw));
    return Array.isArray(exact) ? exact[i] : values[i];
  };
}
// Once per line: straight-line code around allocations and runtime calls (DFG runs it about as fast),
// but it inlines much, so its FTL compile is among the largest (see runtime/jit-tiers.ts).
keepOutOfFtl(fromClient, fromServer);
