// Who is calling (the principal), from a request's headers: for events' user_id and stateless-era grouping.

import type { Config } from "../config.ts";
import { type Principal, principalFromHeaders } from "../identity/user-id.ts";

/** A user id and the issuer vouching for it (the identity module's Principal). */
export type CallerPrincipal = Principal;

/**
 * The caller: the trusted header named by BATON_PRINCIPAL_HEADER (set by an authenticating
 * gateway), else the `sub` (with `iss`) of the request's bearer JWT, decoded without verification:
 * it only groups events, it authorises nothing. Undefined when neither is there.
 */
export function principalOf(headers: Headers, config: Config): CallerPrincipal | undefined {
  return principalFromHeaders(headers, config.principalHeader);
}

/** A stable key for grouping by principal (issuer-qualified, as the user_id hash is). */
export function principalKey(principal: CallerPrincipal): string {
  return principal.issuer === undefined ? principal.id : `${principal.id}\u0000${principal.issuer}`;
}
