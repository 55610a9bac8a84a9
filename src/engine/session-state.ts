// The transforms' state for one session, set up from the config: the hot-path bound, principal hashing, intent param, captures. No I/O.

import { hashUserId } from "../identity/user-id.ts";
import { createProxyState, type ProxyState } from "../proxy/transform.ts";
import { scrubValue } from "../telemetry/scrub.ts";
import type { SessionEngineDeps } from "./engine-contract.ts";

/** Warns through `deps.logger` when a principal is set without the key its hash needs (events then carry no user_id). */
export function createSessionState(deps: SessionEngineDeps): ProxyState {
  const { config, logger } = deps;
  // The hot-path bound only caps sizes (the background scrubber applies the privacy mode).
  const bound = (value: unknown) => {
    const stats = { redactions: {}, truncated: 0 };
    return { value: scrubValue(value, { mode: "off", extraKeys: [] }, stats), truncated: stats.truncated };
  };
  const userIdKey = config.userIdKey;
  const tenantId = config.tenantId ?? "local";
  const state = createProxyState({
    includeReportTool: config.allSinksLocal,
    boundValue: bound,
    // Observed only: arguments reach the server as sent, so none of them is read as an intent. Without
    // tool events nothing records them, and their descriptions tell the agent they are recorded.
    intentParam: deps.observeOnly === true || config.capture?.has("tools") === false ? "off" : config.intentParam,
    injects: deps.observeOnly !== true,
    capture: config.capture,
    // Raw principals stay in here: only their hash reaches events (and so the dispatcher).
    hashPrincipal: userIdKey === undefined ? undefined : (principal) => hashUserId(principal, tenantId, userIdKey),
    defaultPrincipal: config.principal === undefined ? undefined : { id: config.principal },
    serverLabel: deps.serverLabel,
    // The trace tracker edits start drafts as they are emitted: it needs them built at once.
    lazyDrafts: config.otlp === undefined,
  });
  if (config.principal !== undefined && userIdKey === undefined)
    logger.warn("BATON_PRINCIPAL is set but BATON_USER_ID_HMAC_KEY is not: events carry no user_id");
  return state;
}
