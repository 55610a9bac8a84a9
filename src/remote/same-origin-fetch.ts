// fetch for the remote server's requests: redirects are followed only within its origin, so headers carrying secrets never go elsewhere.

/** Redirect statuses (RFC 9110 §15.4) that name a new location. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Redirects followed for one request, as a loop guard. */
export const MAX_REDIRECTS = 5;

/**
 * Wraps `base` so a redirect is followed only when it stays on `origin`. fetch's own following
 * drops `Authorization` on a cross-origin hop but sends every other header on, `--header
 * "X-Api-Key: …"` included; a redirect elsewhere is returned as it came (the caller reports its
 * status and where it pointed). A 303, or a 301/302 after a POST, continues as a bodiless GET, as
 * fetch does.
 */
export function sameOriginFetch(base: typeof fetch, origin: string): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    let method = (init?.method ?? "GET").toUpperCase();
    let body = init?.body;
    for (let hop = 0; ; hop++) {
      const response = await base(url, { ...init, method, body, redirect: "manual" });
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
