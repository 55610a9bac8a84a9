// Hints for configuration mistakes people make: the known variable a misspelt BATON_* name meant, one this mode does not read, the sink spelling that works. Pure.

import { type ConfigMode, KNOWN_VARIABLES, UNREAD_VARIABLES } from "./config-variables.ts";

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

/**
 * The non-fatal remarks on `env`: misspelt BATON_* names, variables `mode` does not read (none named when absent), a
 * static consent token per-request serve ignores (`staticToken`: BATON_CONSENT_TOKEN is set), BUN_OPTIONS. Values are not quoted.
 */
export function describeRemarks(
  env: Readonly<Record<string, string | undefined>>,
  mode: ConfigMode | undefined,
  perRequest: boolean,
  staticToken: boolean,
): string[] {
  // A misspelt name is most likely why a setting "did nothing": name it, beside any refusal too.
  const remarks = [
    ...describeUnknownVariables(env, KNOWN_VARIABLES),
    ...(mode === undefined ? [] : describeUnreadVariables(env, mode)),
  ];
  // Per-request mode takes each request's own token: a static one is no fallback for requests without one.
  if (perRequest && mode === "serve" && staticToken)
    remarks.push(
      "BATON_CONSENT_TOKEN is set, but BATON_CONSENT_MODE=per-request does not use it (each request brings its own; one without records no events): ignored",
    );
  // The binary is Bun: its runtime reads BUN_OPTIONS before our code runs (no build flag turns that
  // off), so a developer's `--preload` runs inside the proxy and may print on stdout. Too late to
  // refuse; naming it makes such a break explicable. The value is never quoted.
  if ((env.BUN_OPTIONS ?? "").trim() !== "")
    remarks.push(
      "BUN_OPTIONS is set: Bun applied it to this binary before the proxy started (a --preload there can write to stdout, which must carry only MCP messages); unset it for baton-proxy",
    );
  return remarks;
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
