// Reads one `serve` setting's text (upstream URL, listen address, allowed origins, whole numbers): each reader pushes its problem, worded with the flag or variable it came from, and never throws. Pure; which setting reads what is serve-args.ts's business.

import { MISSING_SCHEME, maskUrl } from "../config-sinks.ts";
import { SERVE_FLAGS } from "./serve-flags.ts";

/** Where a listener binds (port 0: a free one is picked). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

// Defined with the flags, whose help states it.
export { MAX_TIMER_MS } from "./serve-flags.ts";

/** For a server command given to serve: where a stdio server goes instead. */
export const STDIO_SERVER_HINT =
  "serve fronts a server that already answers MCP over HTTP (its Streamable HTTP URL); a server started as a command (stdio) goes behind `baton-proxy -- <command>`, or start it with its HTTP transport and give that URL";

/** The upstream MCP endpoint: required, an absolute http:// or https:// URL without credentials or fragment. */
export function parseUpstream(raw: string | undefined, label: string, problems: string[]): URL | undefined {
  if (raw === undefined) {
    problems.push(
      `${SERVE_FLAGS.upstream.flag} (or ${SERVE_FLAGS.upstream.env}) is required: the URL of the MCP server to proxy`,
    );
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Masked as --url's are: a URL too broken to parse may still hold a password or an API key in its query.
    problems.push(
      `${label} "${clip(maskUrl(raw))}" is not a valid URL${/\s/.test(raw.trim()) ? `: ${STDIO_SERVER_HINT}` : ""}`,
    );
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    // `localhost:3000/mcp` parses, as the scheme "localhost:": the scheme is what is missing.
    problems.push(
      raw.includes("://")
        ? `${label} must be an http:// or https:// URL (got "${url.protocol}")`
        : `${label} ${MISSING_SCHEME}`,
    );
    return undefined;
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") {
    problems.push(
      `${label} must not carry credentials or a fragment (credentials go in the client's Authorization header)`,
    );
    return undefined;
  }
  return url;
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (all interfaces). Port 0 picks a free port. */
export function parseListen(raw: string, label: string, problems: string[]): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[3]);
  if (match === null || port > 65_535) {
    problems.push(`${label} must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 (got "${clip(raw)}")`);
    return undefined;
  }
  const host = match[1] ?? (match[2] === "" ? "0.0.0.0" : (match[2] ?? ""));
  return { host, port };
}

/** A comma-separated list of origins (lower-cased, trailing slashes cut; `*` kept): each must be scheme://host[:port]. */
export function parseOrigins(raw: string, label: string, problems: string[]): string[] {
  const list = raw
    .split(",")
    .map((o) => o.trim().toLowerCase().replace(/\/+$/, ""))
    .filter((o) => o !== "");
  // Only separators: an empty value means the loopback default, but an empty list would allow no browser origin at all.
  if (list.length === 0)
    problems.push(`${label} lists no origin (unset, it allows the loopback origins; * allows all)`);
  for (const origin of list) {
    if (origin === "*") continue;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // Only a path, query or fragment makes it no origin; otherwise it is one spelt differently from the
    // Origin header (a default port, an IDN or IPv6 host), which could never match: give that spelling.
    const bare = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/.test(origin);
    if (url !== undefined && bare && url.origin !== "null" && url.origin !== origin) {
      problems.push(
        `${label} entry "${clip(maskUrl(origin))}" is not an origin as a browser sends it, which is "${clip(url.origin)}": give that form`,
      );
    } else if (url === undefined || url.origin === "null" || url.origin !== origin) {
      problems.push(
        `${label} entry "${clip(maskUrl(origin))}" is not an origin (scheme://host[:port], no path), or "*"`,
      );
    }
  }
  return list;
}

/** A whole number at least `min`; absent or invalid gives `fallback` (a problem for the invalid one). */
export function parseWhole(
  raw: string | undefined,
  fallback: number,
  label: string,
  min: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    problems.push(`${label} must be a whole number ≥ ${min} (got "${clip(raw)}")`);
    return fallback;
  }
  return value;
}

/** Two listen hosts that may share a port: the same, or either is every interface. */
export function sameHost(a: string, b: string): boolean {
  return a === b || a === "0.0.0.0" || b === "0.0.0.0" || a === "::" || b === "::";
}

/** `text` cut to 80 characters for a problem message. */
export function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
