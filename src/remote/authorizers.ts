// Credentials for the remote upstream: a static bearer (BATON_UPSTREAM_AUTH_TOKEN or an Authorization --header), or cached OAuth tokens.

import type { Logger } from "../log.ts";
import type { RemoteTarget } from "./remote-options.ts";
import { unauthorizedFailure, type UpstreamFailure } from "./upstream-failure.ts";
import type { Authorizer } from "./upstream-types.ts";

/** Credentials the user configured: sent as given; a 401 means they are wrong, which no flow can fix. */
export function staticAuthorizer(target: RemoteTarget, bearer: string | undefined): Authorizer {
  const value = bearer === undefined ? undefined : `Bearer ${bearer}`;
  return {
    header: async () => value,
    unauthorized: async () => ({
      errorType: "upstream_auth",
      reason: `${target.origin} refused the configured credentials (HTTP 401): check ${bearer === undefined ? "the Authorization --header" : "BATON_UPSTREAM_AUTH_TOKEN"}`,
    }),
  };
}

/**
 * OAuth for the proxy: sends the cached access token, refreshes it before it expires, and on a
 * 401 refreshes or runs the login flow (browser + loopback, bounded by `timeoutMs`). Concurrent
 * 401s share one flow, and a 401 for a token already replaced just retries with the new one. A 403
 * `insufficient_scope` signs in again for the wider scope (step-up). A server without discoverable
 * authorization fails at once with the `auth login` hint. The OAuth modules load only when a server
 * asks for authorization.
 */
export function oauthAuthorizer(
  target: RemoteTarget,
  timeoutMs: number,
  logger: Logger,
  makeDeps: () => Promise<import("./oauth-provider.ts").OAuthDeps>,
): Authorizer {
  let deps: import("./oauth-provider.ts").OAuthDeps | undefined;
  let cached: { token: string | undefined; expiresAt: number | undefined; margin: number } | undefined;
  let refreshing: Promise<boolean> | undefined;
  let resolving: Promise<"retry" | UpstreamFailure> | undefined;
  const ready = async () => (deps ??= await makeDeps());
  const reload = async (): Promise<void> => {
    const { store } = await ready();
    const { serverKey, expiresAt, refreshMargin } = await import("./token-store.ts");
    const record = store.load(serverKey(target.url));
    const token = record.tokens?.access_token;
    // Short-lived tokens are refreshed in their last half, not a minute early (which would be always).
    cached = {
      token: typeof token === "string" ? token : undefined,
      expiresAt: expiresAt(record),
      margin: refreshMargin(record),
    };
  };
  // One refresh at a time, whether a request found the token near its expiry or a 401 asked for it:
  // with refresh-token rotation a second refresh would spend the used token, fail, and start a login.
  const refresh = (resourceMetadataUrl?: URL): Promise<boolean> =>
    (refreshing ??= (async () => {
      const { refreshTokens } = await import("./oauth-flow.ts");
      // The token this process holds: another proxy that refreshed meanwhile has replaced it in the cache.
      const ok = await refreshTokens(await ready(), resourceMetadataUrl, cached?.token, timeoutMs);
      await reload();
      return ok;
    })().finally(() => (refreshing = undefined)));

  /** The browser sign-in, or why it failed (`refused` says what the server answered). */
  const signIn = async (
    options: { resourceMetadataUrl?: URL; scope?: string },
    refused: UpstreamFailure,
  ): Promise<"retry" | UpstreamFailure> => {
    const { login } = await import("./oauth-flow.ts");
    try {
      const oauth = await ready();
      await login(oauth, { ...options, timeoutMs });
      await reload();
      const { serverKey } = await import("./token-store.ts");
      // Not "cached" when the cache could not be written (said once already): only this session has them.
      const kept = oauth.store.isUnsaved(serverKey(target.url))
        ? "for this session only"
        : "tokens cached for later runs";
      logger.info(`authorized with ${target.origin}; ${kept}`);
      return "retry";
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      logger.warn(`authorization with ${target.origin} failed: ${why}`);
      return { errorType: refused.errorType, reason: `${refused.reason} (automatic authorization failed: ${why})` };
    }
  };
  // Sent before a sign-in or refresh finished (here, or by another proxy or `auth login`): the
  // refusal is of the old token, and the new one is tried instead of a flow of its own.
  const replaced = async (sentWith: string | undefined): Promise<boolean> => {
    await reload();
    return cached?.token !== undefined && `Bearer ${cached.token}` !== sentWith;
  };

  return {
    async header() {
      if (cached === undefined) await reload();
      // The clock the tokens were dated by (obtainedAt): a second clock could only disagree with it.
      const now = (deps ?? (await ready())).now();
      if (cached?.token !== undefined && cached.expiresAt !== undefined && cached.expiresAt - now < cached.margin) {
        await refresh();
      }
      return cached?.token === undefined ? undefined : `Bearer ${cached.token}`;
    },
    unauthorized(response, sentWith) {
      const resourceMetadataUrl = metadataUrlOf(response);
      resolving ??= (async (): Promise<"retry" | UpstreamFailure> => {
        if (await replaced(sentWith)) return "retry";
        if (await refresh(resourceMetadataUrl)) return "retry";
        return signIn({ resourceMetadataUrl, scope: scopeOf(response) }, unauthorizedFailure(target));
      })().finally(() => (resolving = undefined));
      return resolving;
    },
    insufficientScope(response, sentWith) {
      if (!/error="?insufficient_scope/i.test(response.headers.get("www-authenticate") ?? "")) return undefined;
      const needed = scopeOf(response);
      resolving ??= (async (): Promise<"retry" | UpstreamFailure> => {
        if (await replaced(sentWith)) return "retry";
        // Step-up: a refresh cannot widen the grant, so the user signs in again (`login` never
        // refreshes), for the scope held so far plus the one named.
        const { store } = await ready();
        const { serverKey } = await import("./token-store.ts");
        const held = store.load(serverKey(target.url)).tokens?.scope;
        const scope = [...new Set(`${typeof held === "string" ? held : ""} ${needed ?? ""}`.split(/\s+/))]
          .filter(Boolean)
          .join(" ");
        const refused: UpstreamFailure = {
          errorType: "upstream_auth",
          reason: `${target.origin} needs more access (HTTP 403 insufficient_scope${needed === undefined ? "" : `, scope "${needed}"`})`,
        };
        return signIn({ resourceMetadataUrl: metadataUrlOf(response), scope: scope || undefined }, refused);
      })().finally(() => (resolving = undefined));
      return resolving;
    },
  };
}

/**
 * The `scope` of a Bearer challenge (RFC 6750 §3): what the server needs, which MCP clients ask for
 * in preference to every scope in `scopes_supported` (the MCP authorization spec's scope selection).
 */
export function scopeOf(response: Response): string | undefined {
  const challenge = response.headers.get("www-authenticate") ?? "";
  const match = /(?:^|[\s,])scope=(?:"([^"]*)"|([^\s,"]+))/i.exec(challenge);
  const scope = (match?.[1] ?? match?.[2])?.trim();
  return scope === "" ? undefined : scope;
}

/** The `resource_metadata` URL of a Bearer challenge (RFC 9728 §5.1), when the server gave one. */
export function metadataUrlOf(response: Response): URL | undefined {
  const challenge = response.headers.get("www-authenticate") ?? "";
  const match = /resource_metadata="([^"]+)"/i.exec(challenge);
  if (match?.[1] === undefined) return undefined;
  try {
    return new URL(match[1], response.url || undefined);
  } catch {
    return undefined;
  }
}
