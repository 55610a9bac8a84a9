// Renders the `wrap --list` table and the "servers found" hint of usage errors. Pure: returns text, prints nothing.

import { printable } from "../log.ts";
import { displayPath, type ConfigLocation } from "./config-locations.ts";
import type { LoadedConfig } from "./load-configs.ts";
import { isHandWrittenRemote, type ServerEntry } from "./server-entries.ts";

/** The word(s) shown for an entry's state in listings. */
function describeStatus(entry: ServerEntry): string {
  switch (entry.status.kind) {
    case "stdio":
      return "not wrapped";
    case "wrapped":
      // The flag the entry runs: wrap writes --url-env (the URL kept in env); a hand-written entry may use either.
      if (entry.status.remoteText !== undefined) return `wrapped (remote, through ${urlFlag(entry)})`;
      if (isHandWrittenRemote(entry)) return `through ${urlFlag(entry)} (written by hand: unwrap leaves it)`;
      return entry.status.original === undefined ? "wrapped (no server command in args: cannot unwrap)" : "wrapped";
    case "remote":
      return entry.status.target === undefined
        ? `remote (skipped: ${entry.status.reason})`
        : `not wrapped (remote: ${entry.status.reason}; wrap uses --url-env)`;
  }
}

/** `--url-env` unless the entry's args hold `--url` alone (by hand, or by earlier versions of wrap). */
function urlFlag(entry: ServerEntry): string {
  const { args } = entry.value;
  return Array.isArray(args) && args.includes("--url") && !args.includes("--url-env") ? "--url" : "--url-env";
}

/**
 * `github`, or `db (project /home/me/app)` for a per-project entry of `.claude.json`. Printable: a
 * project's `.mcp.json` comes with a cloned repository, and its names must not drive the terminal.
 */
function describeEntryName(entry: ServerEntry): string {
  return printable(entry.project === undefined ? entry.name : `${entry.name} (project ${entry.project})`);
}

/** `~/.cursor/mcp.json (cursor)`: how a file is named in all output. */
export function describeFile(location: ConfigLocation, homeDir: string): string {
  return `${displayPath(location.path, homeDir)} (${location.client === "custom" ? "--config" : location.client})`;
}

/**
 * The `--list` output: per file, one line per server with its state; files with no servers say
 * so; known locations without a file are summed up in one trailing line.
 */
export function renderListing(
  loaded: readonly LoadedConfig[],
  missing: readonly ConfigLocation[],
  homeDir: string,
): string {
  const lines: string[] = [];
  for (const config of loaded) {
    lines.push(describeFile(config.location, homeDir));
    if (config.entries.length === 0) lines.push("  (no MCP servers)");
    const width = Math.max(0, ...config.entries.map((entry) => describeEntryName(entry).length));
    for (const entry of config.entries)
      lines.push(`  ${describeEntryName(entry).padEnd(width)}  ${printable(describeStatus(entry))}`);
  }
  if (loaded.length === 0) lines.push("No MCP client config files found.");
  if (missing.length > 0)
    lines.push(`Not present: ${missing.map((location) => describeFile(location, homeDir)).join(", ")}`);
  return `${lines.join("\n")}\n`;
}

/** `github, filesystem (~/.cursor/mcp.json); db (~/.claude.json)`: the servers a user could name. */
export function renderServersFound(loaded: readonly LoadedConfig[], homeDir: string): string {
  const groups = loaded
    .filter((config) => config.entries.length > 0)
    .map(
      (config) =>
        `${[...new Set(config.entries.map((entry) => printable(entry.name)))].join(", ")} (${displayPath(config.location.path, homeDir)})`,
    );
  return groups.length === 0 ? "none" : groups.join("; ");
}
