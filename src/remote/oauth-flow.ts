// The MCP authorization flow for one remote server, driven by the official SDK's client auth module, cached by TokenStore.

import type { OAuthClientProvider, OAuthDiscoveryState } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { LocalError } from "../errors.ts";
import { listenForRedirect, openBrowser } from "./loopback-redirect.ts";
import { isLoopback } from "./remote-options.ts";
import { serverKey, type ServerAuthRecord, type TokenStore } from "./token-store.ts";
import { formatSeconds } from "./upstream-failure.ts";

export interface OAuthDeps {
  readonly store: TokenStore;
  /** The MCP server URL (the protected resource). */
  readonly server: URL;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** Where the authorization URL is printed for the user (stderr). */
  readonly tell: (text: string) => void;
  readonly fetch: typeof fetch;
  /** `--allow-http`: the flow may speak plain http to a host that is not loopback (see {@link clearTextRefused}). */
  readonly allowHttp?: boolean;
  /** Epoch milliseconds (token expiry bookkeeping). */
  readonly now: () => number;
}

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

/**
 * The SDK's OAuthClientProvider over our cache. `interactive` false: asking the user is not an
 * option (a refresh only); `redirectToAuthorization` then just notes that a login is needed.
 */
class CachedProvider implements OAuthClientProvider {
  record: ServerAuthRecord;
  private verifier: string | undefined;
  readonly stateValue = crypto.randomUUID();
  needsLogin = false;

  /**
   * `fresh`: the cached tokens are not offered to the SDK, which would refresh them instead of
   * signing in (see `login`).
   */
  constructor(
    private readonly deps: OAuthDeps,
    readonly redirectUrl: string,
    private readonly interactive: boolean,
    private readonly fresh = false,
  ) {
    this.record = deps.store.load(serverKey(deps.server));
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "baton-proxy",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  state(): string {
    return this.stateValue;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const configured = this.deps.env.BATON_OAUTH_CLIENT_ID?.trim();
    if (configured) return { client_id: configured };
    const stored = this.record.clientInformation as
      | (OAuthClientInformationMixed & { redirect_uris?: string[] })
      | undefined;
    // A registration names its redirect URIs: one made for another loopback port cannot be reused.
    if (stored?.redirect_uris !== undefined && !stored.redirect_uris.includes(this.redirectUrl)) return undefined;
    return stored;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.record.clientInformation = info as Record<string, unknown>;
    this.persist();
  }

  tokens(): OAuthTokens | undefined {
    if (this.fresh) return undefined;
    return this.record.tokens as OAuthTokens | undefined;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.record.tokens = tokens as Record<string, unknown>;
    this.record.obtainedAt = this.deps.now();
    this.persist();
  }

  redirectToAuthorization(url: URL): void {
    this.needsLogin = true;
    if (!this.interactive) return;
    // The URL is the authorization server's to name (its metadata): the system opener would hand a
    // file:, smb: or custom-scheme URL to whatever handles it, i.e. run what a hostile server chose.
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new LocalError(
        "E_AUTH",
        `the authorization server's authorization endpoint is not an http:// or https:// URL (${url.protocol}); not opening it`,
      );
    this.deps.tell(
      `baton-proxy: to authorize access to ${this.deps.server.origin}, open this URL in a browser (opening it now):\n\n  ${url.href}\n\n`,
    );
    openBrowser(url.href, this.deps.env, this.deps.platform);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (this.verifier === undefined) throw new LocalError("E_AUTH", "no PKCE verifier for this login");
    return this.verifier;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.record.discovery as OAuthDiscoveryState | undefined;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.record.discovery = state as unknown as Record<string, unknown>;
    this.persist();
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "tokens" && this.adoptNewerTokens()) return;
    if (scope === "all" || scope === "client") delete this.record.clientInformation;
    if (scope === "all" || scope === "tokens") delete this.record.tokens;
    if (scope === "all" || scope === "discovery") delete this.record.discovery;
    if (scope === "verifier") this.verifier = undefined;
    this.persist();
  }

  /**
   * A refused refresh token may have been spent by another proxy (or `auth login`) since this
   * record was read: with rotation, that is why it was refused. Its newer tokens are then taken,
   * not deleted from the cache (which would start a browser sign-in here and undo its refresh).
   */
  private adoptNewerTokens(): boolean {
    const stored = this.deps.store.load(this.record.server);
    if (stored.tokens === undefined || stored.tokens.refresh_token === this.record.tokens?.refresh_token) return false;
    this.record.tokens = stored.tokens;
    this.record.obtainedAt = stored.obtainedAt;
    return true;
  }

  private persist(): void {
    this.deps.store.save(this.record);
  }
}

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

/** Uses the cached refresh token, without asking the user. True when new tokens were saved. */
export async function refreshTokens(deps: OAuthDeps, resourceMetadataUrl?: URL): Promise<boolean> {
  const record = deps.store.load(serverKey(deps.server));
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
