// Reads the `otlp:` sink's settings from the standard OTEL_* variables and BATON_OTEL_*. Pure; header values are secrets and never appear in a problem.

import { HEADER_NAME } from "../../remote/remote-options.ts";
import { VERSION } from "../../version.ts";

export type OtlpProtocol = "http/protobuf" | "http/json";

/** Everything the OTLP sink needs, read once by `loadConfig`. */
export interface OtlpSettings {
  /** Full traces URL (…/v1/traces). */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  /** Extra request headers (often an API key): values are secrets. */
  readonly headers: Readonly<Record<string, string>>;
  readonly gzip: boolean;
  /** Per request; bounded by the dispatcher's export timeout as well. */
  readonly timeoutMs: number;
  /** Resource attributes, `service.name` included. */
  readonly resource: Readonly<Record<string, string>>;
  /** Record tool arguments and results on spans (`gen_ai.tool.call.arguments` / `.result`), scrubbed like events. */
  readonly captureContent: boolean;
  /** Write our CLIENT span's `traceparent` into forwarded requests' `params._meta` (changes their bytes). */
  readonly propagate: boolean;
}

/** OTLP/HTTP's default collector address (the spec's default). */
export const DEFAULT_OTLP_BASE = "http://localhost:4318";
export const TRACES_PATH = "/v1/traces";
/** Used when neither OTEL_SERVICE_NAME nor `service.name` in OTEL_RESOURCE_ATTRIBUTES is set. */
export const DEFAULT_SERVICE_NAME = "baton-proxy";
/** A request slower than this is abandoned (the OTel default is 10 s; the dispatcher allows 2 s per flush). */
export const MAX_OTLP_TIMEOUT_MS = 1_800;

/**
 * The telemetry SDK resource attributes, Required for whatever SDK made the telemetry: one that is
 * not OpenTelemetry's names itself (`opentelemetry` is reserved). `nodejs` is the well-known value
 * for server-side JavaScript (OpenTelemetry's own JS SDK reports it under Bun too). Like the SDKs'
 * defaults, OTEL_RESOURCE_ATTRIBUTES may override them.
 */
export const SDK_RESOURCE: Readonly<Record<string, string>> = Object.freeze({
  "telemetry.sdk.name": "baton-proxy",
  "telemetry.sdk.language": "nodejs",
  "telemetry.sdk.version": VERSION,
});

/** The BATON_* variables this module reads (added to config-variables.ts's KNOWN_VARIABLES). */
export const OTLP_VARIABLES = ["BATON_OTEL_CAPTURE_CONTENT", "BATON_OTEL_PROPAGATE"] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the OTLP settings; pushes one problem per bad value (naming the variable, never a header value). */
export function parseOtlpSettings(env: Env, problems: string[]): OtlpSettings | undefined {
  const get = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };
  const before = problems.length;
  const endpoint = tracesEndpoint(
    get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    get("OTEL_EXPORTER_OTLP_ENDPOINT"),
    problems,
  );
  /** The `_TRACES_` form wins; a problem names the variable the value came from. */
  const pick = (option: string): [string, string | undefined] => {
    const traces = `OTEL_EXPORTER_OTLP_TRACES_${option}`;
    return get(traces) !== undefined
      ? [traces, get(traces)]
      : [`OTEL_EXPORTER_OTLP_${option}`, get(`OTEL_EXPORTER_OTLP_${option}`)];
  };
  const [protocolName, protocolGiven] = pick("PROTOCOL");
  const protocolRaw = protocolGiven ?? "http/protobuf";
  if (protocolRaw !== "http/protobuf" && protocolRaw !== "http/json") {
    problems.push(
      `${protocolName} must be http/protobuf or http/json (got "${protocolRaw.slice(0, 40)}"; grpc is not supported)`,
    );
  }
  const headers = {
    ...parseHeaders(get("OTEL_EXPORTER_OTLP_HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS", problems),
    ...parseHeaders(get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), "OTEL_EXPORTER_OTLP_TRACES_HEADERS", problems),
  };
  const [compressionName, compressionGiven] = pick("COMPRESSION");
  const compression = (compressionGiven ?? "none").toLowerCase();
  if (compression !== "gzip" && compression !== "none")
    problems.push(`${compressionName} must be gzip or none (got "${compression.slice(0, 40)}")`);
  const [timeoutName, timeoutRaw] = pick("TIMEOUT");
  const timeout = timeoutRaw === undefined ? MAX_OTLP_TIMEOUT_MS : Number(timeoutRaw);
  if (timeoutRaw !== undefined && (!/^\d+$/.test(timeoutRaw) || !Number.isSafeInteger(timeout) || timeout <= 0)) {
    problems.push(`${timeoutName} must be a positive whole number of milliseconds (got "${timeoutRaw.slice(0, 40)}")`);
  }
  const resource: Record<string, string> = {
    ...SDK_RESOURCE,
    ...parseList(get("OTEL_RESOURCE_ATTRIBUTES"), "OTEL_RESOURCE_ATTRIBUTES", problems),
  };
  resource["service.name"] = get("OTEL_SERVICE_NAME") ?? resource["service.name"] ?? DEFAULT_SERVICE_NAME;
  const { captureContent, propagate } = parseOtlpSwitches(env, problems);
  if (problems.length > before || endpoint === undefined) return undefined;
  return Object.freeze({
    endpoint,
    protocol: protocolRaw as OtlpProtocol,
    headers: Object.freeze(headers),
    gzip: compression === "gzip",
    timeoutMs: Math.min(timeout, MAX_OTLP_TIMEOUT_MS),
    resource: Object.freeze(resource),
    captureContent,
    propagate,
  });
}

/**
 * The BATON_OTEL_* switches alone, one problem per bad value: parseOtlpSettings reads them, and
 * loadConfig checks them when no otlp: sink is configured (to warn about a bad one).
 */
export function parseOtlpSwitches(env: Env, problems: string[]): Pick<OtlpSettings, "captureContent" | "propagate"> {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  return {
    captureContent: onOff(get("BATON_OTEL_CAPTURE_CONTENT"), "BATON_OTEL_CAPTURE_CONTENT", problems),
    propagate: onOff(get("BATON_OTEL_PROPAGATE"), "BATON_OTEL_PROPAGATE", problems),
  };
}

/** The signal-specific endpoint is used as given; the generic one gets `/v1/traces` appended (OTLP exporter spec). */
function tracesEndpoint(traces: string | undefined, base: string | undefined, problems: string[]): string | undefined {
  const name = traces !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const raw = traces ?? base ?? DEFAULT_OTLP_BASE;
  let url: URL;
  try {
    url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
  } catch {
    problems.push(`${name} must be an http:// or https:// URL`);
    return undefined;
  }
  if (url.username !== "" || url.password !== "") {
    problems.push(`${name} must not carry credentials in the URL (use OTEL_EXPORTER_OTLP_HEADERS)`);
    return undefined;
  }
  return traces !== undefined ? url.href : `${url.href.replace(/\/+$/, "")}${TRACES_PATH}`;
}

/**
 * The headers list, each one checked as fetch will check it at every export: a name that is not
 * an HTTP token (never echoed: it may be a pasted secret), or a value with a line break, NUL or a
 * character beyond U+00FF, is a problem now rather than a failed export for the whole session.
 */
function parseHeaders(raw: string | undefined, name: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseList(raw, name, problems))) {
    if (!HEADER_NAME.test(key)) problems.push(`${name} has a header name that is not a valid HTTP header name`);
    else if (/[\r\n\0\u0100-\uffff]/.test(value))
      problems.push(`${name}: header ${key} has a line break, NUL or a character beyond U+00FF in its value`);
    else out[key] = value;
  }
  return out;
}

/** `k1=v1,k2=v2` with percent-encoded keys and values (W3C Baggage-like, as the OTel env spec says). */
export function parseList(raw: string | undefined, name: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const item of raw.split(",")) {
    if (item.trim() === "") continue;
    const eq = item.indexOf("=");
    const key = eq === -1 ? "" : safeDecode(item.slice(0, eq).trim());
    if (eq === -1 || key === undefined || key === "") {
      problems.push(`${name} has an entry without "key=value" (entries are comma-separated)`);
      continue;
    }
    const value = safeDecode(item.slice(eq + 1).trim());
    if (value === undefined) {
      problems.push(`${name} has a badly percent-encoded value for "${key.slice(0, 40)}"`);
      continue;
    }
    out[key] = value;
  }
  return out;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function onOff(raw: string | undefined, name: string, problems: string[]): boolean {
  const value = raw?.toLowerCase() ?? "off";
  if (value !== "on" && value !== "off") problems.push(`${name} must be "on" or "off" (got "${value.slice(0, 40)}")`);
  return value === "on";
}
