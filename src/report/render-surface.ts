// The report's "Server surface" block: this session's surface hash, and how it differs from the previous session's in the same file. Pure; returns text.

import { formatPlural, renderCode } from "./markdown-text.ts";
import type { SurfaceDigest } from "./report-types.ts";
import { diffSurfaces } from "./surface-diff.ts";

/** Tool names listed per change kind; the rest are counted. */
export const MAX_NAMES_LISTED = 15;

/** The previous session of the same server in the same event file that recorded a surface. */
export interface PreviousSurface {
  readonly sessionId: string;
  readonly surface: SurfaceDigest;
}

export function renderSurface(
  current: SurfaceDigest | null,
  surfaceCount: number,
  previous: PreviousSurface | undefined,
): string | null {
  if (current === null) return null;
  const lines = ["### Server surface", ""];
  const during =
    surfaceCount > 1
      ? ` It changed ${formatPlural(surfaceCount - 1, "time")} during the session; this is the latest.`
      : "";
  lines.push(`${formatPlural(current.tools.size, "tool")}, surface ${renderCode(current.hash)}.${during}`);
  if (previous !== undefined) {
    const change = diffSurfaces(previous.surface, current);
    const them = `the previous session of this server in this file (${renderCode(previous.sessionId)})`;
    if (change === null) {
      lines.push("", `Same surface as ${them}.`);
    } else {
      lines.push("", `**Differs from ${them}**, whose surface was ${renderCode(previous.surface.hash)}:`, "");
      const names = (list: readonly string[]): string => {
        const shown = list
          .slice(0, MAX_NAMES_LISTED)
          .map((n) => renderCode(n))
          .join(", ");
        return list.length > MAX_NAMES_LISTED ? `${shown} and ${list.length - MAX_NAMES_LISTED} more` : shown;
      };
      if (change.added.length > 0) lines.push(`- Tools added: ${names(change.added)}`);
      if (change.removed.length > 0) lines.push(`- Tools removed: ${names(change.removed)}`);
      if (change.changed.length > 0)
        lines.push(`- Tools changed (description, schema or annotations): ${names(change.changed)}`);
      if (change.metaChanged) lines.push("- Server info, capabilities or instructions changed");
      if (change.redacted.length > 0 || change.metaRedacted) {
        const what = [
          ...(change.redacted.length > 0 ? [names(change.redacted)] : []),
          ...(change.metaRedacted ? ["server info, capabilities or instructions"] : []),
        ];
        lines.push(`- Not compared, stored redacted by the Python proxy: ${what.join("; ")}`);
      }
      const unsaid = change.redacted.length === 0 && !change.metaRedacted;
      if (change.added.length + change.removed.length + change.changed.length === 0 && !change.metaChanged && unsaid) {
        lines.push(
          "- No difference in what the event file keeps (the hashes cover the surface as the server wrote it, e.g. `1.0` vs `1`)",
        );
      }
    }
  }
  return lines.join("\n");
}
