// HOOK: the caller's principal (who is calling) from request headers, for event user_id and stateless grouping.

/**
 * The `signal` helper owns the derivation (a pure function over the request's credential
 * headers). Until its module is merged this hook knows no principal and returns undefined:
 * events carry `user_id: null` and stateless-era requests are grouped by remote address.
 * Replace the body with a call to signal's exported function; keep the signature.
 */
export function principalFromHeaders(headers: Headers): string | undefined {
  void headers;
  return undefined;
}
