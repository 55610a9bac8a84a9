// The request books of a shared session (serve's stateless groups): each exchange's requests apart, so clients reusing ids never close each other's calls.

import { usePendingBook, type PendingBook, type ProxyState } from "../proxy/transform.ts";
import type { Classified } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import type { RequestScope, WireAction } from "./engine-contract.ts";
import type { ListingContexts } from "./listing-contexts.ts";

export interface RequestScopes {
  /**
   * Runs `work` on `scope`'s requests. A scope left with none pending is forgotten here (its
   * exchange may still bring more): ids evicted from it are owed no answer by the engine, since
   * the exchange's transport answers its own requests.
   */
  run(scope: RequestScope, work: (listings: ListingContexts) => WireAction[]): WireAction[];
  /** Session-wide work (exit, sweep) on every book in turn. */
  every(work: () => WireAction[]): WireAction[];
  /** Every book with requests in flight: the session's own and each exchange's (the one in use included). */
  books(): PendingBook[];
  /**
   * The scope a client line goes to: a client's cancel names one of its own requests but reaches a
   * shared session on an exchange of its own, so it goes to the one exchange holding that id (to
   * none when several do); any other line stays in `scope`.
   */
  ofCancel(line: Classified, scope: RequestScope): RequestScope;
}

/** `own`: the session's own book, the one `state` holds when no exchange's is in use. */
export function createRequestScopes(state: ProxyState, own: RequestScope): RequestScopes {
  const scopes = new Set<RequestScope>();
  const run = (scope: RequestScope, work: (listings: ListingContexts) => WireAction[]): WireAction[] => {
    if (scope === own) return work(own.listings);
    scopes.add(scope);
    usePendingBook(state, scope.book);
    try {
      return work(scope.listings);
    } finally {
      usePendingBook(state, own.book);
      if (scope.book.pending.size === 0) scopes.delete(scope);
    }
  };
  return {
    run,
    every(work) {
      const wire = work();
      for (const scope of [...scopes]) wire.push(...run(scope, work));
      return wire;
    },
    books: () => [own.book, ...[...scopes].map((scope) => scope.book)],
    ofCancel(line, scope) {
      if (line.kind !== "message" || line.message.kind !== "notification") return scope;
      if (line.message.method !== "notifications/cancelled") return scope;
      const params = line.message.value.params;
      const id = isObject(params) ? params.requestId : undefined;
      if (typeof id !== "string" && typeof id !== "number") return scope;
      let holder: RequestScope | undefined;
      for (const other of [own, ...scopes]) {
        if (!other.book.pending.has(id)) continue;
        if (holder !== undefined) return scope;
        holder = other;
      }
      return holder ?? scope;
    },
  };
}
