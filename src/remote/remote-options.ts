// The `--url` target: the remote server's URL (given, or read from `--url-env`'s variable) checked, `--header` lines with ${NAME} references and `--header-env` variables resolved. Pure: options/env in, a target or problems out.

import { MISSING_SCHEME } from "../config-sinks.ts";

/** What `baton-proxy (--url URL | --url-env VARIABLE) [--header "Name: value"]… [--header-env Name=VARIABLE]… [--allow-http]` asks for, before env references are resolved. */
export interface RemoteArgs {
  /** `--url` as written; unused when `urlEnv` is given. */
  readonly url?: string;
  /**
   * `--url-env`: the variable holding the URL. This is what `wrap` writes: a URL may carry a secret
   * (a key in its query or path) and args are readable by every local user (`ps`, /proc/PID/cmdline).
   */
  readonly urlEnv?: string;
  /** `--header` values as written (may hold `${NAME}` references). */
  readonly headers: readonly string[];
  /**
   * `--header-env` values as written (`Name=VARIABLE`): the header's value is the variable's, as is.
   * This is what `wrap` writes: hosts expand `${…}` in args from their own environment, not the entry's env.
   */
  readonly headerEnv?: readonly string[];
  readonly allowHttp: boolean;
}

/** The remote target, ready to use: a checked URL and headers with every reference resolved. */
export interface RemoteTarget {
  readonly url: URL;
  /** Display name used in logs, errors and events: scheme://host[:port], never path, query or credentials. */
  readonly origin: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Resolved header values (and URL credentials), for the log redactor: never printed. */
  readonly secrets: readonly string[];
  /** The `--url-env` variable the URL came from: messages name it instead of quoting the URL. */
  readonly urlEnv?: string;
  /** `--allow-http` was given: plain http to a non-local host is accepted, the OAuth endpoints' included. */
  readonly allowHttp?: boolean;
}

/** Headers the proxy owns on the wire: a `--header` may not set them. */
const RESERVED_HEADERS = new Set([
  "accept",
  "content-type",
  "content-length",
  "host",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
  "mcp-method",
  "mcp-name",
  "connection",
  "transfer-encoding",
]);
/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks the URL (`--url`, or the value of `--url-env`'s variable), resolves `${NAME}` references
 * in `--header` values and the variables named by `--header-env` from `env`. Every problem is
 * reported at once; no problem text ever contains a header value (only its name), nor text that
 * may be one pasted in the wrong place, nor more of the URL than its origin.
 */
export function resolveRemoteTarget(
  args: RemoteArgs,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; target: RemoteTarget } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const secrets: string[] = [];
  // Problems name the flag (and the variable), never the URL: only its origin or a scheme made of letters.
  let urlFlag = "--url";
  let text = args.url;
  if (args.urlEnv !== undefined) {
    // Not echoed when it is not a variable name: it may be the URL itself, pasted in the wrong place.
    const named = VARIABLE_NAME.test(args.urlEnv);
    urlFlag = named ? `--url-env ${args.urlEnv}` : "--url-env";
    text = named ? env[args.urlEnv] : undefined;
    if (!named) problems.push(`--url-env must name an environment variable (letters, digits, _)`);
    else if (text === undefined) problems.push(`--url-env names ${args.urlEnv}, which is not set in the environment`);
    else if (text === "") problems.push(`--url-env names ${args.urlEnv}, which is empty`);
  }
  let url: URL | undefined;
  if (text !== undefined && text !== "") {
    try {
      url = new URL(text);
    } catch {
      problems.push(`${urlFlag} is not a valid URL (expected https://host/path)`);
    }
  } else if (args.urlEnv === undefined) problems.push(`--url is not a valid URL (expected https://host/path)`);
  if (url !== undefined) {
    // `localhost:3000/mcp` parses, as the scheme "localhost:": the scheme is what is missing.
    if (url.protocol !== "https:" && url.protocol !== "http:" && !text?.includes("://"))
      problems.push(`${urlFlag} ${MISSING_SCHEME}`);
    else if (url.protocol !== "https:" && url.protocol !== "http:")
      problems.push(
        `${urlFlag} must be http(s)://${/^[a-z]{1,16}:$/i.test(url.protocol) ? ` (got "${url.protocol}")` : ""}`,
      );
    else if (url.protocol === "http:" && !isLoopback(url.hostname) && !args.allowHttp) {
      problems.push(
        `${urlFlag} ${url.origin} is plain http to a non-local host: use https, or add --allow-http if you accept sending credentials in clear`,
      );
    }
    if (url.username !== "" || url.password !== "")
      secrets.push(decodedOrAsIs(url.username), decodedOrAsIs(url.password));
    url.hash = "";
  }
  const headers: Record<string, string> = {};
  // A name given twice would reach the server merged ("a, b", which no credential is) or the last would win unseen.
  const given = new Map<string, string>();
  const firstTime = (flag: string, name: string): boolean => {
    const earlier = given.get(name.toLowerCase());
    if (earlier !== undefined)
      problems.push(`${flag} ${name} is given twice (also as ${earlier}; header names ignore case): give it once`);
    else given.set(name.toLowerCase(), `${flag} ${name}`);
    return earlier === undefined;
  };
  const accept = (flag: string, name: string, value: string): void => {
    if (/[\r\n\0]/.test(value)) {
      problems.push(`${flag} ${name} has a line break or NUL in its value`);
      return;
    }
    // fetch throws on such a value at every request, which read as the server being unreachable.
    if (/[\u0100-\uffff]/.test(value)) {
      problems.push(`${flag} ${name} has a character beyond U+00FF in its value (an HTTP header cannot carry it)`);
      return;
    }
    headers[name] = value;
    if (value !== "") secrets.push(value, ...value.split(/\s+/).filter((part) => part.length >= 8));
  };
  for (const line of args.headers) {
    const colon = line.indexOf(":");
    const name = colon === -1 ? line.trim() : line.slice(0, colon).trim();
    if (colon === -1 || !HEADER_NAME.test(name)) {
      // Never echoed: without a colon the whole line may be a pasted secret (tokens are shaped like header names).
      problems.push(`--header "…" must look like "Name: value"`);
      continue;
    }
    if (isReservedHeader(name)) {
      problems.push(`--header ${name} is set by the proxy itself and cannot be overridden`);
      continue;
    }
    if (!firstTime("--header", name)) continue;
    const missing: string[] = [];
    const value = line
      .slice(colon + 1)
      .trim()
      .replace(REFERENCE, (_all, ref: string) => {
        const resolved = env[ref];
        if (resolved === undefined || resolved === "") missing.push(ref);
        return resolved ?? "";
      });
    if (missing.length > 0) {
      problems.push(
        `--header ${name} refers to ${missing.map((m) => `\${${m}}`).join(", ")}, which ${missing.length === 1 ? "is" : "are"} not set in the environment`,
      );
      continue;
    }
    accept("--header", name, value);
  }
  for (const item of args.headerEnv ?? []) {
    const equals = item.indexOf("=");
    const name = item.slice(0, equals).trim();
    if (equals === -1 || !HEADER_NAME.test(name)) {
      problems.push(`--header-env "…" must look like "Name=VARIABLE"`);
      continue;
    }
    const variable = item.slice(equals + 1).trim();
    if (!VARIABLE_NAME.test(variable)) {
      problems.push(`--header-env ${name} must name an environment variable after "=" (letters, digits, _)`);
      continue;
    }
    if (isReservedHeader(name)) {
      problems.push(`--header-env ${name} is set by the proxy itself and cannot be overridden`);
      continue;
    }
    if (!firstTime("--header-env", name)) continue;
    // Set but empty is a value (the entry's header was ""); only a missing variable is a problem.
    const value = env[variable];
    if (value === undefined) {
      problems.push(`--header-env ${name} names ${variable}, which is not set in the environment`);
      continue;
    }
    accept("--header-env", name, value);
  }
  if (problems.length > 0 || url === undefined) return { ok: false, problems };
  return {
    ok: true,
    target: {
      url,
      origin: displayOrigin(url),
      headers,
      secrets: secrets.filter((s) => s !== ""),
      ...(args.urlEnv === undefined ? {} : { urlEnv: args.urlEnv }),
      ...(args.allowHttp ? { allowHttp: true } : {}),
    },
  };
}

/** True for a header the proxy sets itself, which `--header`/`--header-env` may not set. */
export function isReservedHeader(name: string): boolean {
  return RESERVED_HEADERS.has(name.toLowerCase());
}

/** scheme://host[:port] of a URL: how logs, errors and events name a remote server. */
export function displayOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

export function isLoopback(hostname: string): boolean {
  return (
    hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}

/** A URL part percent-decoded; as written when a `%` in it starts no escape (a password pasted as is). */
function decodedOrAsIs(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
