// Parses `baton-proxy wrap|unwrap …` arguments into options or one usage error, and renders the usage text. Pure.

import { CLIENT_NAMES, isClientName, type ClientName } from "./config-locations.ts";
import type { WrapMode } from "./file-plan.ts";

const BOOLEAN_FLAGS: readonly string[] = ["--help", "--list", "--all", "--dry-run"];

export interface WrapOptions {
  readonly help: boolean;
  readonly list: boolean;
  readonly all: boolean;
  readonly dryRun: boolean;
  readonly client: ClientName | undefined;
  readonly configPath: string | undefined;
  /** Server names to act on (empty with `--all` or `--list`). */
  readonly names: readonly string[];
}

export type WrapArgsResult = { readonly ok: true; readonly options: WrapOptions } | { readonly ok: false; readonly error: string };

/**
 * Reads the arguments after `wrap`/`unwrap`. Accepts `--client NAME`, `--client=NAME`, `--config
 * PATH`, `--config=PATH`, `--all`, `--dry-run`, `--list`, `-h`/`--help` and server names; a `--`
 * ends options (for a server named like a flag). Returns one reason on the first misuse.
 */
export function parseWrapArgs(args: readonly string[]): WrapArgsResult {
  let help = false;
  let list = false;
  let all = false;
  let dryRun = false;
  let client: ClientName | undefined;
  let configPath: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const takeValue = (): string | undefined => inline ?? args[++i];
    if (inline !== undefined && BOOLEAN_FLAGS.includes(flag)) return fail(`${flag} takes no value`);
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--list") list = true;
    else if (arg === "--all") all = true;
    else if (arg === "--dry-run") dryRun = true;
    else if (flag === "--client") {
      const value = takeValue();
      if (value === undefined || value === "") return fail(`--client needs a name (${CLIENT_NAMES.join(", ")})`);
      if (!isClientName(value)) return fail(`unknown client "${value}" (known: ${CLIENT_NAMES.join(", ")})`);
      client = value;
    } else if (flag === "--config") {
      const value = takeValue();
      if (value === undefined || value === "") return fail("--config needs a file path");
      configPath = value;
    } else if (arg === "--") {
      names.push(...args.slice(i + 1));
      break;
    } else if (arg.startsWith("-")) return fail(`unknown option ${flag}`);
    else names.push(arg);
  }
  if (help) return { ok: true, options: { help, list, all, dryRun, client, configPath, names } };
  if (client !== undefined && configPath !== undefined) return fail("give either --client or --config, not both");
  if (all && names.length > 0) return fail("give either server names or --all, not both");
  if (list && (all || names.length > 0 || dryRun)) return fail("--list takes no server names, --all or --dry-run");
  return { ok: true, options: { help, list, all, dryRun, client, configPath, names } };
}

/** The usage text for `wrap` or `unwrap` (also printed after a usage error). */
export function renderWrapUsage(mode: WrapMode): string {
  const what =
    mode === "wrap"
      ? [
          "Rewrites stdio server entries in MCP client configs so each server starts through this binary:",
          '  {"command": "npx", "args": ["-y", "pkg"]}  ->  {"command": "<this binary>", "args": ["--", "npx", "-y", "pkg"]}',
          "Every other key (env, type, cwd, ...) stays as it is; remote (url/http/sse) entries are skipped;",
          "entries already wrapped are left alone.",
        ]
      : [
          "Restores wrapped entries: command and args are taken back from after \"--\" (proxy flags",
          "before it are dropped). Entries that are not wrapped are left alone.",
        ];
  return [
    `Usage: baton-proxy ${mode} [--client NAME | --config PATH] (SERVER... | --all) [--dry-run]`,
    `       baton-proxy ${mode} --list [--client NAME | --config PATH]`,
    "",
    ...what,
    "",
    "Options:",
    `  --client NAME  only this client's files: ${CLIENT_NAMES.join(", ")}`,
    "  --config PATH  only this file (layout detected from its keys: mcpServers, servers, projects)",
    "  --all          every server found (instead of naming servers)",
    "  --dry-run      print the changes, write nothing",
    "  --list         list every server in every known config and whether it is wrapped",
    "  -h, --help     show this help",
    "",
    "Files: Claude Desktop claude_desktop_config.json, Claude Code ~/.claude.json and ./.mcp.json,",
    "Cursor ~/.cursor/mcp.json and ./.cursor/mcp.json, VS Code ./.vscode/mcp.json.",
    "Before the first change a copy is kept as <file>.baton-backup; files are replaced atomically",
    "with their permissions. Restart (or reload) the client afterwards.",
    "Exit status: 0 done or nothing to do, 1 a file could not be read or changed, 2 usage error.",
    "",
  ].join("\n");
}

function fail(error: string): WrapArgsResult {
  return { ok: false, error };
}
