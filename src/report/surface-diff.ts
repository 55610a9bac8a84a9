// A session's server surface digested from its surface_snapshot, and what changed against another session's. Pure.

import { canonicalHash } from "../proxy/canonical-json.ts";
import { isObject, readText } from "./fold-values.ts";
import type { SurfaceDigest } from "./report-types.ts";

/** Tool names kept per surface; a larger listing is digested by its first ones (the hash still covers all). */
export const MAX_SURFACE_TOOLS = 2_000;

/**
 * The digest of a stored definition holding the Python proxy's redaction marker: upstream scrubs its
 * snapshot after hashing (an `email` property's leaves, an address in a description), so what it
 * stored is not what the server listed and cannot be compared. Ours never redacts a snapshot.
 */
export const REDACTED_DIGEST = "redacted";
const PYTHON_REDACTION = "[REDACTED:";

function digestOf(value: unknown): string {
  return JSON.stringify(value).includes(PYTHON_REDACTION) ? REDACTED_DIGEST : canonicalHash(value);
}

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
    if (isObject(tool) && typeof tool.name === "string") tools.set(tool.name, digestOf(tool));
  }
  return {
    hash,
    server: name === null ? null : version === null ? name : `${name} ${version}`,
    tools,
    meta: digestOf({
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
  /** Same name, but one side was stored redacted by the Python proxy: not compared. */
  readonly redacted: string[];
  /** Server info, capabilities or instructions were stored redacted on one side: not compared. */
  readonly metaRedacted: boolean;
}

/** What differs from `previous` to `current`; null when the surfaces are the same. */
export function diffSurfaces(previous: SurfaceDigest, current: SurfaceDigest): SurfaceChange | null {
  if (previous.hash === current.hash) return null;
  const added = [...current.tools.keys()].filter((name) => !previous.tools.has(name));
  const removed = [...previous.tools.keys()].filter((name) => !current.tools.has(name));
  const differing = [...current.tools].filter(
    ([name, digest]) => previous.tools.has(name) && previous.tools.get(name) !== digest,
  );
  const unsure = (digest: string | undefined): boolean => digest === REDACTED_DIGEST;
  const changed = differing.filter(([name, digest]) => !unsure(digest) && !unsure(previous.tools.get(name)));
  const redacted = differing.filter(([name, digest]) => unsure(digest) || unsure(previous.tools.get(name)));
  const metaRedacted = unsure(previous.meta) || unsure(current.meta);
  return {
    added,
    removed,
    changed: changed.map(([name]) => name),
    metaChanged: previous.meta !== current.meta && !metaRedacted,
    redacted: redacted.map(([name]) => name),
    metaRedacted,
  };
}
