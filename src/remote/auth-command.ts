// `baton-proxy auth login|logout|list`: manage the OAuth cache of remote servers ahead of time (hosts give a server seconds to start).

import type { CommandContext } from "../command-context.ts";
import type { ParsedArgs } from "../command-spec.ts";
import { describeUnknownVariables } from "../config-hints.ts";
import { upstreamTimeoutOf } from "../config-values.ts";
import { KNOWN_VARIABLES } from "../config-variables.ts";
import { describeError, LocalError } from "../errors.ts";
import { printable } from "../log.ts";
import { metadataUrlOf, scopeOf } from "./authorizers.ts";
import { boundedFetch, login } from "./oauth-flow.ts";
import { resolveRemoteTarget } from "./remote-options.ts";
import { describeUnfollowedRedirect, sameOriginFetch } from "./same-origin-fetch.ts";
import { configDir, expiresAt, serverKey, TokenStore, type ServerAuthRecord } from "./token-store.ts";

/** How long `auth login` waits for the user to finish in the browser. */
export const LOGIN_TIMEOUT_MS = 300_000;
/** How long the first, tokenless request may take to be refused. */
const PROBE_TIMEOUT_MS = 30_000;

/** The options of `auth` (auth-spec.ts) and which of them each action reads. */
const AUTH_OPTIONS = ["url", "header", "allow-http", "all"] as const;
const ACTION_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  login: ["url", "header", "allow-http"],
  logout: ["url", "all"],
  list: [],
};

/** Runs `auth login|logout|list`; returns an exit code. Misuse throws LocalError(E_USAGE). */
export async function runAuthCommand(
  args: ParsedArgs,
  io: CommandContext,
  fetchFn: typeof fetch = fetch,
): Promise<number> {
  const [action, ...extra] = args.positionals;
  if (extra.length > 0) throw new LocalError("E_USAGE", `unexpected argument "${extra[0]}"`);
  // A misspelt BATON_OAUTH_CLIENT_ID or BATON_CONFIG_DIR would change what login does without a word: named, as the proxy names it.
  for (const remark of describeUnknownVariables(io.env, KNOWN_VARIABLES))
    io.stderr(`baton-proxy: warn: ${printable(remark)}\n`);
  const store = new TokenStore(
    configDir(io.env, () => io.homeDir, io.platform),
    undefined,
    (text) => io.stderr(`baton-proxy: warn: ${printable(text)}\n`),
  );
  const url = typeof args.values.url === "string" ? args.values.url : undefined;
  // Each action reads only its own options (auth --help): one given for another would do nothing without a word.
  const own = action !== undefined && Object.hasOwn(ACTION_OPTIONS, action) ? ACTION_OPTIONS[action] : undefined;
  const stray =
    own === undefined ? [] : AUTH_OPTIONS.filter((name) => args.values[name] !== undefined && !own.includes(name));
  if (stray.length > 0)
    throw new LocalError("E_USAGE", `auth ${action} takes no ${stray.map((name) => `--${name}`).join(" or ")}`);
  switch (action) {
    case "login":
      if (url === undefined) throw new LocalError("E_USAGE", "auth login needs --url URL");
      return loginCommand(args, url, io, store, fetchFn);
    case "logout":
      return logoutCommand(url, args.values.all === true, io, store);
    case "list":
      io.stdout(renderAuthList(store.list(), Date.now()));
      return 0;
    case undefined:
      throw new LocalError("E_USAGE", "give an action: login, logout or list");
    default:
      throw new LocalError("E_USAGE", `unknown action "${action}" (login, logout or list)`);
  }
}

async function loginCommand(
  args: ParsedArgs,
  url: string,
  io: CommandContext,
  store: TokenStore,
  fetchFn: typeof fetch,
): Promise<number> {
  const headers = Array.isArray(args.values.header) ? args.values.header : [];
  const resolved = resolveRemoteTarget({ url, headers, allowHttp: args.values["allow-http"] === true }, io.env);
  if (!resolved.ok) throw new LocalError("E_USAGE", resolved.problems.join("; "));
  const { target } = resolved;
  // Each request of the flow is bounded as the proxy's are: the SDK sets no timeout on discovery,
  // registration or token requests, and an authorization server that never answers would hold the login forever.
  const timeout = upstreamTimeoutOf(io.env.BATON_UPSTREAM_TIMEOUT?.trim() || undefined);
  if (typeof timeout === "string") throw new LocalError("E_CONFIG", timeout);
  const bounded = boundedFetch(fetchFn, timeout, "BATON_UPSTREAM_TIMEOUT");
  // Headers the server needs besides OAuth (an API gateway key) ride along on requests to its origin,
  // and only there: such a request follows redirects within that origin, one elsewhere is refused.
  const toOrigin = sameOriginFetch(bounded, target.url.origin);
  let toldRedirect = false;
  const withHeaders = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const address = new URL(input instanceof Request ? input.url : String(input));
    if (address.origin !== target.url.origin || Object.keys(target.headers).length === 0) return bounded(input, init);
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries(target.headers)) if (!merged.has(name)) merged.set(name, value);
    const response = await toOrigin(address, { ...init, headers: merged });
    const redirect = response.ok ? undefined : describeUnfollowedRedirect(response, address.href);
    if (redirect !== undefined && !toldRedirect) {
      toldRedirect = true;
      io.stderr(
        `baton-proxy: ${target.origin} answered HTTP ${response.status}, ${redirect} (--header values go only to ${target.origin})\n`,
      );
    }
    return response;
  }) as typeof fetch;
  const challenge = await challengeOf(withHeaders, target.url);
  try {
    await login(
      {
        store,
        server: target.url,
        env: io.env,
        platform: io.platform,
        tell: io.stderr,
        fetch: withHeaders,
        allowHttp: target.allowHttp === true,
        now: Date.now,
      },
      { ...challenge, timeoutMs: LOGIN_TIMEOUT_MS },
    );
  } catch (error) {
    throw new LocalError(
      "E_AUTH",
      // The reason may quote the authorization server (an error_description): printed, it is our line.
      `login to ${target.origin} failed: ${printable(error instanceof LocalError ? error.message : describeError(error))}`,
      { cause: error },
    );
  }
  io.stderr(
    `baton-proxy: signed in to ${target.origin}; credentials cached in ${store.pathOf(serverKey(target.url))}\n`,
  );
  return 0;
}

/**
 * The MCP authorization flow starts from the server's 401 to a request without a token, as the
 * proxy's does: its challenge names the resource metadata (which a server may publish nowhere
 * else) and the scope to ask for. A `ping` creates no session; no 401 (or no answer) leaves both
 * to discovery.
 */
async function challengeOf(fetchFn: typeof fetch, url: URL): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
  try {
    const response = await fetchFn(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "ping" }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 401) return {};
    const resourceMetadataUrl = metadataUrlOf(response);
    const scope = scopeOf(response);
    return { ...(resourceMetadataUrl && { resourceMetadataUrl }), ...(scope && { scope }) };
  } catch {
    return {};
  }
}

function logoutCommand(url: string | undefined, all: boolean, io: CommandContext, store: TokenStore): number {
  if (all === (url !== undefined))
    throw new LocalError("E_USAGE", "auth logout needs --url URL or --all (one of them)");
  if (all) {
    io.stderr(`baton-proxy: forgot credentials for ${store.removeAll()} server(s)\n`);
    return 0;
  }
  let key: string;
  try {
    key = serverKey(new URL(url as string));
  } catch {
    throw new LocalError("E_USAGE", "--url is not a valid URL");
  }
  if (!store.remove(key)) throw new LocalError("E_AUTH", `no cached credentials for ${key}`);
  io.stderr(`baton-proxy: forgot credentials for ${key}\n`);
  return 0;
}

/** One line per cached server, named by origin and path; never a token. */
export function renderAuthList(records: readonly ServerAuthRecord[], now: number): string {
  if (records.length === 0) return "No cached credentials.\n";
  const lines = records.map((record) => {
    const until = expiresAt(record);
    const token =
      record.tokens?.access_token === undefined
        ? "no token"
        : until === undefined
          ? "token (no expiry given)"
          : until <= now
            ? "token expired"
            : // A Date ends in the year 275760: a server's "never" (expires_in 2^63-1) lies beyond it.
              Number.isNaN(new Date(until).getTime())
              ? "token valid, its expiry too far ahead to date"
              : `token valid until ${new Date(until).toISOString()}`;
    const refresh = typeof record.tokens?.refresh_token === "string" ? ", refreshable" : "";
    const client =
      typeof record.clientInformation?.client_id === "string" ? `, client ${record.clientInformation.client_id}` : "";
    // The client id is the authorization server's registration answer, stored as given.
    return printable(`${record.server}  ${token}${refresh}${client}`);
  });
  return `${lines.join("\n")}\n`;
}
