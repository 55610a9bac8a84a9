// Hints for configuration mistakes people make: the known variable a misspelt BATON_* name meant, one this mode does not read, the sink spelling that works. Pure.

import { type ConfigMode, UNREAD_VARIABLES } from "./config-variables.ts";

/** One remark per BATON_* name (any case) not in `known`, naming the closest known one when it is a likely typo. */
export function describeUnknownVariables(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): string[] {
  const names = new Set(known);
  const remarks: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.toUpperCase().startsWith("BATON_") || names.has(name)) continue;
    const closest = closestName(name.toUpperCase(), known);
    remarks.push(
      closest === undefined
        ? `unknown variable ${name} is ignored (known: ${known.join(", ")})`
        : `unknown variable ${name} is ignored: did you mean ${closest}?`,
    );
  }
  return remarks;
}

/** One remark per variable set (not blank) that `mode` does not read (UNREAD_VARIABLES); values are not quoted. */
export function describeUnreadVariables(env: Readonly<Record<string, string | undefined>>, mode: ConfigMode): string[] {
  const label = mode === "stdio" ? "the stdio proxy" : mode === "url" ? "--url" : "serve";
  return UNREAD_VARIABLES[mode]
    .filter(([name]) => (env[name] ?? "").trim() !== "")
    .map(([name, why]) => `${name} is set, but ${label} does not read it (${why}): ignored`);
}

/** What a sink entry that is not a URL was probably meant to be: `stderr` → `stderr:`, a bare absolute path → `file://…`. */
export function suggestSinkSpelling(entry: string): string | undefined {
  if (/^stderr:?$/i.test(entry)) return "stderr:";
  if (entry.startsWith("/")) return `file://${entry}`;
  if (/^[A-Za-z]:[\\/]/.test(entry)) return `file:///${entry.replaceAll("\\", "/")}`;
  return undefined;
}

/** The candidate within a small edit distance of `name` (a typo, a missing or extra letter or underscore). */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 5)) && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
