// Parses the BATON_* environment once into a frozen, typed Config, or the full list of problems. Pure: no I/O.

import { describeRemarks } from "./config-hints.ts";
import { clip, parseSinks, type SinkSpec } from "./config-sinks.ts";
import {
  type CaptureGroup,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  RELATIVE_CONFIG_DIR,
  RELATIVE_LOG_FILE,
  defaultFileSinkPath,
  headerSafe,
  isAbsolutePath,
  parseCapture,
  sameAbsolutePath,
  unsendable,
  upstreamTimeoutOf,
} from "./config-values.ts";
import type { ConfigMode, KNOWN_VARIABLES } from "./config-variables.ts";
import { printable } from "./log.ts";
import { isBlankPrincipal } from "./identity/user-id.ts";
import { HEADER_NAME } from "./remote/remote-options.ts";
import { parseOtlpSettings, parseOtlpSwitches, type OtlpSettings } from "./telemetry/otlp/otlp-settings.ts";
import { parseS3Knobs, parseS3Settings, type S3Settings } from "./telemetry/sinks/s3-settings.ts";

// Re-exported so callers keep importing the configuration's whole surface from here.
export { maskUrl, sinkLabel, type SinkSpec } from "./config-sinks.ts";
export { type ConfigMode, KNOWN_VARIABLES, URL_ONLY_VARIABLES } from "./config-variables.ts";

export type ScrubMode = "on" | "off";
export type IntentParamMode = "optional" | "required" | "off";
const INTENT_PARAM_MODES: readonly IntentParamMode[] = ["optional", "required", "off"];

/** `static`: one BATON_CONSENT_TOKEN per process; `per-request`: each HTTP request brings its own (serve only). */
export type ConsentMode = "static" | "per-request";

export interface Config {
  readonly sinks: readonly SinkSpec[];
  /** True when every sink is `stderr:` or `file://`: only then is `baton_session_report` injected. */
  readonly allSinksLocal: boolean;
  readonly tenantId: string;
  readonly vendorId: string;
  readonly consentToken: string;
  readonly consentMode: ConsentMode;
  readonly apiKey: string | undefined;
  /** Credentials, endpoint and batching of the `s3://` sink (set only when one is configured). */
  readonly s3: S3Settings | undefined;
  /** Endpoint, headers and options of the `otlp:` sink (set only when it is configured). */
  readonly otlp: OtlpSettings | undefined;
  readonly logFile: string | undefined;
  readonly scrub: ScrubMode;
  /** Extra key names (lower-cased) whose values are always redacted, on top of the built-in list. */
  readonly scrubKeys: readonly string[];
  /** Calls at least this slow are listed under "Slow calls" in the report. */
  readonly slowCallMs: number;
  /** `--url` only: sent as `Authorization: Bearer <token>` to the remote server (BATON_UPSTREAM_AUTH_TOKEN). */
  readonly upstreamAuthToken: string | undefined;
  /** `--url` only: how long to wait for the remote server's answer to start, and between its stream chunks. */
  readonly upstreamTimeoutMs: number;
  /** Values that must never appear in any output (API key, consent token, upstream token). */
  readonly secrets: readonly string[];
  /** BATON_INTENT_PARAM: inject `user_goal`/`expected_result` into tool schemas (`off`: byte-transparent). */
  readonly intentParam: IntentParamMode;
  /** BATON_CAPTURE: which event groups are recorded (default all three). */
  readonly capture: ReadonlySet<CaptureGroup>;
  /** BATON_USER_ID_HMAC_KEY: key of the `h1:` user_id hash; without it events carry no user_id. */
  readonly userIdKey: string | undefined;
  /** BATON_PRINCIPAL: the user every stdio call is made for (hashed into user_id, never emitted). */
  readonly principal: string | undefined;
  /** BATON_PRINCIPAL_HEADER: hosted mode's trusted request header naming the user. */
  readonly principalHeader: string | undefined;
  /** Non-fatal remarks (unknown BATON_* variables, with the likely intended name), logged once at start. */
  readonly warnings: readonly string[];
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export const PLACEHOLDER = "local";
export const DEFAULT_SLOW_CALL_MS = 1000;
/** What the caller runs: only `serve` can take a consent token per request. */
export interface LoadOptions {
  readonly perRequestConsentAllowed?: boolean;
  /** Who reads the configuration: a variable documented as not read there is named in a warning (none when absent: report). */
  readonly mode?: ConfigMode;
  /** Whose paths a `file:` sink names (`file:///C:/x.jsonl` is `C:/x.jsonl` on Windows); default: this process's. */
  readonly platform?: NodeJS.Platform;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from `env` (a plain object; only `src/main.ts` passes `process.env`).
 * Returns every problem at once; never throws. Problem texts never contain secret values.
 */
export function loadConfig(env: Env, options: LoadOptions = {}): ConfigResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const value = (name: (typeof KNOWN_VARIABLES)[number]): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
  };

  const refused = new Set<SinkSpec["kind"]>();
  const sinkList = value("BATON_EVENT_SINK");
  const sinks =
    sinkList === undefined
      ? [
          Object.freeze<SinkSpec>({ kind: "stderr" }),
          Object.freeze<SinkSpec>({ kind: "file", path: defaultFileSinkPath(env, options.platform) }),
        ]
      : parseSinks(sinkList, problems, refused, options.platform);
  const hasRemote = sinks.some((s) => s.kind !== "stderr" && s.kind !== "file");
  /** A sink of this kind is configured, or meant (its entry was refused): its settings are checked either way. */
  const wants = (kind: SinkSpec["kind"]): boolean => refused.has(kind) || sinks.some((s) => s.kind === kind);
  const apiKey = value("BATON_API_KEY");
  const consentToken = value("BATON_CONSENT_TOKEN") ?? PLACEHOLDER;
  const consentModeRaw = value("BATON_CONSENT_MODE")?.toLowerCase() ?? "static";
  if (consentModeRaw !== "static" && consentModeRaw !== "per-request") {
    problems.push(`BATON_CONSENT_MODE must be "static" or "per-request" (got "${clip(consentModeRaw)}")`);
  } else if (consentModeRaw === "per-request" && options.perRequestConsentAllowed !== true) {
    problems.push(
      `BATON_CONSENT_MODE=per-request only applies to "baton-proxy serve" (a stdio proxy has no requests to take tokens from)`,
    );
  }
  // Where OAuth tokens go (remote/token-store.ts reads it): a relative path, such as a "~" a host never
  // expands, would put them under the host's working directory, often the user's repository.
  const perRequest = consentModeRaw === "per-request";
  const s3 = wants("s3") ? parseS3Settings(env, problems) : undefined;
  const otlp = wants("otlp") ? parseOtlpSettings(env, problems) : undefined;
  // A bad BATON_S3_*/BATON_OTEL_* value no configured sink reads is likely a typo that would refuse
  // the run that adds the sink: warned, not refused (one environment may serve runs with and without it).
  const unused = (kind: string, check: (into: string[]) => void): void => {
    const found: string[] = [];
    check(found);
    for (const problem of found)
      warnings.push(`${problem}: ignored, as no ${kind} sink is configured (one would refuse it)`);
  };
  if (!wants("s3")) unused("s3://", (into) => parseS3Knobs(env, into));
  if (!wants("otlp")) unused("otlp:", (into) => parseOtlpSwitches(env, into));
  if (wants("http") && apiKey === undefined) {
    problems.push("BATON_API_KEY is required with an http(s):// sink (it is sent as the Bearer token)");
  }
  // A key with no console to send it to usually means the console sink was forgotten: events then stay local.
  if (!wants("http") && apiKey !== undefined) {
    warnings.push(
      "BATON_API_KEY is set but no http(s):// sink is configured (BATON_EVENT_SINK): it is not used, and no event goes to a console",
    );
  }
  // fetch throws on such a header value at every send: the sink would drop every event.
  if (wants("http") && apiKey !== undefined && !headerSafe(apiKey)) problems.push(unsendable("BATON_API_KEY"));
  // Per-request mode: each request's own token is checked instead (requests without one emit nothing).
  if ((hasRemote || wants("http") || wants("s3") || wants("otlp")) && consentToken === PLACEHOLDER && !perRequest) {
    problems.push(
      `BATON_CONSENT_TOKEN is still the placeholder "${PLACEHOLDER}": set a real consent token before sending events to a remote sink`,
    );
  }

  const scrubRaw = value("BATON_SCRUB")?.toLowerCase() ?? "on";
  if (scrubRaw !== "on" && scrubRaw !== "off") {
    problems.push(`BATON_SCRUB must be "on" or "off" (got "${clip(scrubRaw)}")`);
  }
  const scrubKeys = (value("BATON_SCRUB_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim().toLowerCase())
    .filter((k) => k !== "");

  const slowRaw = value("BATON_SLOW_CALL_MS");
  const slowCallMs = slowRaw === undefined ? DEFAULT_SLOW_CALL_MS : Number(slowRaw);
  if (!/^\d+$/.test(slowRaw ?? "0") || !Number.isSafeInteger(slowCallMs) || slowCallMs <= 0) {
    problems.push(`BATON_SLOW_CALL_MS must be a positive whole number of milliseconds (got "${clip(slowRaw ?? "")}")`);
  }

  const intentRaw = value("BATON_INTENT_PARAM")?.toLowerCase() ?? "optional";
  if (!(INTENT_PARAM_MODES as readonly string[]).includes(intentRaw)) {
    problems.push(`BATON_INTENT_PARAM must be one of ${INTENT_PARAM_MODES.join(", ")} (got "${clip(intentRaw)}")`);
  }
  const captureList = parseCapture(value("BATON_CAPTURE"), problems);
  // A key is bytes: used as given (upstream encodes the variable's value untouched), so the same
  // Secret gives the same user_id here and in upstream's producers, trailing newline and all.
  const userIdKey = value("BATON_USER_ID_HMAC_KEY") === undefined ? undefined : env.BATON_USER_ID_HMAC_KEY;
  // Untrimmed: hashing canonicalises it with Python's strip, which keeps a BOM that JS trim() drops (another user_id).
  const rawPrincipal = value("BATON_PRINCIPAL") === undefined ? undefined : env.BATON_PRINCIPAL;
  const principal = rawPrincipal === undefined || isBlankPrincipal(rawPrincipal) ? undefined : rawPrincipal;
  const principalHeader = value("BATON_PRINCIPAL_HEADER");
  // Looked up in every serve request's headers, where a name that is not a header name throws (a 500 for each).
  if (principalHeader !== undefined && !HEADER_NAME.test(principalHeader))
    problems.push(
      "BATON_PRINCIPAL_HEADER must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~; no colon, no space)",
    );

  const configDir = value("BATON_CONFIG_DIR");
  if (configDir !== undefined && !isAbsolutePath(configDir, options.platform)) problems.push(RELATIVE_CONFIG_DIR);
  const upstreamAuthToken = value("BATON_UPSTREAM_AUTH_TOKEN");
  // Sent as --url's Authorization header: fetch would throw at every request ("unreachable").
  if (upstreamAuthToken !== undefined && !headerSafe(upstreamAuthToken))
    problems.push(unsendable("BATON_UPSTREAM_AUTH_TOKEN"));
  const timeout = upstreamTimeoutOf(value("BATON_UPSTREAM_TIMEOUT"));
  const upstreamTimeoutMs = typeof timeout === "number" ? timeout : DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (typeof timeout === "string") problems.push(timeout);

  // Log lines in the event file would break its JSON Lines: `report` skipped them as malformed without a word, jq stopped at them.
  const logFileRaw = value("BATON_PROXY_LOG_FILE");
  // Resolved against the host's working directory (a repository, `/`), which differs from host to host.
  if (logFileRaw !== undefined && !isAbsolutePath(logFileRaw, options.platform)) problems.push(RELATIVE_LOG_FILE);
  const logIsEvents =
    logFileRaw !== undefined &&
    sinks.some((s) => s.kind === "file" && sameAbsolutePath(s.path, logFileRaw, options.platform));
  if (logIsEvents)
    warnings.push(
      `BATON_PROXY_LOG_FILE ${logFileRaw} is the event file of a file:// sink (BATON_EVENT_SINK): log lines there would break its JSON Lines; logging to stderr only`,
    );

  const remarks = describeRemarks(env, options.mode, perRequest, value("BATON_CONSENT_TOKEN") !== undefined);
  if (problems.length > 0) return { ok: false, problems: [...problems, ...remarks] };
  warnings.push(...remarks);

  const secrets = [
    apiKey,
    consentToken === PLACEHOLDER ? undefined : consentToken,
    userIdKey,
    principal,
    upstreamAuthToken,
    s3?.secretAccessKey,
    s3?.sessionToken,
    ...Object.values(otlp?.headers ?? {}),
  ].filter((s): s is string => s !== undefined);
  const config: Config = {
    sinks: Object.freeze(sinks),
    allSinksLocal: !hasRemote,
    tenantId: value("BATON_TENANT_ID") ?? PLACEHOLDER,
    vendorId: value("BATON_VENDOR_ID") ?? "unknown",
    consentToken,
    consentMode: consentModeRaw as ConsentMode,
    apiKey,
    s3,
    otlp,
    logFile: logIsEvents ? undefined : logFileRaw,
    scrub: scrubRaw as ScrubMode,
    scrubKeys: Object.freeze(scrubKeys),
    slowCallMs,
    intentParam: intentRaw as IntentParamMode,
    capture: Object.freeze(new Set(captureList as CaptureGroup[])),
    userIdKey,
    principal,
    principalHeader,
    upstreamAuthToken,
    upstreamTimeoutMs,
    secrets: Object.freeze(secrets),
    warnings: Object.freeze(warnings),
  };
  return { ok: true, config: Object.freeze(config) };
}

/** The whole refusal, the same for the proxy and `report`: "the configuration has 2 problem(s):\n  - …". */
export function describeConfigProblems(problems: readonly string[]): string {
  // A problem quotes the value it refuses, which may come from someone else's config file: one printable line each.
  return `the configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${printable(p)}`).join("\n")}`;
}
