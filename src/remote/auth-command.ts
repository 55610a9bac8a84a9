// `baton-proxy auth login|logout|list`: manage the OAuth cache of remote servers ahead of time (hosts give a server seconds to start).

import type { CommandContext } from "../command-context.ts";
import { describeError, LocalError } from "../errors.ts";
import { login } from "./oauth-flow.ts";
import { parseRemoteArgs, resolveRemoteTarget } from "./remote-options.ts";
import { configDir, expiresAt, serverKey, TokenStore, type ServerAuthRecord } from "./token-store.ts";

/** How long `auth login` waits for the user to finish in the browser. */
export const LOGIN_TIMEOUT_MS = 300_000;

export const AUTH_USAGE = `Usage:
  baton-proxy auth login --url URL [--header "Name: value"]...   sign in to a remote MCP server (OAuth, browser)
  baton-proxy auth logout (--url URL | --all)                     forget cached credentials
  baton-proxy auth list                                           list servers with cached credentials

The browser is opened with the platform opener, or BATON_OAUTH_OPENER (a command, run with the URL
appended). BATON_OAUTH_CLIENT_ID uses a pre-registered client instead of dynamic registration.
Credentials are cached in $BATON_CONFIG_DIR (default $XDG_CONFIG_HOME/baton-proxy or ~/.config/baton-proxy)/oauth, private to the user.
`;

/** Runs `auth …`; returns an exit code (0 ok, 1 failed, 2 usage). */
export async function runAuthCommand(args: readonly string[], io: CommandContext, fetchFn: typeof fetch = fetch): Promise<number> {
  const [verb, ...rest] = args;
  const store = new TokenStore(configDir(io.env, io.homeDir, io.platform));
  switch (verb) {
    case "login":
      return loginCommand(rest, io, store, fetchFn);
    case "logout":
      return logoutCommand(rest, io, store);
    case "list":
      if (rest.length > 0) return usage(io, `auth list takes no arguments`);
      io.stdout(renderAuthList(store.list(), Date.now()));
      return 0;
    case undefined:
    case "-h":
    case "--help":
      io.stdout(AUTH_USAGE);
      return verb === undefined ? 2 : 0;
    default:
      return usage(io, `unknown auth command "${verb}"`);
  }
}

async function loginCommand(args: readonly string[], io: CommandContext, store: TokenStore, fetchFn: typeof fetch): Promise<number> {
  const parsed = parseRemoteArgs(args);
  if (parsed === undefined) return usage(io, "auth login needs --url URL");
  if (!parsed.ok) return usage(io, parsed.problems.join("; "));
  const resolved = resolveRemoteTarget(parsed.args, io.env);
  if (!resolved.ok) return usage(io, resolved.problems.join("; "));
  const { target } = resolved;
  // Headers the server needs besides OAuth (an API gateway key) ride along on discovery and token calls to it.
  const withHeaders: typeof fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin !== target.url.origin) return fetchFn(input, init);
      const headers = new Headers(init?.headers);
      for (const [name, value] of Object.entries(target.headers)) if (!headers.has(name)) headers.set(name, value);
      return fetchFn(input, { ...init, headers });
    },
    { preconnect: fetch.preconnect },
  );
  try {
    await login({ store, server: target.url, env: io.env, platform: io.platform, tell: io.stderr, fetch: withHeaders, now: Date.now }, { timeoutMs: LOGIN_TIMEOUT_MS });
  } catch (error) {
    io.stderr(`baton-proxy: auth login ${target.origin} failed: ${error instanceof LocalError ? error.message : describeError(error)}\n`);
    return 1;
  }
  io.stderr(`baton-proxy: signed in to ${target.origin}; credentials cached in ${store.pathOf(serverKey(target.url))}\n`);
  return 0;
}

function logoutCommand(args: readonly string[], io: CommandContext, store: TokenStore): number {
  if (args.length === 1 && args[0] === "--all") {
    const records = store.list();
    for (const record of records) store.remove(record.server);
    io.stderr(`baton-proxy: forgot credentials for ${records.length} server(s)\n`);
    return 0;
  }
  const parsed = parseRemoteArgs(args);
  if (parsed === undefined || !parsed.ok) return usage(io, "auth logout needs --url URL or --all");
  let key: string;
  try {
    key = serverKey(new URL(parsed.args.url));
  } catch {
    return usage(io, "--url is not a valid URL");
  }
  const removed = store.remove(key);
  io.stderr(removed ? `baton-proxy: forgot credentials for ${key}\n` : `baton-proxy: no cached credentials for ${key}\n`);
  return removed ? 0 : 1;
}

/** One line per cached server, named by origin and path; never a token. */
export function renderAuthList(records: readonly ServerAuthRecord[], now: number): string {
  if (records.length === 0) return "No cached credentials.\n";
  const lines = records.map((record) => {
    const until = expiresAt(record);
    const token = record.tokens?.access_token === undefined ? "no token" : until === undefined ? "token (no expiry given)" : until > now ? `token valid until ${new Date(until).toISOString()}` : "token expired";
    const refresh = typeof record.tokens?.refresh_token === "string" ? ", refreshable" : "";
    const client = typeof record.clientInformation?.client_id === "string" ? `, client ${record.clientInformation.client_id}` : "";
    return `${record.server}  ${token}${refresh}${client}`;
  });
  return `${lines.join("\n")}\n`;
}

function usage(io: CommandContext, reason: string): number {
  io.stderr(`baton-proxy: ${reason}\n\n${AUTH_USAGE}`);
  return 2;
}
