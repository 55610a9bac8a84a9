// Parses baton-proxy's command line into what to do, and renders the top-level help. Pure: argv in, an Invocation out; no I/O.

import { parseArgs as parseTokens } from "node:util";
import {
  type CommandSpec,
  fill,
  type OptionSpec,
  type OptionValue,
  parseOptionList,
  renderOptionRows,
  toParseArgsOptions,
} from "./command-spec.ts";
import { findSubcommand, SUBCOMMANDS } from "./commands.ts";
import { KNOWN_VARIABLES } from "./config.ts";
import { LocalError } from "./errors.ts";
import { EXIT_MEANINGS } from "./exit-codes.ts";

export type Invocation =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | {
      readonly kind: "proxy";
      readonly command: readonly string[];
      readonly options: Readonly<Record<string, OptionValue>>;
    }
  | { readonly kind: "subcommand"; readonly spec: CommandSpec; readonly args: readonly string[] }
  | { readonly kind: "usage-error"; readonly reason: string };

/** Options of the proxy mode, given before the server command. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "help", short: "h", help: "show this help" },
  { name: "version", short: "V", help: "print the version" },
  { name: "url", value: "URL", help: "proxy a remote MCP server (Streamable HTTP, or HTTP+SSE) instead of a command" },
  {
    name: "url-env",
    value: "VARIABLE",
    help: "as --url, with the URL read from the environment variable VARIABLE (kept out of args, which ps shows)",
  },
  {
    name: "header",
    short: "H",
    value: '"NAME: VALUE"',
    multiple: true,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: help text shows the literal ${NAME} syntax users write
    help: "with --url: an HTTP header for the server; ${NAME} in VALUE is read from the environment",
  },
  {
    name: "header-env",
    value: "NAME=VARIABLE",
    multiple: true,
    help: "with --url: an HTTP header whose value is read, as is, from the environment variable VARIABLE",
  },
  { name: "allow-http", help: "with --url: allow plain http:// to a non-local host" },
];

/**
 * Reads `argv` (without the runtime and script path). A subcommand name counts only as the first
 * argument. Otherwise the proxy's options come first and the server command starts at the first
 * argument that is not an option, or after the first `--`; from there everything is passed on
 * verbatim (its own `--help` or `--` belong to it, not to us).
 */
export function parseArgs(argv: readonly string[]): Invocation {
  const subcommand = argv[0] === undefined ? undefined : findSubcommand(argv[0]);
  if (subcommand !== undefined) return { kind: "subcommand", spec: subcommand, args: argv.slice(1) };

  // A lenient pass only finds where the server command starts (it knows which options take a value).
  const { tokens } = parseTokens({
    args: [...argv],
    options: toParseArgsOptions(GLOBAL_OPTIONS),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const start = tokens.find((t) => t.kind === "positional" || t.kind === "option-terminator");
  const optionEnd = start?.index ?? argv.length;
  const commandStart =
    start === undefined ? argv.length : start.kind === "option-terminator" ? start.index + 1 : start.index;
  let options: Readonly<Record<string, OptionValue>>;
  try {
    options = parseOptionList(GLOBAL_OPTIONS, argv.slice(0, optionEnd), false).values;
  } catch (error) {
    if (error instanceof LocalError) return { kind: "usage-error", reason: withSubcommandHint(error.message) };
    throw error;
  }

  const command = argv.slice(commandStart);
  const first = command[0];
  if (start?.kind === "positional" && first !== undefined && findSubcommand(first) !== undefined) {
    return {
      kind: "usage-error",
      reason: `"${first}" is a subcommand: give it first (baton-proxy ${first} ...), or run a server command of that name after "--"`,
    };
  }
  if (options.help === true) return { kind: "help" };
  if (options.version === true) return { kind: "version" };
  if (typeof options.url === "string" && typeof options["url-env"] === "string")
    return { kind: "usage-error", reason: "--url and --url-env are mutually exclusive (give one)" };
  if (typeof options.url === "string" || typeof options["url-env"] === "string") {
    const flag = typeof options.url === "string" ? "--url" : "--url-env";
    if (first !== undefined)
      return { kind: "usage-error", reason: `${flag} and a server command are mutually exclusive (got "${first}")` };
    return { kind: "proxy", command: [], options };
  }
  if (options.header !== undefined || options["header-env"] !== undefined || options["allow-http"] !== undefined)
    return { kind: "usage-error", reason: "--header, --header-env and --allow-http go with --url or --url-env" };
  if (first === undefined || first === "")
    return { kind: "usage-error", reason: "no server command given (or --url URL)" };
  return { kind: "proxy", command, options };
}

/**
 * An unknown option that is a subcommand's (`--upstream` without `serve`, the likeliest slip) names
 * that subcommand; its value is not quoted (a URL may hold a key). Other reasons come back as they are.
 */
function withSubcommandHint(reason: string): string {
  const name = /^unknown option --([^\s=]+)$/.exec(reason)?.[1];
  if (name === undefined) return reason;
  const owners = SUBCOMMANDS.filter((spec) => spec.options.some((option) => option.name === name)).map(
    (spec) => `baton-proxy ${spec.name}`,
  );
  if (owners.length === 0) return reason;
  const hint = owners.length === 1 ? `did you mean ${owners[0]} --${name} …?` : "give the subcommand first";
  return `${reason}: it is an option of ${owners.join(", ")} (${hint})`;
}

/** `baton-proxy --help`: the proxy's synopsis, every subcommand's, the options, configuration and exit statuses. */
export function renderUsage(): string {
  const synopsis = SUBCOMMANDS.flatMap((spec) => spec.synopsis.map((line) => `  baton-proxy ${spec.name} ${line}`));
  const names = SUBCOMMANDS.map((spec) => spec.name);
  const width = Math.max(...names.map((name) => name.length));
  const exits = EXIT_MEANINGS.map(([code, meaning]) => `${code} ${meaning}`).join(", ");
  return `Usage:
  baton-proxy [options] [--] <command> [args...]   run <command> as an MCP stdio server behind the proxy
  baton-proxy [options] (--url URL | --url-env VARIABLE) [--header "NAME: VALUE"]...   a remote MCP server, as a stdio server
${synopsis.join("\n")}

"--" is needed only when <command> starts with "-" or is named like a subcommand
(${names.join(", ")}): baton-proxy -- ${names[0]} --stdio.

Subcommands (run "baton-proxy <subcommand> --help" for details):
${SUBCOMMANDS.map((spec) => `  ${spec.name.padEnd(width)}  ${spec.summary}`).join("\n")}

Options:
${renderOptionRows(GLOBAL_OPTIONS)}

${fill(`Configuration comes from BATON_* environment variables (see README): ${KNOWN_VARIABLES.join(", ")}.`)}
${fill(`Exit status: the server's own status in proxy mode; ${exits}.`)}
Example (Claude config; hosts start servers with a short PATH: give the path "command -v baton-proxy" prints):
  "command": "/usr/local/bin/baton-proxy", "args": ["--", "npx", "-y", "@modelcontextprotocol/server-everything"]
`;
}
