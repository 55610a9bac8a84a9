// HOOK: who is calling (the principal), from a request's headers, for events' user_id and stateless-era grouping.

import type { Config } from "../config.ts";

/** The shape of signal's `Principal` (src/identity/user-id.ts on main): a user id and the issuer vouching for it. */
export interface CallerPrincipal {
  readonly id: string;
  readonly issuer?: string;
}

/**
 * HOOK until this branch meets the `signal` work (merged on main): there the derivation is
 * `principalFromHeaders(headers, config.principalHeader)` from src/identity/user-id.ts (the
 * BATON_PRINCIPAL_HEADER set by a gateway, else the bearer JWT's sub/iss), and the engine hashes
 * RequestContext.principal into user_id. After that merge this body becomes that one call, and
 * engine-exchange.ts passes `principal` in the engine context. Until then no principal is known:
 * events carry user_id null and stateless-era requests are grouped by remote address.
 */
export function principalOf(headers: Headers, config: Config): CallerPrincipal | undefined {
  void headers;
  void config;
  return undefined;
}

/** A stable key for grouping by principal (issuer-qualified, as signal's user_id hash is). */
export function principalKey(principal: CallerPrincipal): string {
  return principal.issuer === undefined ? principal.id : `${principal.id}\u0000${principal.issuer}`;
}
