// Every `serve` flag with its BATON_* environment form, default and help line: the one table parsing and `serve --help` read. Pure data.

import type { OptionSpec } from "../command-spec.ts";

export const DEFAULT_LISTEN = "127.0.0.1:8080";
export const DEFAULT_ADMIN_LISTEN = "127.0.0.1:9464";
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_DRAIN_TIMEOUT_MS = 20_000;
export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_SESSIONS = 10_000;
/** Bun's HTTP parser answers 431 to a request head (request line and headers) over this; it cannot be raised in a compiled binary. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;
/** Bun closes idle connections in whole seconds, at most 255 s. */
export const MAX_IDLE_TIMEOUT_MS = 255_000;
/** The idle timeout's least value: Bun's unit is a whole second. */
export const MIN_IDLE_TIMEOUT_MS = 1_000;
/** Timers fire at once beyond this many ms (2^31-1): no deadline may be longer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface FlagSpec {
  readonly flag: string;
  readonly value: string;
  readonly env: string;
  readonly summary: string;
}

/** Every serve flag, its environment form and its help line: the one source for parsing and `serve --help` (via serve-spec.ts). */
export const SERVE_FLAGS = {
  upstream: {
    flag: "--upstream",
    value: "URL",
    env: "BATON_UPSTREAM",
    summary: "URL of the upstream MCP endpoint (http:// or https://; required)",
  },
  listen: {
    flag: "--listen",
    value: "HOST:PORT",
    env: "BATON_LISTEN",
    summary: `HOST:PORT to serve MCP on (default ${DEFAULT_LISTEN}; the container image passes 0.0.0.0:8080)`,
  },
  path: {
    flag: "--path",
    value: "PATH",
    env: "BATON_PATH",
    summary: "the MCP path on this listener (default: the upstream URL's path)",
  },
  adminListen: {
    flag: "--admin-listen",
    value: "HOST:PORT",
    env: "BATON_ADMIN_LISTEN",
    summary: `HOST:PORT for /healthz, /readyz, /metrics (default ${DEFAULT_ADMIN_LISTEN})`,
  },
  allowedOrigins: {
    flag: "--allowed-origins",
    value: "LIST",
    env: "BATON_ALLOWED_ORIGINS",
    summary: "comma-separated Origin values allowed to call (default: loopback origins, any port; * allows all)",
  },
  maxBodyBytes: {
    flag: "--max-body-bytes",
    value: "N",
    env: "BATON_MAX_BODY_BYTES",
    summary: `largest request body accepted (default ${DEFAULT_MAX_BODY_BYTES}); larger gets 413 (request heads: fixed ${MAX_REQUEST_HEAD_BYTES / 1024} KiB, larger gets 431)`,
  },
  bodyTimeoutMs: {
    flag: "--body-timeout-ms",
    value: "MS",
    env: "BATON_BODY_TIMEOUT_MS",
    summary: `a request body not fully received this long after its head gets 408 and the connection closes (default ${DEFAULT_BODY_TIMEOUT_MS}, at most ${MAX_TIMER_MS})`,
  },
  drainTimeoutMs: {
    flag: "--drain-timeout-ms",
    value: "MS",
    env: "BATON_DRAIN_TIMEOUT_MS",
    summary: `on SIGTERM, how long requests in flight may finish (default ${DEFAULT_DRAIN_TIMEOUT_MS}); the listener stays open at least min(this, 5000)`,
  },
  sessionIdleMs: {
    flag: "--session-idle-ms",
    value: "MS",
    env: "BATON_SESSION_IDLE_MS",
    summary: `an MCP session unused this long is forgotten (default ${DEFAULT_SESSION_IDLE_MS})`,
  },
  maxSessions: {
    flag: "--max-sessions",
    value: "N",
    env: "BATON_MAX_SESSIONS",
    summary: `at most this many MCP sessions are tracked; past it the least recently used idle one is forgotten (default ${DEFAULT_MAX_SESSIONS})`,
  },
  idleTimeoutMs: {
    flag: "--idle-timeout-ms",
    value: "MS",
    env: "BATON_IDLE_TIMEOUT_MS",
    summary: `a client connection silent this long is closed (default ${DEFAULT_IDLE_TIMEOUT_MS}, from ${MIN_IDLE_TIMEOUT_MS} to ${MAX_IDLE_TIMEOUT_MS}, in whole seconds; open streams are exempt)`,
  },
} as const satisfies Record<string, FlagSpec>;

/** The option table for the command-line parser (src/command-spec.ts): long names from {@link SERVE_FLAGS}, help naming the env form. */
export const SERVE_OPTIONS: readonly OptionSpec[] = Object.values(SERVE_FLAGS).map((spec) => ({
  name: spec.flag.slice(2),
  value: spec.value,
  help: `${spec.summary}; env ${spec.env}`,
}));

/**
 * A warning for each variable whose flag is given with another value: the flag wins, and the
 * variable would be ignored without a word (the image's default command passes --listen and
 * --admin-listen, so `-e BATON_LISTEN=…` did nothing). Values are not quoted.
 */
export function overriddenVariables(
  given: (key: keyof typeof SERVE_FLAGS) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return (Object.keys(SERVE_FLAGS) as (keyof typeof SERVE_FLAGS)[]).flatMap((key) => {
    const { flag, env: name } = SERVE_FLAGS[key];
    const fromFlag = given(key)?.trim();
    const fromEnv = env[name]?.trim();
    return fromFlag === undefined || fromEnv === undefined || fromEnv === "" || fromEnv === fromFlag
      ? []
      : [`${name} is set but ${flag} is given, and the flag wins: ${name} is ignored`];
  });
}
