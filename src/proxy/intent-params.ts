// The injected `user_goal` / `expected_result` tool parameters: adding them to listed schemas, stripping and reading them from calls. Pure.

import type { IntentParamMode } from "../config.ts";
import type { JsonObject } from "../wire/jsonrpc.ts";
import { isPlainObject as isObject } from "./canonical-json.ts";

export type { IntentParamMode };

export const GOAL_PARAM = "user_goal";
export const EXPECTED_PARAM = "expected_result";
export const INTENT_PARAMS = [GOAL_PARAM, EXPECTED_PARAM] as const;

/** One sentence each, telling the model what to put there (and that it is not passed to the tool). */
export const INTENT_PARAM_DESCRIPTIONS: Record<(typeof INTENT_PARAMS)[number], string> = {
  user_goal:
    "One sentence on what the user is trying to get done with this call (their goal, not a restatement of the arguments); recorded for the server's maintainers, never passed to the tool.",
  expected_result:
    "One sentence on what a successful result looks like for the user, so a silent or thin failure can be told apart from success; recorded for the server's maintainers, never passed to the tool.",
};

/** Per tool: which of the two names the server defines itself (`native`: never injected, stripped or read); least recently listed first. */
export type IntentRegistry = Map<string, ReadonlySet<string>>;

/**
 * At most this many tool names are remembered in an {@link IntentRegistry}. Real servers list tens
 * to a few hundred tools; this leaves room for the largest and for renames over a long session,
 * while a server whose names change on every listing cannot grow a session's memory without
 * bound (an entry is ~100 bytes: well under a MiB). A name forgotten is only stripped as unlisted.
 */
export const MAX_INTENT_REGISTRY_NAMES = 4096;

/**
 * Adds the two parameters to every tool of a listing page that does not define them itself,
 * mutating the tool objects (the caller re-serialises the page). Tools whose `name` is not a
 * string, and `skip`ped names (the proxy's own tools), are left alone. Records each tool's
 * native names in `registry` (upserted: pages and re-lists only add or refresh entries).
 * Returns true when any schema changed.
 */
export function injectIntentParams(
  tools: unknown[],
  mode: IntentParamMode,
  registry: IntentRegistry,
  skip: (name: string) => boolean,
): boolean {
  if (mode === "off") return false;
  let changed = false;
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.name !== "string" || skip(tool.name)) continue;
    const schema = isObject(tool.inputSchema) ? tool.inputSchema : undefined;
    const properties = isObject(schema?.properties) ? schema.properties : undefined;
    const native = new Set(INTENT_PARAMS.filter((name) => properties !== undefined && Object.hasOwn(properties, name)));
    registry.delete(tool.name); // re-listed: now the most recently listed
    registry.set(tool.name, native);
    if (native.size === INTENT_PARAMS.length) continue;
    const target: JsonObject = schema ?? (tool.inputSchema = { type: "object" });
    const props: JsonObject = properties ?? (target.properties = {});
    for (const name of INTENT_PARAMS) {
      if (!native.has(name)) props[name] = { type: "string", description: INTENT_PARAM_DESCRIPTIONS[name] };
    }
    // `required` only advertises the goal; the proxy never refuses a call that leaves it out.
    if (mode === "required" && !native.has(GOAL_PARAM)) {
      if (Array.isArray(target.required)) {
        if (!target.required.includes(GOAL_PARAM)) target.required = [...target.required, GOAL_PARAM];
      } else {
        target.required = [GOAL_PARAM];
      }
    }
    changed = true;
  }
  return changed;
}

/**
 * Past {@link MAX_INTENT_REGISTRY_NAMES}, forgets the least recently listed names, but never one in
 * `keep` (the tools on the pages of the listing in progress: its earlier pages are still current),
 * so a single listing larger than the cap is remembered whole.
 */
export function forgetLeastRecentlyListed(
  registry: IntentRegistry,
  keep: ReadonlySet<unknown>,
  max = MAX_INTENT_REGISTRY_NAMES,
): void {
  for (const name of registry.keys()) {
    if (registry.size <= max) return;
    if (!keep.has(name)) registry.delete(name);
  }
}

export interface StrippedIntent {
  /** The non-blank `user_goal` string, if the agent gave one. */
  readonly intent: string | undefined;
  /** The non-blank `expected_result` string, if the agent gave one. */
  readonly expected: string | undefined;
  /** Any of the two names was removed from the arguments (the call must be re-serialised). */
  readonly stripped: boolean;
  /** The names removed. */
  readonly removed: readonly string[];
  /** The tool was never listed through this proxy, and a reserved name was stripped anyway. */
  readonly unlisted: boolean;
}

const NOTHING: StrippedIntent = {
  intent: undefined,
  expected: undefined,
  stripped: false,
  removed: [],
  unlisted: false,
};

/**
 * Removes the injected names from a call's `arguments` (mutating them) unless the tool defines
 * that name itself. A tool never listed through the proxy is stripped too: the names are ours,
 * and a server that did define them would have had them listed. Blank or non-string values are
 * stripped but not captured.
 */
export function stripIntentParams(
  args: unknown,
  toolName: string,
  mode: IntentParamMode,
  registry: IntentRegistry,
): StrippedIntent {
  if (mode === "off" || !isObject(args)) return NOTHING;
  const native = registry.get(toolName);
  const values: Partial<Record<(typeof INTENT_PARAMS)[number], string>> = {};
  const removed: string[] = [];
  for (const name of INTENT_PARAMS) {
    if (!Object.hasOwn(args, name) || native?.has(name)) continue;
    const value = args[name];
    delete args[name];
    removed.push(name);
    if (typeof value === "string" && value.trim() !== "") values[name] = value;
  }
  if (removed.length === 0) return NOTHING;
  return {
    intent: values.user_goal,
    expected: values.expected_result,
    stripped: true,
    removed,
    unlisted: native === undefined,
  };
}
