// Drives the pure transforms the way a transport does: a message (or its exact text) in as bytes, classified, with a clock reading; and the drafts the actions emit.

import { fromClient, fromServer, type Action, type EventDraft, type ProxyState } from "../../src/proxy/transform.ts";
import { classifyLine } from "../../src/wire/jsonrpc.ts";

/** A message as the bytes of one line (no newline); a string is taken as the line's text itself. */
export const encodeMessage = (value: unknown): Uint8Array =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

/** `message` from the client at `now`: the transforms' actions. */
export function client(state: ProxyState, message: unknown, now = 0): Action[] {
  const raw = encodeMessage(message);
  return fromClient(state, raw, classifyLine(raw), now);
}

/** `message` from the server at `now`: the transforms' actions. */
export function server(state: ProxyState, message: unknown, now = 0): Action[] {
  const raw = encodeMessage(message);
  return fromServer(state, raw, classifyLine(raw), now);
}

/** The event drafts among `actions`, in order. */
export const drafts = (actions: readonly Action[]): EventDraft[] =>
  actions.filter((a): a is Extract<Action, { type: "emit" }> => a.type === "emit").map((a) => a.draft);
