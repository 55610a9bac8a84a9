// The names of every BATON_* variable the proxy reads, so any other BATON_* name can be named as a likely typo.

import { OTLP_VARIABLES } from "./telemetry/otlp/otlp-settings.ts";
import { S3_VARIABLES } from "./telemetry/sinks/s3-settings.ts";

/** Variables of `--url` (the remote upstream's credentials and timeout) and of `wrap`: `serve` does not read them. */
export const URL_ONLY_VARIABLES = [
  "BATON_UPSTREAM_AUTH_TOKEN",
  "BATON_UPSTREAM_TIMEOUT",
  "BATON_OAUTH_OPENER",
  "BATON_OAUTH_CLIENT_ID",
  "BATON_CONFIG_DIR",
  // Not read: `wrap` keeps a wrapped remote entry's original text there (for unwrap), so it is no typo.
  "BATON_WRAPPED_REMOTE",
] as const;

/** `baton-proxy serve` only (src/serve/serve-args.ts reads them). */
export const SERVE_ONLY_VARIABLES = [
  "BATON_UPSTREAM",
  "BATON_LISTEN",
  "BATON_PATH",
  "BATON_ADMIN_LISTEN",
  "BATON_ALLOWED_ORIGINS",
  "BATON_MAX_BODY_BYTES",
  "BATON_BODY_TIMEOUT_MS",
  "BATON_DRAIN_TIMEOUT_MS",
  "BATON_SESSION_IDLE_MS",
  "BATON_MAX_SESSIONS",
  "BATON_IDLE_TIMEOUT_MS",
] as const;

/** Every variable the proxy reads; any other BATON_* name is reported as a likely typo. */
export const KNOWN_VARIABLES = [
  "BATON_EVENT_SINK",
  "BATON_TENANT_ID",
  "BATON_CONSENT_TOKEN",
  "BATON_API_KEY",
  "BATON_VENDOR_ID",
  "BATON_PROXY_LOG_FILE",
  "BATON_SCRUB",
  "BATON_SCRUB_KEYS",
  "BATON_SLOW_CALL_MS",
  "BATON_INTENT_PARAM",
  "BATON_CAPTURE",
  "BATON_USER_ID_HMAC_KEY",
  "BATON_PRINCIPAL",
  "BATON_PRINCIPAL_HEADER",
  ...URL_ONLY_VARIABLES,
  ...S3_VARIABLES,
  ...OTLP_VARIABLES,
  "BATON_CONSENT_MODE",
  ...SERVE_ONLY_VARIABLES,
] as const;

/** Which invocation reads the configuration: the stdio proxy with a server command, with --url, or serve. */
export type ConfigMode = "stdio" | "url" | "serve";

/**
 * Variables the README documents as not read in a mode, each with why: set there, they are named in a
 * warning, since a setting that silently does nothing is the mistake a user cannot see. Variables `auth`
 * reads too (BATON_CONFIG_DIR, BATON_OAUTH_*) are left out: one environment may rightly serve both.
 */
export const UNREAD_VARIABLES: Readonly<Record<ConfigMode, ReadonlyArray<readonly [string, string]>>> = {
  stdio: [
    ...SERVE_ONLY_VARIABLES.map((name) => [name, "a serve setting"] as const),
    ["BATON_PRINCIPAL_HEADER", "serve's; BATON_PRINCIPAL names the user here"],
    ["BATON_UPSTREAM_AUTH_TOKEN", "--url's; the server command gets no BATON_* variable"],
    ["BATON_UPSTREAM_TIMEOUT", "--url's"],
  ],
  url: [
    ...SERVE_ONLY_VARIABLES.map((name) => [name, "a serve setting"] as const),
    ["BATON_PRINCIPAL_HEADER", "serve's; BATON_PRINCIPAL names the user here"],
  ],
  serve: [
    ["BATON_PRINCIPAL", "each request names its own user"],
    ["BATON_UPSTREAM_AUTH_TOKEN", "--url's; serve forwards each client's own Authorization"],
    ["BATON_UPSTREAM_TIMEOUT", "--url's"],
  ],
};
