// Parses the BATON_* environment once into a frozen, typed Config, or the full list of problems. Pure: no I/O.

/** One event destination, as configured in BATON_EVENT_SINK. */
export type SinkSpec =
  | { readonly kind: "stderr" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "http"; readonly url: string };

export type ScrubMode = "on" | "off";

export interface Config {
  readonly sinks: readonly SinkSpec[];
  /** True when every sink is `stderr:` or `file://`: only then is `baton_session_report` injected. */
  readonly allSinksLocal: boolean;
  readonly tenantId: string;
  readonly vendorId: string;
  readonly consentToken: string;
  readonly apiKey: string | undefined;
  readonly logFile: string | undefined;
  readonly scrub: ScrubMode;
  /** Extra key names (lower-cased) whose values are always redacted, on top of the built-in list. */
  readonly scrubKeys: readonly string[];
  /** Calls at least this slow are listed under "Slow calls" in the report. */
  readonly slowCallMs: number;
  /** Values that must never appear in any output (API key, consent token). */
  readonly secrets: readonly string[];
  /** Non-fatal remarks (unknown BATON_* variables, with the likely intended name), logged once at start. */
  readonly warnings: readonly string[];
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

const DEFAULT_SINKS = "stderr:,file:///tmp/baton-proxy.jsonl";
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
  const hasRemote = sinks.some((s) => s.kind === "http");
  const apiKey = value("BATON_API_KEY");
  const consentToken = value("BATON_CONSENT_TOKEN") ?? PLACEHOLDER;
  if (hasRemote && apiKey === undefined) {
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

  // A misspelt name is most likely why a setting "did nothing": name it, beside any refusal too.
  const remarks = unknownVariables(env);
  if (problems.length > 0) return { ok: false, problems: [...problems, ...remarks] };
  warnings.push(...remarks);

  const secrets = [apiKey, consentToken === PLACEHOLDER ? undefined : consentToken].filter(
    (s): s is string => s !== undefined,
  );
  const config: Config = {
    sinks: Object.freeze(sinks),
    allSinksLocal: !hasRemote,
    tenantId: value("BATON_TENANT_ID") ?? PLACEHOLDER,
    vendorId: value("BATON_VENDOR_ID") ?? "unknown",
    consentToken,
    apiKey,
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
function parseSinks(list: string, problems: string[]): SinkSpec[] {
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
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" is not a valid URL${suggestSink(entry)}`);
    return undefined;
  }
  switch (url.protocol) {
    case "file:": {
      if (url.host !== "" && url.host !== "localhost") {
        problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must be an absolute path: file:///abs/path.jsonl`);
        return undefined;
      }
      const path = decodeURIComponent(url.pathname);
      if (path === "/" || path.endsWith("/")) {
        problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" names a directory, not a file`);
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
    default:
      problems.push(
        `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" has unsupported scheme "${url.protocol}" (supported: stderr:, file://, http://, https://)`,
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
  }
}

/**
 * Masks what in a URL-ish string may be a credential: `user:pass@` becomes `***@`, and a query or
 * fragment (`?api_key=…`, `#access_token=…`) becomes `?***` / `#***`. Every URL we print goes through here.
 */
export function maskUrl(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@")
    .replace(/\?[^#]*/, "?***")
    .replace(/#.*$/s, "#***");
}

/** The whole refusal, the same for the proxy and `report`: "the configuration has 2 problem(s):\n  - …". */
export function describeConfigProblems(problems: readonly string[]): string {
  return `the configuration has ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

/** Names of a sink entry people write for the ones we accept: `stderr`, a bare absolute path. */
function suggestSink(entry: string): string {
  if (/^stderr:?$/i.test(entry) || entry.toLowerCase() === "stderr") return ': did you mean "stderr:"?';
  if (entry.startsWith("/")) return `: did you mean "file://${clip(maskUrl(entry))}"?`;
  if (/^[A-Za-z]:[\\/]/.test(entry)) return `: did you mean "file:///${clip(maskUrl(entry.replaceAll("\\", "/")))}"?`;
  return " (use stderr:, file:///abs/path.jsonl or https://host)";
}

/** One remark per BATON_* name we do not read, with the closest known name when it is a likely typo. */
function unknownVariables(env: Env): string[] {
  const known = new Set<string>(KNOWN_VARIABLES);
  const remarks: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.toUpperCase().startsWith("BATON_") || known.has(name)) continue;
    const closest = closestName(name.toUpperCase());
    remarks.push(
      closest === undefined
        ? `unknown variable ${name} is ignored (known: ${KNOWN_VARIABLES.join(", ")})`
        : `unknown variable ${name} is ignored: did you mean ${closest}?`,
    );
  }
  return remarks;
}

/** The known name within a small edit distance of `name` (typos, a missing or extra underscore or letter). */
function closestName(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of KNOWN_VARIABLES) {
    const distance = editDistance(name, candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 5)) && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance (insertions, deletions, substitutions), one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
