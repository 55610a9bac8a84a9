// Plans the edit of one config file: what happens to each selected entry, the new text, and a proof that nothing else changed. Pure.

import { LocalError } from "../errors.ts";
import type { ConfigFormat } from "./config-locations.ts";
import {
  replaceEntryEdit,
  unwrapEntryEdits,
  unwrapEntryValue,
  wrapEntryEdits,
  wrapEntryValue,
  wrapRemoteEntryValue,
} from "./entry-edits.ts";
import { applyTextEdits, type TextEdit } from "./json-edits.ts";
import { parseJsonc, toPlainValue, type JsonNode } from "./jsonc.ts";
import { findServerEntries, isHandWrittenRemote, type ServerEntry } from "./server-entries.ts";

export type WrapMode = "wrap" | "unwrap";

/** What happened to one selected entry. `failed` entries are left as they are and make the run exit 1. */
export type EntryOutcome =
  | { readonly kind: "changed"; readonly entry: ServerEntry; readonly before: unknown; readonly after: unknown }
  | { readonly kind: "skipped"; readonly entry: ServerEntry; readonly reason: string }
  | { readonly kind: "failed"; readonly entry: ServerEntry; readonly reason: string };

export interface FilePlan {
  /** The file text after the edits (the input text when nothing changed). */
  readonly newText: string;
  readonly outcomes: readonly EntryOutcome[];
}

export interface FilePlanInput {
  readonly text: string;
  readonly root: JsonNode;
  /** The entries the user selected in this file (all of them with `--all`). */
  readonly selected: readonly ServerEntry[];
  readonly mode: WrapMode;
  readonly execPath: string;
  /** Entry path key → command, for entries the backup shows without `args` (see `readArgsHints`). */
  readonly argsHints?: ReadonlyMap<string, string>;
}

/**
 * Decides every selected entry and splices the edits into the text. Before returning, re-parses
 * the new text and checks it equals the old value with exactly the planned entries replaced;
 * throws (an internal error: write nothing) if not.
 */
export function planFileEdit(input: FilePlanInput): FilePlan {
  const { text, root, selected, mode, execPath } = input;
  const outcomes: EntryOutcome[] = [];
  const edits: TextEdit[] = [];
  const expected = toPlainValue(root);
  for (const entry of selected) {
    const { status } = entry;
    if (status.kind === "remote" && mode === "wrap" && status.target !== undefined) {
      // Through `baton-proxy --url`: the entry is replaced whole; its original text rides along for unwrap.
      const after = wrapRemoteEntryValue(
        entry.value,
        status.target,
        execPath,
        text.slice(entry.node.start, entry.node.end),
      );
      edits.push(replaceEntryEdit(entry, JSON.stringify(after)));
      setAtPath(expected, entry.path, after);
      outcomes.push({ kind: "changed", entry, before: entry.value, after });
    } else if (status.kind === "remote") {
      outcomes.push({
        kind: "skipped",
        entry,
        reason:
          mode === "wrap" ? `remote server (${status.reason}) that --url cannot carry, left as is` : "not wrapped",
      });
    } else if (mode === "wrap" && status.kind === "wrapped") {
      outcomes.push({ kind: "skipped", entry, reason: "already wrapped" });
    } else if (mode === "unwrap" && status.kind === "stdio") {
      outcomes.push({ kind: "skipped", entry, reason: "not wrapped" });
    } else if (mode === "wrap") {
      const after = wrapEntryValue(entry.value, execPath);
      edits.push(...wrapEntryEdits(text, entry, execPath));
      setAtPath(expected, entry.path, after);
      outcomes.push({ kind: "changed", entry, before: entry.value, after });
    } else if (status.kind === "wrapped" && status.remoteText !== undefined) {
      let after: unknown;
      try {
        after = toPlainValue(parseJsonc(status.remoteText));
        // Only an object was ever a server entry: an edited value ([1,2], a string) would put junk in its place.
        if (typeof after !== "object" || after === null || Array.isArray(after)) throw new Error("not an entry");
      } catch {
        outcomes.push({
          kind: "failed",
          entry,
          reason: `cannot unwrap: its ${"BATON_WRAPPED_REMOTE"} is not the original entry's JSON`,
        });
        continue;
      }
      edits.push(replaceEntryEdit(entry, status.remoteText));
      setAtPath(expected, entry.path, after);
      outcomes.push({ kind: "changed", entry, before: entry.value, after });
    } else if (status.kind === "wrapped" && status.original !== undefined) {
      const dropEmptyArgs = input.argsHints?.get(pathKey(entry.path)) === status.original.command;
      const after = unwrapEntryValue(entry.value, status.original, dropEmptyArgs);
      edits.push(...unwrapEntryEdits(text, entry, dropEmptyArgs));
      setAtPath(expected, entry.path, after);
      outcomes.push({ kind: "changed", entry, before: entry.value, after });
    } else if (isHandWrittenRemote(entry)) {
      // `baton-proxy --url …` written by hand (as the README shows): there is no other entry to go back to.
      outcomes.push({
        kind: "skipped",
        entry,
        reason: "a --url entry not made by wrap (no original entry kept): left as is",
      });
    } else {
      outcomes.push({ kind: "failed", entry, reason: `cannot unwrap: its args hold no server command` });
    }
  }
  if (edits.length === 0) return { newText: text, outcomes };
  const newText = applyTextEdits(text, edits);
  if (JSON.stringify(toPlainValue(parseJsonc(newText))) !== JSON.stringify(expected)) {
    throw new LocalError("E_WRAP", "internal error: the edited text does not match the planned change");
  }
  return { newText, outcomes };
}

/**
 * Reads the `.baton-backup` copy (the file before the first wrap) for stdio entries that had no
 * `args`, so unwrap can remove the `args` it would otherwise leave as `[]`. Returns an empty map
 * for a backup that is unreadable or has the wrong shape: the hint is a nicety, never required.
 */
export function readArgsHints(backupText: string, format: ConfigFormat, execPath: string): Map<string, string> {
  const hints = new Map<string, string>();
  try {
    for (const entry of findServerEntries(parseJsonc(backupText), format, execPath).entries) {
      if (entry.status.kind === "stdio" && !("args" in entry.value))
        hints.set(pathKey(entry.path), entry.value.command as string);
    }
  } catch {
    // An unparsable backup gives no hints; unwrap then keeps `"args": []`, which hosts treat the same.
  }
  return hints;
}

/** A map key for a JSON path (names may contain any character, so no ad-hoc joining). */
export function pathKey(path: readonly string[]): string {
  return JSON.stringify(path);
}

function setAtPath(root: unknown, path: readonly string[], value: unknown): void {
  let node = root as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined)
    Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
}
