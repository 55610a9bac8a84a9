// The SDK's OAuthClientProvider over our token cache (TokenStore), for one remote server: what the auth module reads and saves; the flow itself is oauth-flow.ts.

import type { OAuthClientProvider, OAuthDiscoveryState } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { LocalError } from "../errors.ts";
import { openBrowser } from "./loopback-redirect.ts";
import { serverKey, type ServerAuthRecord, type TokenStore } from "./token-store.ts";

/** What the authorization flow and its provider need. */
export interface OAuthDeps {
  readonly store: TokenStore;
  /** The MCP server URL (the protected resource). */
  readonly server: URL;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** Where the authorization URL is printed for the user (stderr). */
  readonly tell: (text: string) => void;
  readonly fetch: typeof fetch;
  /** `--allow-http`: the flow may speak plain http to a host that is not loopback (see clearTextRefused in oauth-flow.ts). */
  readonly allowHttp?: boolean;
  /** Epoch milliseconds (token expiry bookkeeping). */
  readonly now: () => number;
}

/**
 * The SDK's OAuthClientProvider over our cache. `interactive` false: asking the user is not an
 * option (a refresh only); `redirectToAuthorization` then just notes that a login is needed.
 */
export class CachedProvider implements OAuthClientProvider {
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
    const opened = openBrowser(url.href, this.deps.env, this.deps.platform);
    // Signed in from another machine's browser (SSH, a container), the sign-in ends at this
    // machine's loopback callback, which that browser cannot reach: say how to finish it here.
    const port = new URL(this.redirectUrl).port;
    this.deps.tell(
      `baton-proxy: to authorize access to ${this.deps.server.origin}, open this URL in a browser (${opened ? "opening it now" : "no browser opener on this machine"}):\n\n  ${url.href}\n\n` +
        `The sign-in ends at ${this.redirectUrl} on this machine. From a browser elsewhere, forward that port first ` +
        `(ssh -L ${port}:127.0.0.1:${port} …), or copy the address it then fails to load and load it here (curl '<address>').\n\n`,
    );
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
