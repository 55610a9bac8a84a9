// The `user_id` of events: upstream's `h1:` HMAC of a principal, and the principal of an HTTP request (trusted header or bearer JWT claims). Pure.

/** Who is calling: a user id, and the issuer that vouches for it when known (JWT `iss`). */
export interface Principal {
  readonly id: string;
  readonly issuer?: string;
}

/**
 * Python's `str.isspace()` set, which upstream's `strip()` removes: unlike JS `trim()` it keeps
 * U+FEFF and removes U+001C..U+001F and U+0085.
 */
const PYTHON_SPACE =
  "\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Upstream's canonical form: NFC, Python `strip()`, lower-case. */
export function canonicalPrincipal(raw: string): string {
  const text = raw.normalize("NFC");
  let start = 0;
  let end = text.length;
  while (start < end && PYTHON_SPACE.includes(text[start] as string)) start++;
  while (end > start && PYTHON_SPACE.includes(text[end - 1] as string)) end--;
  return text.slice(start, end).toLowerCase();
}

/** Blank as upstream sees an id (Python `strip()`, wider than JS `trim()`): such an id is no principal, never the empty user's hash. */
export function isBlankPrincipal(raw: string): boolean {
  return canonicalPrincipal(raw) === "";
}

/**
 * `h1:` + hex HMAC-SHA256 over `tenant \0 canonical(id)` keyed by the UTF-8 key: byte-identical
 * to upstream 0.5.x for issuer-less principals. With an issuer, `\0 issuer` is appended (the
 * later SDKs' form), so the same `sub` from two issuers never collides.
 */
export function hashUserId(principal: Principal, tenantId: string, key: string): string {
  let message = `${tenantId}\u0000${canonicalPrincipal(principal.id)}`;
  if (principal.issuer !== undefined && principal.issuer !== "") message += `\u0000${principal.issuer}`;
  // Bun's native hasher: importing node:crypto would add 13-19 ms to every proxy start.
  return `h1:${new Bun.CryptoHasher("sha256", key).update(message, "utf8").digest("hex")}`;
}

/** Headers as a transport has them: a fetch `Headers`, or a plain record with lower-case names (a repeated header as an array). */
export type RequestHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * The principal of a hosted-mode request: the value of `trustedHeader` (BATON_PRINCIPAL_HEADER,
 * set by an authenticating gateway) when present, else `sub` (with `iss`) of the bearer JWT. The
 * JWT is decoded WITHOUT verifying its signature: the claims only group events by user, they
 * grant nothing. Returns undefined when neither yields a non-blank id.
 */
export function principalFromHeaders(
  headers: RequestHeaders,
  trustedHeader: string | undefined,
): Principal | undefined {
  if (trustedHeader !== undefined && trustedHeader !== "") {
    const value = header(headers, trustedHeader);
    if (value !== undefined && !isBlankPrincipal(value)) return { id: value.trim() };
  }
  const authorization = header(headers, "authorization");
  const match =
    authorization === undefined
      ? null
      : /^\s*bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)\s*$/i.exec(authorization);
  if (match === null) return undefined;
  const claims = decodeClaims(match[2] as string);
  if (claims === undefined || typeof claims.sub !== "string" || isBlankPrincipal(claims.sub)) return undefined;
  return typeof claims.iss === "string" && claims.iss !== ""
    ? { id: claims.sub, issuer: claims.iss }
    : { id: claims.sub };
}

function header(headers: RequestHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name.toLowerCase()];
  return typeof value === "string" ? value : value?.[0];
}

function decodeClaims(segment: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
