// Captures the server's surface (handshake facts + complete tool list, as received) and builds one surface_snapshot per distinct hash. Pure.

import type { SurfaceSnapshotPayload } from "../telemetry/event-types.ts";
import { canonicalHash, isPlainObject as isObject } from "./canonical-json.ts";
import { INTENT_PARAMS, type IntentParamMode } from "./intent-params.ts";
import { endsListing, type ListingPage, type ListingWalk } from "./listing-walks.ts";

const MODERN_SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo";

/** Tools gathered over a paginated listing; a listing longer than this is not snapshotted. */
export const MAX_SURFACE_TOOLS = 10_000;
/**
 * Distinct surface hashes remembered per session, the oldest forgotten first: a server whose list
 * changes at every listing (tools made per task) must not grow the set for the session's life. A
 * surface older than that seen again is snapshotted again, once.
 */
export const MAX_EMITTED_SURFACES = 1024;

export interface SurfaceCapture {
  /**
   * From the latest initialize / server/discover result, as received (numbers as written); null
   * when that result could not be read (nested too deep): listings then get no snapshot until the
   * next handshake, rather than one claiming the server gave no info.
   */
  handshake:
    | {
        server_info: Record<string, unknown> | null;
        capabilities: Record<string, unknown> | null;
        instructions: string | null;
      }
    | null
    | undefined;
  /** Hashes already emitted in this session. */
  readonly emitted: Set<string>;
  /**
   * The last hashed listing: its handshake facts (the object itself), its pages' digests and its
   * hash. A listing of the same bytes under the same facts has that hash: re-listing a large surface
   * costs no canonical writing and no second parse (10 000 tools: ~90 ms and ~60 ms of CPU).
   */
  last: { readonly handshake: SurfaceCapture["handshake"]; readonly pages: string; readonly hash: string } | undefined;
}

export function createSurfaceCapture(): SurfaceCapture {
  return { handshake: undefined, emitted: new Set(), last: undefined };
}

/** Remembers the handshake facts of an initialize / server/discover result (parsed keeping numbers). */
export function noteHandshake(capture: SurfaceCapture, received: unknown): void {
  const result = isObject(received) && isObject(received.result) ? received.result : undefined;
  if (result === undefined) return;
  const info = isObject(result.serverInfo)
    ? result.serverInfo
    : isObject(result._meta) && isObject(result._meta[MODERN_SERVER_INFO_KEY])
      ? result._meta[MODERN_SERVER_INFO_KEY]
      : null;
  capture.handshake = {
    server_info: info as Record<string, unknown> | null,
    capabilities: isObject(result.capabilities) ? result.capabilities : null,
    instructions: typeof result.instructions === "string" ? result.instructions : null,
  };
}

export interface SeamFacts {
  readonly mode: IntentParamMode;
  /** The proxy's tools that this listing gets (names the server defines itself stay out). */
  readonly injectedTools: readonly string[];
  /** The client sees our paragraph after the server's instructions (defaults to true). */
  readonly instructionsSuffix?: boolean;
  /** The listing's last page came in a request whose events are not recorded: no snapshot, and its hash stays new. */
  readonly unrecorded?: boolean;
  /** Hosted per-request mode: the token the snapshot is recorded with; each token's record gets a surface once. */
  readonly recordedFor?: string;
}

/**
 * Adds one `tools/list` page to its walk: `result` is the answer's result (any parse: only its
 * shape, tool count and cursor are read), `page` its tools as received. When the page is the last,
 * returns the snapshot payload if its hash is new to this session. Error answers end the walk
 * without a snapshot.
 */
export function notePage(
  capture: SurfaceCapture,
  walk: ListingWalk,
  result: unknown,
  page: ListingPage,
  seam: SeamFacts,
): SurfaceSnapshotPayload | undefined {
  if (!isObject(result) || !Array.isArray(result.tools) || walk.pages === undefined || capture.handshake === null) {
    walk.pages = undefined;
    return undefined;
  }
  walk.pages.push(page);
  walk.toolCount += result.tools.length;
  if (walk.toolCount > MAX_SURFACE_TOOLS) {
    walk.pages = undefined;
    return undefined;
  }
  if (!endsListing(result.nextCursor)) return undefined;
  const pages = walk.pages;
  walk.pages = undefined;
  if (seam.unrecorded === true) return undefined;
  const handshake = capture.handshake ?? { server_info: null, capabilities: null, instructions: null };
  let tools: unknown[] | undefined;
  const surface = () => ({
    server_info: handshake.server_info,
    capabilities: handshake.capabilities,
    instructions: handshake.instructions,
    tools: (tools ??= pages.flatMap((p) => p.tools())),
  });
  const digests = pages.every((p) => p.digest !== undefined) ? pages.map((p) => p.digest).join(",") : undefined;
  const last = capture.last;
  const hash =
    digests !== undefined && last !== undefined && last.pages === digests && last.handshake === capture.handshake
      ? last.hash
      : canonicalHash(surface());
  capture.last = digests === undefined ? undefined : { handshake: capture.handshake, pages: digests, hash };
  // Per token in hosted per-request mode: the console keeps each token's events apart, so another's snapshot is not this one's.
  const key = seam.recordedFor === undefined ? hash : `${hash}\u0000${seam.recordedFor}`;
  if (capture.emitted.has(key)) return undefined;
  capture.emitted.add(key);
  if (capture.emitted.size > MAX_EMITTED_SURFACES)
    capture.emitted.delete(capture.emitted.values().next().value as string);
  return {
    surface_hash: hash,
    ...surface(),
    tools: tools as Record<string, unknown>[],
    seam_augmentations: {
      injected_tools: [...seam.injectedTools].sort(),
      intent_param: seam.mode === "off" ? null : { names: [...INTENT_PARAMS].sort(), mode: seam.mode },
      instructions_suffix: seam.instructionsSuffix !== false,
    },
  };
}
