// A request's URL as Bun hands it to a listener, made a URL object even when the request named no host. Pure.

/** Only a request's path and query are read from its URL: a bare path is resolved against this placeholder. */
const BARE_PATH_BASE = "http://host.invalid";

/**
 * `request.url` parsed. Bun hands over a bare path (`/healthz`) for a request without Host, which
 * HTTP/1.0 allows (HAProxy's default health check sends one), and a text no URL can hold for a
 * malformed Host (`[::1`) or a CONNECT authority: undefined then, and the request gets 400.
 */
export function requestUrl(url: string): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, BARE_PATH_BASE);
  } catch {
    return undefined;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed : undefined;
}
