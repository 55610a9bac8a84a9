// Wires `baton-proxy --url`: checks the target with the configuration, picks the credentials, opens the HTTP upstream.

import type { CommandContext } from "../command-context.ts";
import type { OptionValue } from "../command-spec.ts";
import type { Config } from "../config.ts";
import { describeError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createKeyMatcher } from "../telemetry/scrub-keys.ts";
import type { Upstream } from "../transport/upstream.ts";
import { SDK_VERSION } from "../version.ts";
import { oauthAuthorizer, staticAuthorizer } from "./authorizers.ts";
import { createHttpUpstream } from "./http-upstream.ts";
import { resolveRemoteTarget, type RemoteTarget } from "./remote-options.ts";
import { sameOriginFetch } from "./same-origin-fetch.ts";
import type { Authorizer } from "./upstream-types.ts";

/** The `--url` (or `--url-env`), `--header`, `--header-env` and `--allow-http` options as a checked target, or the problems (reported with the configuration's). */
export function prepareRemote(
  options: Readonly<Record<string, OptionValue>>,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; target: RemoteTarget } | { ok: false; problems: string[] } {
  const list = (value: OptionValue): string[] =>
    Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
  return resolveRemoteTarget(
    {
      ...(typeof options.url === "string" ? { url: options.url } : {}),
      ...(typeof options["url-env"] === "string" ? { urlEnv: options["url-env"] } : {}),
      headers: list(options.header),
      headerEnv: list(options["header-env"]),
      allowHttp: options["allow-http"] === true,
    },
    env,
  );
}

/**
 * The upstream for the stdio session. Credentials, first match: an `Authorization` --header (sent
 * as given), BATON_UPSTREAM_AUTH_TOKEN (as a bearer), else OAuth with the cached tokens of
 * `baton-proxy auth login` (the flow runs on the first 401 when nothing is cached).
 */
export function openRemoteUpstream(target: RemoteTarget, config: Config, logger: Logger, io: CommandContext): Upstream {
  const hasHeader = Object.keys(target.headers).some((name) => name.toLowerCase() === "authorization");
  let authorizer: Authorizer;
  if (hasHeader) authorizer = staticAuthorizer(target, undefined);
  else if (config.upstreamAuthToken !== undefined) authorizer = staticAuthorizer(target, config.upstreamAuthToken);
  else {
    authorizer = oauthAuthorizer(target, config.upstreamTimeoutMs, logger, async () => {
      const { configDir, TokenStore } = await import("./token-store.ts");
      const { boundedFetch } = await import("./oauth-flow.ts");
      return {
        store: new TokenStore(
          configDir(io.env, () => io.homeDir, io.platform),
          (error) =>
            logger.warn(
              `cannot save the sign-in to ${target.url.origin} (${describeError(error)}): kept for this session only`,
            ),
          (text) => logger.warn(text),
        ),
        server: target.url,
        env: io.env,
        platform: io.platform,
        tell: io.stderr,
        fetch: boundedFetch(fetch, config.upstreamTimeoutMs, "BATON_UPSTREAM_TIMEOUT"),
        allowHttp: target.allowHttp === true,
        now: Date.now,
      };
    });
  }
  return createHttpUpstream({
    target,
    timeoutMs: config.upstreamTimeoutMs,
    userAgent: SDK_VERSION,
    authorizer,
    logger,
    fetch: sameOriginFetch(fetch, target.url.origin),
    secrets: [...target.secrets, ...config.secrets],
    secretKeys: createKeyMatcher(config.scrubKeys),
  });
}
