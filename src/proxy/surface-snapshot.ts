// Captures the server's surface (handshake facts + complete tool list, as received) and builds one surface_snapshot per distinct hash. Pure.

import type { SurfaceSnapshotPayload } from "../telemetry/event-types.ts";
import { canonicalHash, isPlainObject as isObject } from "./canonical-json.ts";
import { INTENT_PARAMS, type IntentParamMode } from "./intent-params.ts";
import { endsListing, type ListingWalk } from "./listing-walks.ts";

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
}

export function createSurfaceCapture(): SurfaceCapture {
  return { handshake: undefined, emitted: new Set() };
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
 * Adds one `tools/list` page (parsed keeping numbers) to its walk. When the page is the last,
 * returns the snapshot payload if its hash is new to this session. Error answers end the walk
 * without a snapshot.
 */
export function notePage(
  capture: SurfaceCapture,
  walk: ListingWalk,
  received: unknown,
  seam: SeamFacts,
): SurfaceSnapshotPayload | undefined {
  const result = isObject(received) && isObject(received.result) ? received.result : undefined;
  if (result === undefined || !Array.isArray(result.tools)) {
    walk.tools = undefined;
    return undefined;
  }
  if (walk.tools === undefined || capture.handshake === null) {
    walk.tools = undefined;
    return undefined;
  }
  walk.tools.push(...result.tools);
  if (walk.tools.length > MAX_SURFACE_TOOLS) {
    walk.tools = undefined;
    return undefined;
  }
  if (!endsListing(result.nextCursor)) return undefined;
  const tools = walk.tools;
  walk.tools = undefined;
  const handshake = capture.handshake ?? { server_info: null, capabilities: null, instructions: null };
  const surface = {
    server_info: handshake.server_info,
    capabilities: handshake.capabilities,
    instructions: handshake.instructions,
    tools,
  };
  if (seam.unrecorded === true) return undefined;
  const hash = canonicalHash(surface);
  // Per token in hosted per-request mode: the console keeps each token's events apart, so another's snapshot is not this one's.
  const key = seam.recordedFor === undefined ? hash : `${hash}\u0000${seam.recordedFor}`;
  if (capture.emitted.has(key)) return undefined;
  capture.emitted.add(key);
  if (capture.emitted.size > MAX_EMITTED_SURFACES)
    capture.emitted.delete(capture.emitted.values().next().value as string);
  return {
    surface_hash: hash,
    ...surface,
    tools: tools as Record<string, unknown>[],
    seam_augmentations: {
      injected_tools: [...seam.injectedTools].sort(),
      intent_param: seam.mode === "off" ? null : { names: [...INTENT_PARAMS].sort(), mode: seam.mode },
      instructions_suffix: seam.instructionsSuffix !== false,
    },
  };
}
