// The `wrap` and `unwrap` subcommands' arguments, help and exit statuses (parsed and rendered by src/command-spec.ts).

import type { CommandSpec } from "../command-spec.ts";
import { EXIT } from "../exit-codes.ts";
import { CLIENT_NAMES } from "./config-locations.ts";
import type { WrapMode } from "./file-plan.ts";

function wrapSpec(mode: WrapMode): CommandSpec {
  return {
    name: mode,
    summary:
      mode === "wrap"
        ? "route the servers in MCP client configs through this binary"
        : "restore servers wrapped by `wrap`",
    synopsis: [
      "[--client NAME | --config PATH] (SERVER... | --all) [--dry-run]",
      "--list [--client NAME | --config PATH]",
    ],
    description:
      mode === "wrap"
        ? [
            "Rewrites stdio server entries in MCP client configs so each server starts through this binary:",
            '  {"command": "npx", "args": ["-y", "pkg"]}  ->  {"command": "<this binary>", "args": ["--", "npx", "-y", "pkg"]}',
            "Every other key (env, type, cwd, ...) stays as it is; entries already wrapped are left alone.",
            "Remote entries (url, type http/streamable-http/sse) become stdio entries running",
            '"<this binary> --url-env MCP_URL": the URL moves into env as MCP_URL (args are readable by every',
            "local user, and a URL may hold a key), each header value, as written, as MCP_HEADER_<NAME>, and",
            "the args carry --header-env Name=MCP_HEADER_<NAME> (a variable name: nothing for the host to",
            "expand or warn about), and --allow-http for plain http to a host that is not loopback; the",
            "original entry is kept for unwrap. ws entries, URLs not starting with http(s)://, and entries with",
            "a header the proxy would refuse (Accept, Content-Type, ...) are left alone, with the reason.",
            "Name the servers, or give --all.",
          ]
        : [
            "Restores wrapped entries: command and args are taken back from where the proxy's own command",
            'line puts the server command (after "--", or after the proxy options when there is no "--");',
            "proxy options are dropped. A wrapped remote entry gets its original text back, byte for byte, from",
            "its env.BATON_WRAPPED_REMOTE. Entries that are not wrapped are left alone. Name the servers, or give --all.",
          ],
    operands: [["SERVER", 'a server name as in the config (one that starts with "-" goes after "--")']],
    options: [
      { name: "client", value: "NAME", help: `only this client's files: ${CLIENT_NAMES.join(", ")} (any case)` },
      {
        name: "config",
        value: "PATH",
        help: "only this file (layout detected from its keys: mcpServers, servers, projects)",
      },
      { name: "all", help: "every server found (instead of naming servers)" },
      { name: "dry-run", help: "print the changes, write nothing" },
      { name: "list", help: "list every server in every known config and whether it is wrapped" },
    ],
    notes: [
      "Files: Claude Desktop claude_desktop_config.json, Claude Code ~/.claude.json and ./.mcp.json,",
      "Cursor ~/.cursor/mcp.json and ./.cursor/mcp.json, VS Code ./.vscode/mcp.json.",
      "Before the first change a copy is kept as <file>.baton-backup; files are replaced atomically",
      "with their permissions. Restart (or reload) the client afterwards.",
    ],
    exits: [
      [EXIT.OK, "done or nothing to do"],
      [EXIT.FAILED, "a file could not be read or changed"],
      [EXIT.USAGE, "usage error"],
    ],
    load: async () => {
      const { runWrapCommand } = await import("./wrap-command.ts");
      return (args, ctx) => runWrapCommand(args, ctx, mode);
    },
  };
}

export const WRAP_SPEC = wrapSpec("wrap");
export const UNWRAP_SPEC = wrapSpec("unwrap");
