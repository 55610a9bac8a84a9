// A session's server surface digested from its surface_snapshot, and what changed against another session's. Pure.

import { canonicalHash } from "../proxy/canonical-json.ts";
import { isObject, readText } from "./fold-values.ts";
import type { SurfaceDigest } from "./report-types.ts";

/** Tool names kept per surface; a larger listing is digested by its first ones (the hash still covers all). */
export const MAX_SURFACE_TOOLS = 2_000;

/** Digests a surface_snapshot payload; null when it has no surface_hash. */
export function digestSurface(payload: Record<string, unknown>): SurfaceDigest | null {
  const hash = readText(payload.surface_hash);
  if (hash === null) return null;
  const info = isObject(payload.server_info) ? payload.server_info : {};
  const name = readText(info.name);
  const version = readText(info.version);
  const tools = new Map<string, string>();
  for (const tool of Array.isArray(payload.tools) ? payload.tools : []) {
    if (tools.size >= MAX_SURFACE_TOOLS) break;
    if (isObject(tool) && typeof tool.name === "string") tools.set(tool.name, canonicalHash(tool));
  }
  return {
    hash,
    server: name === null ? null : version === null ? name : `${name} ${version}`,
    tools,
    meta: canonicalHash({
      server_info: payload.server_info ?? null,
      capabilities: payload.capabilities ?? null,
      instructions: payload.instructions ?? null,
    }),
  };
}

export interface SurfaceChange {
  readonly added: string[];
  readonly removed: string[];
  /** Same name, different definition (description, schemas, annotations…). */
  readonly changed: string[];
  /** Server info, capabilities or instructions differ. */
  readonly metaChanged: boolean;
}

/** What differs from `previous` to `current`; null when the surfaces are the same. */
export function diffSurfaces(previous: SurfaceDigest, current: SurfaceDigest): SurfaceChange | null {
  if (previous.hash === current.hash) return null;
  const added = [...current.tools.keys()].filter((name) => !previous.tools.has(name));
  const removed = [...previous.tools.keys()].filter((name) => !current.tools.has(name));
  const changed = [...current.tools]
    .filter(([name, digest]) => previous.tools.has(name) && previous.tools.get(name) !== digest)
    .map(([name]) => name);
  return { added, removed, changed, metaChanged: previous.meta !== current.meta };
}
