// The MCP authorization flow for one remote server, driven by the official SDK's client auth module, cached by TokenStore: login, refresh, the flow's fetch.

import { LocalError } from "../errors.ts";
import { withCacheLock } from "./cache-lock.ts";
import { listenForRedirect } from "./loopback-redirect.ts";
import { CachedProvider, type OAuthDeps } from "./oauth-provider.ts";
import { isLoopback } from "./remote-options.ts";
import { expiresAt, refreshMargin, serverKey, type ServerAuthRecord } from "./token-store.ts";
import { formatSeconds } from "./upstream-failure.ts";

/**
 * `base` with each request bounded by `timeoutMs`: the SDK sets no timeout on discovery,
 * registration or token requests, and an authorization server that never answers would hold
 * every request of the proxy (a refresh) or the one that met the 401 (a login) forever.
 */
export function boundedFetch(base: typeof fetch, timeoutMs: number, setting: string): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await base(input, { ...init, signal });
    } catch (error) {
      if (!timeout.aborted) throw error;
      const origin = new URL(input instanceof Request ? input.url : String(input)).origin;
      throw new Error(`${origin} did not answer within ${formatSeconds(timeoutMs)} (${setting})`, { cause: error });
    }
  }) as typeof fetch;
}

/** The SDK's auth module, loaded on first use: a proxy that never meets a 401 never pays for it. */
const loadSdk = () => import("@modelcontextprotocol/sdk/client/auth.js");

/** The loopback port of the stored registration, so its redirect URI stays valid across logins. */
function registeredPort(record: ServerAuthRecord): number | undefined {
  const uris = record.clientInformation?.redirect_uris;
  const first = Array.isArray(uris) && typeof uris[0] === "string" ? uris[0] : undefined;
  if (first === undefined) return undefined;
  try {
    const url = new URL(first);
    return url.hostname === "127.0.0.1" && url.port !== "" ? Number(url.port) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Uses the cached refresh token, without asking the user. True when new tokens were saved, here or,
 * while this process waited for the cache's lock, by another proxy (`had`, the access token this
 * process last held, is then no longer the cached one). Every proxy of every host session refreshes
 * the same record when it nears expiry: with refresh-token rotation the second to present the token
 * would be refused, and a server that detects the reuse (RFC 9700 §4.14.2) revokes the whole grant,
 * the winner's new tokens included. So refreshes of one server take turns under a lock file, waiting
 * at most `waitMs` (BATON_UPSTREAM_TIMEOUT, which bounds each of the refresh's requests).
 */
export async function refreshTokens(
  deps: OAuthDeps,
  resourceMetadataUrl?: URL,
  had?: string,
  waitMs = 60_000,
): Promise<boolean> {
  const key = serverKey(deps.server);
  return withCacheLock(`${deps.store.pathOf(key)}.lock`, waitMs, async () => {
    const record = deps.store.load(key);
    const current = record.tokens?.access_token;
    const expiry = expiresAt(record);
    const fresh = expiry === undefined || expiry - deps.now() >= refreshMargin(record);
    if (had !== undefined && typeof current === "string" && current !== had && fresh) return true;
    // A refresh sends no redirect URI; a configured client id has no registration to take one from.
    const redirect =
      (record.clientInformation?.redirect_uris as string[] | undefined)?.[0] ?? "http://127.0.0.1/callback";
    if (typeof record.tokens?.refresh_token !== "string") return false;
    const { auth } = await loadSdk();
    const provider = new CachedProvider(deps, redirect, false);
    try {
      return (
        (await auth(provider, { serverUrl: deps.server, resourceMetadataUrl, fetchFn: clearTextRefused(deps) })) ===
          "AUTHORIZED" && !provider.needsLogin
      );
    } catch {
      return false;
    }
  });
}

/**
 * The whole flow: discovery (RFC 9728, RFC 8414 / OIDC), registration (RFC 7591) unless
 * BATON_OAUTH_CLIENT_ID is set, authorization code + PKCE S256 with the resource indicator and
 * `scope` (a 401 challenge's, else the SDK takes the resource's `scopes_supported`),
 * the browser sent to a loopback redirect on 127.0.0.1. Throws LocalError(E_AUTH) with the
 * reason; protocol errors from the SDK are wrapped with theirs.
 */
export async function login(
  deps: OAuthDeps,
  options: { resourceMetadataUrl?: URL; scope?: string; timeoutMs: number },
): Promise<void> {
  const { auth } = await loadSdk();
  const loopback = listenForRedirect(registeredPort(deps.store.load(serverKey(deps.server))));
  try {
    // Always a sign-in, never the cached refresh token: the proxy comes here once a refresh failed (a
    // refresh refused with another error than invalid_grant would fail this login the same way, for
    // good, quoting the server's text), a step-up needs a wider grant than a refresh keeps, and
    // `auth login` is asked for by a user who means to sign in.
    const provider = new CachedProvider(deps, loopback.redirectUrl, true, true);
    const serverUrl = deps.server;
    const { resourceMetadataUrl, scope } = options;
    const first = await wrap(() =>
      auth(provider, { serverUrl, resourceMetadataUrl, scope, fetchFn: clearTextRefused(deps) }),
    );
    if (first === "AUTHORIZED") return;
    const code = await loopback.waitForCode(provider.stateValue, options.timeoutMs);
    const second = await wrap(() =>
      auth(provider, {
        serverUrl,
        authorizationCode: code,
        resourceMetadataUrl,
        scope,
        fetchFn: clearTextRefused(deps),
      }),
    );
    if (second !== "AUTHORIZED") throw new LocalError("E_AUTH", "the authorization server did not issue tokens");
    loopback.finish(true);
  } finally {
    loopback.close();
  }
}

/**
 * The flow's fetch: a plain-http request to a host that is not loopback is refused unless
 * `--allow-http` was given, as for the server itself. The authorization server is the resource's
 * metadata's to name; over plain http the code, its PKCE verifier and the tokens would cross the
 * network in clear.
 */
function clearTextRefused(deps: OAuthDeps): typeof fetch {
  if (deps.allowHttp === true) return deps.fetch;
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol === "http:" && !isLoopback(url.hostname))
      throw new LocalError(
        "E_AUTH",
        `${url.origin} is plain http to a non-local host: the sign-in's codes and tokens would travel in clear (use https, or --allow-http)`,
      );
    return deps.fetch(input, init);
  }) as typeof fetch;
}

async function wrap<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof LocalError) throw error;
    throw new LocalError("E_AUTH", error instanceof Error ? error.message : String(error), { cause: error });
  }
}
