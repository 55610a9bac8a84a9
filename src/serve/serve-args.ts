// Parses `baton-proxy serve` flags and their BATON_* environment forms into one frozen ServeConfig, or every problem at once. Pure.

import { type OptionValue, parseOptionList } from "../command-spec.ts";
import { loadConfig, type Config } from "../config.ts";
import { maskUrl } from "../config-sinks.ts";
import {
  DEFAULT_ADMIN_LISTEN,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LISTEN,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_IDLE_MS,
  MAX_IDLE_TIMEOUT_MS,
  MIN_IDLE_TIMEOUT_MS,
  overriddenVariables,
  SERVE_FLAGS,
  SERVE_OPTIONS,
} from "./serve-flags.ts";
import {
  clip,
  type ListenAddress,
  MAX_TIMER_MS,
  parseListen,
  parseOrigins,
  parseUpstream,
  parseWhole,
  sameHost,
  STDIO_SERVER_HINT,
} from "./serve-values.ts";

// Re-exported so callers and tests keep reading the flag table and its defaults from here.
export * from "./serve-flags.ts";
export { type ListenAddress, parseListen } from "./serve-values.ts";

export interface ServeConfig {
  /** The upstream MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly upstream: URL;
  readonly listen: ListenAddress;
  /** The MCP path on our listener; it maps to `upstream.pathname`, every other path passes to the same path. */
  readonly path: string;
  readonly adminListen: ListenAddress;
  /** Allowed `Origin` values (lower-cased, no trailing slash); `"loopback"` = any port on localhost/127.0.0.1/[::1]; `"*"` in the list allows all. */
  readonly allowedOrigins: "loopback" | readonly string[];
  readonly maxBodyBytes: number;
  /** A request body must arrive whole within this long (a client dripping bytes resets the idle timeout, not this). */
  readonly bodyTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly sessionIdleMs: number;
  /** Sessions tracked at most (with Mcp-Session-Id and stateless groups together); the least recently used idle one makes room. */
  readonly maxSessions: number;
  /** A client connection with no bytes either way for this long is closed (slow or stalled clients). */
  readonly idleTimeoutMs: number;
  /**
   * Send to the upstream with `fetch` even when it is `http://`: a forward proxy is configured
   * (HTTP_PROXY / http_proxy, which fetch honours together with NO_PROXY). Otherwise an `http://`
   * upstream is spoken to by the proxy's own HTTP/1.1 client, which connects directly.
   */
  readonly upstreamViaFetch: boolean;
  /** The BATON_* settings shared with the stdio proxy (sinks, tenant, consent mode and token, scrubbing…). */
  readonly baton: Config;
}

export type ServeArgsResult =
  | { readonly kind: "help" }
  | { readonly kind: "ok"; readonly config: ServeConfig }
  | { readonly kind: "problems"; readonly problems: readonly string[] };

type Key = keyof typeof SERVE_FLAGS;
type Env = Readonly<Record<string, string | undefined>>;

/** The variables Bun's fetch reads for a forward proxy to http:// targets (it applies NO_PROXY itself). */
const FORWARD_PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy"] as const;

function hasForwardProxy(env: Env): boolean {
  return FORWARD_PROXY_VARIABLES.some((name) => (env[name] ?? "").trim() !== "");
}

/**
 * Reads `argv` (after the `serve` word) and `env`: flags take `--flag value` or `--flag=value`
 * and win over their environment form. A usage error (unknown option, missing value) is
 * reported alone; every configuration problem is reported at once. Never throws.
 */
export function parseServeArgs(argv: readonly string[], env: Env): ServeArgsResult {
  let values: Readonly<Record<string, OptionValue>>;
  try {
    values = parseOptionList(
      [...SERVE_OPTIONS, { name: "help", short: "h", help: "" }],
      argv,
      false,
      STDIO_SERVER_HINT,
    ).values;
  } catch (error) {
    return { kind: "problems", problems: [error instanceof Error ? error.message : String(error)] };
  }
  if (values.help === true) return { kind: "help" };
  return resolveServeConfig(values, env);
}

/** Validates parsed option values (by long name) together with `env` into a frozen {@link ServeConfig}, or every problem. Pure. */
export function resolveServeConfig(values: Readonly<Record<string, OptionValue>>, env: Env): ServeArgsResult {
  const problems: string[] = [];
  const given = (key: Key): string | undefined => {
    const value = values[SERVE_FLAGS[key].flag.slice(2)];
    return typeof value === "string" ? value : undefined;
  };
  const pick = (key: Key): string | undefined => {
    const raw = given(key) ?? env[SERVE_FLAGS[key].env];
    return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
  };
  const label = (key: Key) => (given(key) !== undefined ? SERVE_FLAGS[key].flag : SERVE_FLAGS[key].env);

  const upstream = parseUpstream(pick("upstream"), label("upstream"), problems);
  const listen = parseListen(pick("listen") ?? DEFAULT_LISTEN, label("listen"), problems);
  const adminListen = parseListen(pick("adminListen") ?? DEFAULT_ADMIN_LISTEN, label("adminListen"), problems);
  const path = pick("path") ?? upstream?.pathname ?? "/";
  if (!path.startsWith("/")) problems.push(`${label("path")} must start with "/" (got "${clip(maskUrl(path))}")`);
  else if (/[?#\s]/.test(path))
    problems.push(`${label("path")} must be a path alone, without "?", "#" or spaces (got "${clip(maskUrl(path))}")`);
  else if (new URL(path, "http://h").pathname !== path) {
    // Requests are matched by their parsed path: a spelling parsing changes would never match, and the MCP traffic would pass through unseen.
    problems.push(
      `${label("path")} "${clip(path)}" is read as "${clip(new URL(path, "http://h").pathname)}" in requests: give that form`,
    );
  }
  const origins = pick("allowedOrigins");
  const allowedOrigins = origins === undefined ? "loopback" : parseOrigins(origins, label("allowedOrigins"), problems);
  const maxBodyBytes = parseWhole(pick("maxBodyBytes"), DEFAULT_MAX_BODY_BYTES, label("maxBodyBytes"), 1, problems);
  const bodyTimeoutMs = parseWhole(pick("bodyTimeoutMs"), DEFAULT_BODY_TIMEOUT_MS, label("bodyTimeoutMs"), 1, problems);
  // Timers fire at once beyond 2^31-1 ms: a larger deadline would refuse every body.
  if (bodyTimeoutMs > MAX_TIMER_MS)
    problems.push(`${label("bodyTimeoutMs")} must be at most ${MAX_TIMER_MS} (got ${bodyTimeoutMs})`);
  const drainTimeoutMs = parseWhole(
    pick("drainTimeoutMs"),
    DEFAULT_DRAIN_TIMEOUT_MS,
    label("drainTimeoutMs"),
    0,
    problems,
  );
  const sessionIdleMs = parseWhole(pick("sessionIdleMs"), DEFAULT_SESSION_IDLE_MS, label("sessionIdleMs"), 1, problems);
  const maxSessions = parseWhole(pick("maxSessions"), DEFAULT_MAX_SESSIONS, label("maxSessions"), 1, problems);
  const idleTimeoutMs = parseWhole(
    pick("idleTimeoutMs"),
    DEFAULT_IDLE_TIMEOUT_MS,
    label("idleTimeoutMs"),
    MIN_IDLE_TIMEOUT_MS,
    problems,
  );
  if (idleTimeoutMs > MAX_IDLE_TIMEOUT_MS)
    problems.push(`${label("idleTimeoutMs")} must be at most ${MAX_IDLE_TIMEOUT_MS} (got ${idleTimeoutMs})`);
  if (
    listen !== undefined &&
    adminListen !== undefined &&
    listen.port !== 0 &&
    listen.port === adminListen.port &&
    sameHost(listen.host, adminListen.host)
  ) {
    problems.push(
      `${label("adminListen")} must differ from ${label("listen")} (both are ${listen.host}:${listen.port})`,
    );
  }

  const loaded = loadConfig(env, { perRequestConsentAllowed: true, mode: "serve" });
  if (!loaded.ok) problems.push(...loaded.problems);
  if (
    problems.length > 0 ||
    !loaded.ok ||
    upstream === undefined ||
    listen === undefined ||
    adminListen === undefined
  ) {
    return { kind: "problems", problems: Object.freeze(problems) };
  }
  const overridden = overriddenVariables(given, env);
  const baton =
    overridden.length === 0
      ? loaded.config
      : Object.freeze({ ...loaded.config, warnings: Object.freeze([...loaded.config.warnings, ...overridden]) });
  const config: ServeConfig = {
    upstream,
    listen: Object.freeze(listen),
    path,
    adminListen: Object.freeze(adminListen),
    allowedOrigins: allowedOrigins === "loopback" ? allowedOrigins : Object.freeze(allowedOrigins),
    maxBodyBytes,
    bodyTimeoutMs,
    drainTimeoutMs,
    sessionIdleMs,
    maxSessions,
    idleTimeoutMs,
    upstreamViaFetch: upstream.protocol !== "http:" || hasForwardProxy(env),
    baton,
  };
  return { kind: "ok", config: Object.freeze(config) };
}
