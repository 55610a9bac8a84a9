// Paginated `tools/list` walks: each walk's pages gathered apart, so two walks in flight at once never mix. Pure.

/** Walks waiting for their next page, by the cursor their last page gave; beyond this the oldest cursor is forgotten. */
export const MAX_WAITING_CURSORS = 64;

/** One paginated `tools/list` walk: what its pages brought so far. */
export interface ListingWalk {
  /** Server tool names on its pages so far (the proxy's tools stay out when the server has one of that name). */
  readonly names: Set<string>;
  /** Its pages so far, for the surface snapshot; undefined once the walk cannot be snapshotted. */
  pages: ListingPage[] | undefined;
  /** Tools on those pages. */
  toolCount: number;
}

/** One page of a walk as the surface snapshot needs it. */
export interface ListingPage {
  /** A digest of the page's `result` bytes as received: pages of equal digests hold the same tools (undefined: unknown). */
  readonly digest: string | undefined;
  /** The page's tools as received (numbers as written): parsed only when the listing's surface must be hashed or recorded. */
  tools(): unknown[];
}

/** Walks whose last page gave a cursor, oldest first; several walks may wait on the same cursor. */
export type WaitingWalks = Map<string, ListingWalk[]>;

export function startWalk(): ListingWalk {
  return { names: new Set(), pages: [], toolCount: 0 };
}

/**
 * The walk a request for the page at `cursor` continues, taken from those waiting (the one that
 * waited longest); undefined for a cursor no page this session gave (a cached or retried cursor).
 */
export function takeWalk(waiting: WaitingWalks, cursor: unknown): ListingWalk | undefined {
  if (typeof cursor !== "string") return undefined;
  const walks = waiting.get(cursor);
  const walk = walks?.shift();
  if (walks !== undefined && walks.length === 0) waiting.delete(cursor);
  return walk;
}

/**
 * True when a page's `nextCursor` says the listing is complete: absent, null, or empty. An empty
 * cursor ends it as upstream reads it (falsy) and as clients paginating `while (cursor)` stop.
 */
export function endsListing(nextCursor: unknown): boolean {
  return nextCursor === undefined || nextCursor === null || nextCursor === "";
}

/** Adds a page's tool names to its walk, and makes the walk wait for the page at `nextCursor`, if any. */
export function notePageNames(
  waiting: WaitingWalks,
  walk: ListingWalk,
  tools: readonly unknown[],
  nextCursor: unknown,
): void {
  for (const tool of tools)
    if (typeof tool === "object" && tool !== null && typeof (tool as { name?: unknown }).name === "string")
      walk.names.add((tool as { name: string }).name);
  if (typeof nextCursor !== "string" || nextCursor === "") return;
  const walks = waiting.get(nextCursor);
  if (walks !== undefined) {
    walks.push(walk);
    if (walks.length > MAX_WAITING_CURSORS) walks.shift();
    return;
  }
  waiting.set(nextCursor, [walk]);
  if (waiting.size > MAX_WAITING_CURSORS) waiting.delete(waiting.keys().next().value as string);
}
