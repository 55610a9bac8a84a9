// Where each MCP client keeps its server config, per OS, computed from home/cwd/platform/env. Pure: never touches the file system.

import path from "node:path";
import type { JsonNode } from "./jsonc.ts";

/** The clients `--client` accepts. */
export const CLIENT_NAMES = ["claude-desktop", "claude-code", "cursor", "vscode"] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

/**
 * How servers are laid out in a file: `mcpServers` (Claude Desktop, Cursor, `.mcp.json`),
 * `servers` (VS Code), or `claude-json` (`~/.claude.json`: top-level `mcpServers` plus
 * `projects[<path>].mcpServers`).
 */
export type ConfigFormat = "mcpServers" | "servers" | "claude-json";

export interface ConfigLocation {
  /** The client the file belongs to; `custom` for a file given with `--config`. */
  readonly client: ClientName | "custom";
  /** Absolute path. */
  readonly path: string;
  /** The layout; for `custom` files it is detected from the parsed keys (see `detectFormat`). */
  readonly format: ConfigFormat;
}

/** What the locations depend on (a subset of CommandContext, so tests pass plain objects). */
export interface LocationInputs {
  readonly homeDir: string;
  readonly cwd: string;
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** True when `name` is one of `CLIENT_NAMES`. */
export function isClientName(name: string): name is ClientName {
  return (CLIENT_NAMES as readonly string[]).includes(name);
}

/**
 * Every config file the known clients read, in a stable order, without duplicates (when cwd is
 * the home directory, `<cwd>/.cursor/mcp.json` is `~/.cursor/mcp.json`). Paths use the target
 * platform's separators, so a Windows layout can be computed (and tested) anywhere.
 */
export function knownConfigLocations(inputs: LocationInputs, client?: ClientName): ConfigLocation[] {
  const { homeDir, cwd, platform, env } = inputs;
  const p = platform === "win32" ? path.win32 : path.posix;
  const all: ConfigLocation[] = [
    { client: "claude-desktop", path: claudeDesktopPath(inputs), format: "mcpServers" },
    // Claude Code honours CLAUDE_CONFIG_DIR for its state file; the default is the home directory.
    {
      client: "claude-code",
      path: p.join(nonEmpty(env.CLAUDE_CONFIG_DIR) ?? homeDir, ".claude.json"),
      format: "claude-json",
    },
    { client: "claude-code", path: p.join(cwd, ".mcp.json"), format: "mcpServers" },
    { client: "cursor", path: p.join(homeDir, ".cursor", "mcp.json"), format: "mcpServers" },
    { client: "cursor", path: p.join(cwd, ".cursor", "mcp.json"), format: "mcpServers" },
    { client: "vscode", path: p.join(cwd, ".vscode", "mcp.json"), format: "servers" },
  ];
  const seen = new Set<string>();
  return all.filter((location) => {
    if (client !== undefined && location.client !== client) return false;
    const key = platform === "win32" || platform === "darwin" ? location.path.toLowerCase() : location.path;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Claude Desktop's `claude_desktop_config.json` for the platform (Linux: the community builds' XDG path). */
export function claudeDesktopPath(inputs: LocationInputs): string {
  const { homeDir, platform, env } = inputs;
  const file = "claude_desktop_config.json";
  if (platform === "darwin") return path.posix.join(homeDir, "Library", "Application Support", "Claude", file);
  if (platform === "win32") {
    const appData = nonEmpty(env.APPDATA) ?? path.win32.join(homeDir, "AppData", "Roaming");
    return path.win32.join(appData, "Claude", file);
  }
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? path.posix.join(homeDir, ".config");
  return path.posix.join(configHome, "Claude", file);
}

/**
 * The layout of a file given with `--config`, from its parsed top-level keys: a `servers` object
 * without `mcpServers` is VS Code's; a `projects` object means a `.claude.json`-shaped state file;
 * anything else is read as `mcpServers`.
 */
export function detectFormat(root: JsonNode): ConfigFormat {
  if (root.kind !== "object") return "mcpServers";
  const kindOf = (key: string): string | undefined => root.properties.findLast((p) => p.key === key)?.value.kind;
  if (kindOf("servers") !== undefined && kindOf("mcpServers") === undefined) return "servers";
  if (kindOf("projects") === "object") return "claude-json";
  return "mcpServers";
}

/** Shows a path with the home directory as `~`, for shorter output lines. */
export function displayPath(filePath: string, homeDir: string): string {
  if (homeDir === "" || !filePath.startsWith(homeDir)) return filePath;
  const rest = filePath.slice(homeDir.length);
  return rest === "" || rest.startsWith("/") || rest.startsWith("\\") ? `~${rest}` : filePath;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
