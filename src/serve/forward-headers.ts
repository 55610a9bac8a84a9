// Rewrites headers at the proxy boundary per RFC 9110 §7.6: hop-by-hop fields dropped, Via and X-Forwarded-* added. Pure.

/** Our entry in `Via` (RFC 9110 §7.6.3: protocol version and a pseudonym). */
export const VIA_ENTRY = "1.1 baton-proxy";

/** The per-request consent header: consumed by the proxy, never forwarded (it is a credential of the caller's). */
export const CONSENT_HEADER = "baton-consent-token";

/** Connection-specific fields (RFC 9110 §7.6.1, plus the legacy names proxies still meet). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

/** What the proxy knows about the client connection. */
export interface ClientHop {
  /** The client's IP address, as the socket saw it. */
  readonly remoteAddress: string | undefined;
  /** `http` or `https` as the client reached us. */
  readonly proto: string;
  /** The Host the client asked for. */
  readonly host: string | null;
}

/** Drops hop-by-hop fields, including every field the Connection header names. Returns a new Headers. */
export function withoutHopByHop(source: Headers): Headers {
  // A native copy then deletes: iterating Headers in JS cost several times more per request.
  const out = new Headers(source);
  const connection = source.get("connection");
  if (connection !== null) for (const token of connection.split(",")) if (token.trim() !== "") out.delete(token.trim());
  for (const name of HOP_BY_HOP) out.delete(name);
  return out;
}

/**
 * Headers for the upstream request: hop-by-hop and the consent header removed; Host left to
 * the HTTP client (it names the upstream); Via and X-Forwarded-For/-Proto/-Host appended to
 * whatever earlier proxies wrote. Authorization and every other end-to-end field pass unchanged.
 */
export function upstreamRequestHeaders(source: Headers, hop: ClientHop): Headers {
  const out = withoutHopByHop(source);
  out.delete("host");
  out.delete(CONSENT_HEADER);
  out.delete("content-length"); // the HTTP client frames the body it sends
  appendList(out, "via", VIA_ENTRY);
  if (hop.remoteAddress !== undefined) appendList(out, "x-forwarded-for", hop.remoteAddress);
  if (out.has("forwarded")) appendList(out, "forwarded", forwardedElement(hop));
  if (!out.has("x-forwarded-proto")) out.set("x-forwarded-proto", hop.proto);
  if (!out.has("x-forwarded-host") && hop.host !== null) out.set("x-forwarded-host", hop.host);
  return out;
}

/**
 * Fields that describe the upstream's exact body bytes: wrong once the proxy rewrote or decoded it
 * (a client or cache checking a digest would reject the answer, or trust a stale one).
 */
const BODY_BOUND = new Set([
  "content-length",
  "content-encoding",
  "content-digest",
  "repr-digest",
  "content-md5",
  "digest",
]);

/**
 * The ETag for a body the proxy changed. A strong ETag promises byte-for-byte identity, which the
 * rewritten/decoded bytes no longer have (a cache or a range request would mix them with the
 * upstream's); weakened to `W/`, as nginx's gzip and gunzip filters do, it still says "the same
 * upstream version", which holds: the proxy's rewrite depends only on that answer and the proxy's
 * fixed configuration, so a conditional request's 304 stays true. A weak one is kept as is.
 */
function weakened(etag: string): string {
  return etag.startsWith("W/") ? etag : `W/${etag}`;
}

/**
 * Headers for the response to the client: hop-by-hop removed and our Via appended; everything
 * else (status-related fields, WWW-Authenticate, Set-Cookie, Mcp-Session-Id…) unchanged.
 * `bodyChanged` drops the fields bound to the upstream's bytes (length, encoding, digests) and
 * weakens a strong ETag, since the body we send is one we rewrote or decoded.
 */
export function clientResponseHeaders(source: Headers, bodyChanged: boolean): Headers {
  const out = withoutHopByHop(source);
  if (bodyChanged) {
    for (const name of BODY_BOUND) out.delete(name);
    const etag = out.get("etag");
    if (etag !== null) out.set("etag", weakened(etag));
  }
  appendList(out, "via", VIA_ENTRY);
  return out;
}

/**
 * {@link upstreamRequestHeaders} as the request head's field lines (`name: value\r\n` each), for
 * the proxy's own HTTP/1.1 client: one native snapshot of the fields and one pass, no Headers copy.
 */
export function renderUpstreamFields(source: Headers, hop: ClientHop): string {
  const fields = source.toJSON() as Record<string, string | string[]>;
  const named = connectionNamed(fields.connection);
  let text = "";
  for (const name in fields) {
    if (HOP_BY_HOP.has(name) || named?.has(name) || REQUEST_DROPPED.has(name)) continue;
    const value = fields[name] as string | string[];
    if (typeof value === "string") text += `${name}: ${value}\r\n`;
    else for (const each of value) text += `${name}: ${each}\r\n`;
  }
  const own = (name: string) => (named?.has(name) ? undefined : (fields[name] as string | undefined));
  text += `via: ${joinValue(own("via"), VIA_ENTRY)}\r\n`;
  const forwardedFor = own("x-forwarded-for");
  if (hop.remoteAddress !== undefined) text += `x-forwarded-for: ${joinValue(forwardedFor, hop.remoteAddress)}\r\n`;
  else if (forwardedFor !== undefined) text += `x-forwarded-for: ${forwardedFor}\r\n`;
  const proto = own("x-forwarded-proto");
  text += `x-forwarded-proto: ${proto ?? hop.proto}\r\n`;
  const host = own("x-forwarded-host") ?? hop.host ?? undefined;
  if (host !== undefined) text += `x-forwarded-host: ${host}\r\n`;
  const forwarded = own("forwarded");
  if (forwarded !== undefined) text += `forwarded: ${joinValue(forwarded, forwardedElement(hop))}\r\n`;
  return text;
}

/**
 * The proxy's own element of a `Forwarded` field (RFC 7239 §4), appended only to one the client
 * wrote: upstreams that read that field before X-Forwarded-For (Rack 3's default, Spring's filter)
 * would otherwise take the client's own words for its address, as its last hop.
 */
function forwardedElement(hop: ClientHop): string {
  const address = hop.remoteAddress;
  // An IPv6 node is bracketed and quoted (its colons are no token characters); none known is "unknown" (§6.3).
  const node = address === undefined ? "unknown" : address.includes(":") ? `"[${address}]"` : address;
  const host = hop.host === null ? "" : `;host="${hop.host.replace(/["\\]/g, "\\$&")}"`;
  return `for=${node};proto=${hop.proto}${host}`;
}

/**
 * {@link clientResponseHeaders} from the name/value pairs of a response head (names in lower
 * case): one Headers built, none copied.
 */
export function clientResponseFields(pairs: readonly (readonly [string, string])[], bodyChanged: boolean): Headers {
  let connection: string | undefined;
  let via: string | undefined;
  for (const [name, value] of pairs) {
    if (name === "connection") connection = connection === undefined ? value : `${connection}, ${value}`;
    else if (name === "via") via = via === undefined ? value : `${via}, ${value}`;
  }
  const named = connectionNamed(connection);
  const out: [string, string][] = [];
  for (const pair of pairs) {
    const name = pair[0];
    if (HOP_BY_HOP.has(name) || named?.has(name) || name === "via") continue;
    if (bodyChanged && BODY_BOUND.has(name)) continue;
    out.push(bodyChanged && name === "etag" ? [name, weakened(pair[1])] : (pair as [string, string]));
  }
  out.push(["via", joinValue(named?.has("via") ? undefined : via, VIA_ENTRY)]);
  return new Headers(out);
}

/** Request fields the proxy drops or rewrites itself beyond the hop-by-hop ones (Via and X-Forwarded-* are appended after). */
const REQUEST_DROPPED = new Set([
  "host",
  CONSENT_HEADER,
  "content-length",
  "via",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
]);

/** The field names a Connection header lists (lower case), or undefined when there is none. */
function connectionNamed(connection: string | string[] | undefined): Set<string> | undefined {
  // The usual values name nothing beyond the fixed hop-by-hop set.
  if (connection === undefined || connection === "keep-alive" || connection === "close") return undefined;
  const names = new Set<string>();
  for (const token of String(connection).split(",")) if (token.trim() !== "") names.add(token.trim().toLowerCase());
  return names;
}

function joinValue(existing: string | undefined, value: string): string {
  return existing === undefined || existing.trim() === "" ? value : `${existing}, ${value}`;
}

function appendList(headers: Headers, name: string, value: string): void {
  const existing = headers.get(name);
  headers.set(name, existing === null || existing.trim() === "" ? value : `${existing}, ${value}`);
}
