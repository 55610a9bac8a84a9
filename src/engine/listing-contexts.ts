// The request context of each `tools/list` in flight, so the surface snapshot its answer completes is stamped with it (hosted: its consent token).

import type { RequestContext } from "../telemetry/envelope.ts";
import type { Classified, JsonRpcId } from "../wire/jsonrpc.ts";

/** `tools/list` requests whose context is kept until answered; past this the oldest is forgotten. */
const MAX_LIST_CONTEXTS = 64;

export interface ListingContexts {
  /** Keeps `context` for each `tools/list` request the client line carries. */
  note(line: Classified, context: RequestContext): void;
  /** The context of the listing a server line answers, forgotten once taken (none for other lines). */
  take(line: Classified): RequestContext | undefined;
}

export function createListingContexts(): ListingContexts {
  const byId = new Map<JsonRpcId, RequestContext>();
  const messagesOf = (line: Classified) =>
    line.kind === "message" ? [line.message] : line.kind === "batch" ? line.members : [];
  return {
    note(line, context) {
      for (const message of messagesOf(line)) {
        if (message?.kind !== "request" || message.method !== "tools/list") continue;
        byId.delete(message.id);
        byId.set(message.id, context);
        // Unanswered listings must not pile up: the oldest go first.
        if (byId.size > MAX_LIST_CONTEXTS) byId.delete(byId.keys().next().value as JsonRpcId);
      }
    },
    take(line) {
      if (byId.size === 0) return undefined;
      for (const message of messagesOf(line)) {
        if (message?.kind !== "response" || message.id === null) continue;
        const context = byId.get(message.id);
        if (context === undefined) continue;
        byId.delete(message.id);
        return context;
      }
      return undefined;
    },
  };
}
