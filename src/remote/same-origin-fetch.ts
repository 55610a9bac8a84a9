// fetch for requests that carry secrets (the remote server's, a sink's, auth login's): redirects are followed only within the origin, so headers and bodies never go elsewhere.

import { clip, maskUrl } from "../config-sinks.ts";

/** Redirect statuses (RFC 9110 §15.4) that name a new location. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Redirects followed for one request, as a loop guard. */
export const MAX_REDIRECTS = 5;

/** What {@link sameOriginFetch} needs of the fetch it wraps (`globalThis.fetch` fits, so does a sink's FetchLike). */
export type BaseFetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Wraps `base` so a redirect is followed only when it stays on `origin`. fetch's own following
 * drops `Authorization` on a cross-origin hop but sends every other header on, `--header
 * "X-Api-Key: …"` included; a redirect elsewhere is returned as it came (the caller reports its
 * status and where it pointed). A 303, or a 301/302 after a POST, continues as a bodiless GET, as
 * fetch does.
 */
export function sameOriginFetch(base: BaseFetch, origin: string): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    let method = (init?.method ?? "GET").toUpperCase();
    let body = init?.body;
    for (let hop = 0; ; hop++) {
      const response = await base(url.href, { ...init, method, body, redirect: "manual" });
      const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
      if (location === null || hop >= MAX_REDIRECTS) return response;
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return response;
      }
      if (next.origin !== origin) return response;
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
      url = next;
    }
  }) as typeof fetch;
}

/**
 * Why `response` (from {@link sameOriginFetch} for `requested`) is a redirect that was not followed,
 * as a phrase for an error message, its target masked; undefined when it is no redirect.
 */
export function describeUnfollowedRedirect(response: Response, requested: string): string | undefined {
  const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
  if (location === null) return undefined;
  let target: URL;
  try {
    target = new URL(location, response.url || requested);
  } catch {
    return `a redirect to an invalid location "${clip(maskUrl(location))}", not followed`;
  }
  return target.origin === new URL(requested).origin
    ? `more than ${MAX_REDIRECTS} redirects, not followed`
    : `a redirect to ${clip(maskUrl(target.href))}, another origin, not followed`;
}
