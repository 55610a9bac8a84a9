// Parses baton-proxy's command line into what to do. Pure: argv in, an Invocation out; no I/O.

export type Invocation =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "proxy"; readonly command: readonly string[] }
  | { readonly kind: "report" | "wrap" | "unwrap"; readonly args: readonly string[] }
  | { readonly kind: "usage-error"; readonly reason: string };

const SUBCOMMANDS = new Set(["report", "wrap", "unwrap"]);

export const USAGE = `Usage:
  baton-proxy [options] -- <command> [args...]   run <command> as an MCP stdio server behind the proxy
  baton-proxy report [FILE.jsonl] [--session ID] [--format md|json] [--list]
  baton-proxy wrap [--client NAME | --config PATH] [SERVER...|--all] [--dry-run] [--list]
  baton-proxy unwrap [--client NAME | --config PATH] [SERVER...|--all] [--dry-run]

Options:
  -h, --help      show this help
  -V, --version   print the version

Configuration comes from BATON_* environment variables (see README): BATON_EVENT_SINK,
BATON_TENANT_ID, BATON_CONSENT_TOKEN, BATON_API_KEY, BATON_VENDOR_ID, BATON_PROXY_LOG_FILE,
BATON_SCRUB, BATON_SCRUB_KEYS, BATON_SLOW_CALL_MS.
Example (Claude config): "command": "baton-proxy", "args": ["--", "npx", "-y", "@modelcontextprotocol/server-everything"]
`;

/**
 * Reads `argv` (without the runtime and script path). Everything after the first `--` is the
 * server command, passed on verbatim (its own `--help` or `--` belong to it, not to us).
 */
export function parseArgs(argv: readonly string[]): Invocation {
  const first = argv[0];
  if (first !== undefined && SUBCOMMANDS.has(first)) {
    return { kind: first as "report" | "wrap" | "unwrap", args: argv.slice(1) };
  }
  const separator = argv.indexOf("--");
  const options = separator === -1 ? argv : argv.slice(0, separator);
  for (const option of options) {
    if (option === "-h" || option === "--help") return { kind: "help" };
    if (option === "-V" || option === "--version") return { kind: "version" };
  }
  const unknown = options.find((o) => o.startsWith("-"));
  if (unknown !== undefined) return { kind: "usage-error", reason: `unknown option "${unknown}"` };
  if (options.length > 0) {
    return { kind: "usage-error", reason: `unexpected argument "${options[0]}": put the server command after "--"` };
  }
  if (separator === -1) return { kind: "usage-error", reason: `missing "--" before the server command` };
  const command = argv.slice(separator + 1);
  if (command.length === 0 || command[0] === "") return { kind: "usage-error", reason: `no server command after "--"` };
  return { kind: "proxy", command };
}
