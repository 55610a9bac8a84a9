// Decides whether a request's Origin may call the proxy (the MCP spec's DNS-rebinding defence). Pure.

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * True when `origin` (the raw header, or null when absent) may call. Requests without an Origin
 * (non-browser clients) always pass; `"loopback"` allows http(s) on localhost, 127.0.0.1 and
 * [::1] at any port; a list allows exact origins (case-insensitive) or everything with `*`.
 * The literal `null` origin (sandboxed frames, file:) is only allowed by `*`.
 */
export function isOriginAllowed(origin: string | null, allowed: "loopback" | readonly string[]): boolean {
  if (origin === null) return true;
  const normalised = origin.trim().toLowerCase().replace(/\/+$/, "");
  if (allowed !== "loopback") return allowed.includes("*") || allowed.includes(normalised);
  let url: URL;
  try {
    url = new URL(normalised);
  } catch {
    return false;
  }
  return (
    (url.protocol === "http:" || url.protocol === "https:") &&
    LOOPBACK_HOSTS.has(url.hostname) &&
    url.origin === normalised
  );
}
