// Parses the BATON_* environment once into a frozen, typed Config, or the full list of problems. Pure: no I/O.

import { OTLP_VARIABLES, parseOtlpSettings, type OtlpSettings } from "./telemetry/otlp/otlp-settings.ts";
import { parseS3Settings, S3_VARIABLES, type S3Settings } from "./telemetry/sinks/s3-settings.ts";

/** One event destination, as configured in BATON_EVENT_SINK. */
export type SinkSpec =
  | { readonly kind: "stderr" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string }
  | { readonly kind: "otlp" };

export type ScrubMode = "on" | "off";

export interface Config {
  readonly sinks: readonly SinkSpec[];
  /** True when every sink is `stderr:` or `file://`: only then is `baton_session_report` injected. */
  readonly allSinksLocal: boolean;
  readonly tenantId: string;
  readonly vendorId: string;
  readonly consentToken: string;
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
  /** Values that must never appear in any output (API key, consent token). */
  readonly secrets: readonly string[];
  /** Non-fatal remarks (unknown BATON_* variables), logged once at start. */
  readonly warnings: readonly string[];
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export const DEFAULT_SINKS = "stderr:,file:///tmp/baton-proxy.jsonl";
export const DEFAULT_FILE_SINK_PATH = "/tmp/baton-proxy.jsonl";
export const PLACEHOLDER = "local";
export const DEFAULT_SLOW_CALL_MS = 1000;

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
  ...S3_VARIABLES,
  ...OTLP_VARIABLES,
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from `env` (a plain object; only `src/main.ts` passes `process.env`).
 * Returns every problem at once; never throws. Problem texts never contain secret values.
 */
export function loadConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const value = (name: (typeof KNOWN_VARIABLES)[number]): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === "" ? undefined : raw.trim();
  };

  const sinks = parseSinks(value("BATON_EVENT_SINK") ?? DEFAULT_SINKS, problems);
  const hasRemote = sinks.some((s) => s.kind !== "stderr" && s.kind !== "file");
  const apiKey = value("BATON_API_KEY");
  const consentToken = value("BATON_CONSENT_TOKEN") ?? PLACEHOLDER;
  const s3 = sinks.some((s) => s.kind === "s3") ? parseS3Settings(env, problems) : undefined;
  const otlp = sinks.some((s) => s.kind === "otlp") ? parseOtlpSettings(env, problems) : undefined;
  if (sinks.some((s) => s.kind === "http") && apiKey === undefined) {
    problems.push("BATON_API_KEY is required with an http(s):// sink (it is sent as the Bearer token)");
  }
  if (hasRemote && consentToken === PLACEHOLDER) {
    problems.push(`BATON_CONSENT_TOKEN is still the placeholder "${PLACEHOLDER}": set a real consent token before sending events to a remote sink`);
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

  const known = new Set<string>(KNOWN_VARIABLES);
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith("BATON_") && !known.has(name)) {
      warnings.push(`ignoring unknown variable ${name} (known: ${KNOWN_VARIABLES.join(", ")})`);
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  const secrets = [
    apiKey,
    consentToken === PLACEHOLDER ? undefined : consentToken,
    s3?.secretAccessKey,
    s3?.sessionToken,
    ...Object.values(otlp?.headers ?? {}),
  ].filter(
    (s): s is string => s !== undefined,
  );
  const config: Config = {
    sinks: Object.freeze(sinks),
    allSinksLocal: !hasRemote,
    tenantId: value("BATON_TENANT_ID") ?? PLACEHOLDER,
    vendorId: value("BATON_VENDOR_ID") ?? "unknown",
    consentToken,
    apiKey,
    s3,
    otlp,
    logFile: value("BATON_PROXY_LOG_FILE"),
    scrub: scrubRaw as ScrubMode,
    scrubKeys: Object.freeze(scrubKeys),
    slowCallMs,
    secrets: Object.freeze(secrets),
    warnings: Object.freeze(warnings),
  };
  return { ok: true, config: Object.freeze(config) };
}

/** Parses the comma-separated sink list; pushes a problem per bad entry. */
export function parseSinks(list: string, problems: string[]): SinkSpec[] {
  const sinks: SinkSpec[] = [];
  const seen = new Set<string>();
  for (const entry of list.split(",").map((s) => s.trim())) {
    if (entry === "") continue; // a trailing comma is harmless
    const sink = parseSink(entry, problems);
    if (sink === undefined) continue;
    const key = sinkLabel(sink);
    if (seen.has(key)) {
      problems.push(`BATON_EVENT_SINK lists ${key} twice`);
      continue;
    }
    seen.add(key);
    sinks.push(Object.freeze(sink));
  }
  if (sinks.length === 0 && !problems.some((p) => p.startsWith("BATON_EVENT_SINK"))) {
    problems.push("BATON_EVENT_SINK is empty: give at least one sink (stderr:, file:///abs/path.jsonl, https://host)");
  }
  return sinks;
}

function parseSink(entry: string, problems: string[]): SinkSpec | undefined {
  if (entry === "stderr:") return { kind: "stderr" };
  if (entry === "otlp:") return { kind: "otlp" };
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" is not a valid URL`);
    return undefined;
  }
  switch (url.protocol) {
    case "file:": {
      if (url.host !== "" && url.host !== "localhost") {
        problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" must be an absolute path: file:///abs/path.jsonl`);
        return undefined;
      }
      const path = decodeURIComponent(url.pathname);
      if (path === "/" || path.endsWith("/")) {
        problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" names a directory, not a file`);
        return undefined;
      }
      return { kind: "file", path };
    }
    case "http:":
    case "https:": {
      if (url.search !== "" || url.hash !== "") {
        problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must not have a query or fragment (events go to {url}/v0/events)`);
        return undefined;
      }
      return { kind: "http", url: url.href.replace(/\/+$/, "") };
    }
    case "s3:":
      return parseS3Location(url, entry, problems);
    default:
      problems.push(
        `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" has unsupported scheme "${url.protocol}" (supported: stderr:, file://, http://, https://, s3://, otlp:)`,
      );
      return undefined;
  }
}

/** A log-safe name for a sink: credentials embedded in a URL are masked. */
export function sinkLabel(sink: SinkSpec): string {
  switch (sink.kind) {
    case "stderr":
      return "stderr:";
    case "file":
      return `file://${sink.path}`;
    case "http":
      return maskUrl(sink.url);
    case "s3":
      return `s3://${sink.bucket}${sink.prefix === "" ? "" : `/${sink.prefix}`}`;
    case "otlp":
      return "otlp:";
  }
}

/** `s3://bucket[/prefix]`: the prefix without its outer slashes; no credentials, query or fragment. */
function parseS3Location(url: URL, entry: string, problems: string[]): SinkSpec | undefined {
  if (url.username !== "" || url.password !== "" || url.port !== "" || url.search !== "" || url.hash !== "") {
    problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must be s3://bucket/prefix (credentials come from AWS_* variables)`);
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname)) {
    problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" is missing a valid bucket name (s3://bucket/prefix)`);
    return undefined;
  }
  let prefix: string;
  try {
    prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  } catch {
    problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" has a badly percent-encoded prefix`);
    return undefined;
  }
  return { kind: "s3", bucket: url.hostname, prefix };
}

/** Replaces `user:pass@` in a URL-ish string with `***@`. */
export function maskUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1***@");
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
