// What the transforms keep of a request awaiting the server's answer (a tool call, a resource or prompt subject, a listing page) and the book such requests are kept in, by id. No I/O.

import type { IdKey } from "../wire/jsonrpc.ts";
import type { ListingWalk } from "./listing-walks.ts";

export interface PendingCall {
  readonly toolName: string;
  readonly callId: string;
  readonly meta: Record<string, unknown>;
  readonly userId: string | null;
  /** `input_required` answers so far (multi-round calls); counted in runtime_meta. */
  rounds: number;
}

/** A resources/prompts request being timed (its start event is out). */
export interface PendingSubject {
  readonly method: "resources/read" | "resources/list" | "prompts/get" | "prompts/list";
  /** The uri or prompt name; "" for lists. */
  readonly subject: string;
  readonly callId: string;
  readonly meta: Record<string, unknown>;
  readonly userId: string | null;
  /** `input_required` answers so far (multi-round reads and gets). */
  rounds: number;
}

export interface PendingRequest {
  readonly method: string;
  readonly startedAt: number;
  /** When the server last sent progress for it (its eviction clock runs from then): see pending.ts keepAlive. */
  readonly aliveAt?: number;
  /** A later round of a multi-round call: when it was sent (its eviction clock runs from then, its duration still from startedAt). */
  readonly sentAt?: number;
  /** `tools/list` without a cursor: the start of a (possibly paginated) listing. */
  readonly firstPage: boolean;
  /** A `tools/list`: the walk its page belongs to; undefined for a cursor no page of this session gave. */
  readonly walk?: ListingWalk;
  readonly call: PendingCall | undefined;
  readonly subject?: PendingSubject;
  /** A `tasks/get` / `tasks/result` about a task a tool call turned into. */
  readonly taskId?: string;
  /** Sent in the stateless era (its `_meta` carries the protocol version): answers the proxy builds take that shape. */
  readonly modern?: boolean;
  /** A `tools/list` whose events are not recorded (hosted per-request mode, no consent token). */
  readonly unrecorded?: boolean;
  /** A `tools/list`'s consent token (hosted per-request mode): see RequestFacts.recordedFor. */
  readonly recordedFor?: string;
}

/**
 * The bookkeeping of requests awaiting the server, by id as written (see IdKey): a session's own, or one exchange's of a
 * group of clients sharing a session (hosted stateless era: one POST), whose ids are unique only
 * within that exchange.
 */
export interface PendingBook {
  readonly pending: Map<IdKey, PendingRequest>;
  readonly evictedIds: Set<IdKey>;
  readonly answeredHere: Set<IdKey>;
}

export function createPendingBook(): PendingBook {
  return { pending: new Map(), evictedIds: new Set(), answeredHere: new Set() };
}
