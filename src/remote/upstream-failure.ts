// Names what went wrong talking to a remote MCP server: an error_type for events and a reason naming the origin.

import { maskUrl } from "../config-sinks.ts";
import { redactKeyedText } from "../telemetry/scrub-keyed-text.ts";
import type { KeyMatcher } from "../telemetry/scrub-keys.ts";
import { secretSafeCut } from "../telemetry/scrub-cut.ts";
import { redactText } from "../telemetry/scrub-patterns.ts";
import { certificateTrustHint, descriptorShortageHint } from "../errors.ts";
import { canOpenDescriptor } from "../transport/descriptors.ts";
import type { RemoteTarget } from "./remote-options.ts";

/** Bytes of an error response body read to explain it. */
const ERROR_BODY_BYTES = 4096;

/** A failed exchange with the remote server, as a pending request and its tool_call_error learn it. */
export interface UpstreamFailure {
  /** `upstream_unreachable`, `upstream_tls`, `upstream_timeout`, `http_<status>`, `upstream_auth`, `session_expired`, `upstream_protocol`, … */
  readonly errorType: string;
  /** One sentence for the client and the log; names the origin, never a header value. */
  readonly reason: string;
}

const TLS_CODES = /^(EPROTO|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH)/;

/** A thrown fetch error (connection refused, DNS, TLS, abort on timeout) as a failure. */
export function fetchFailure(origin: string, error: unknown, timeoutMs: number): UpstreamFailure {
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "";
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || code === "ETIMEDOUT" || error instanceof UpstreamTimeout) {
    return {
      errorType: "upstream_timeout",
      reason: `${origin} did not answer within ${formatSeconds(timeoutMs)} (BATON_UPSTREAM_TIMEOUT)`,
    };
  }
  if (TLS_CODES.test(code)) {
    return {
      errorType: "upstream_tls",
      reason: `TLS with ${origin} failed (${code}${code === "EPROTO" ? ": does the server speak TLS on this port?" : ""})${certificateTrustHint(code)}`,
    };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      errorType: "upstream_unreachable",
      reason: `${origin} is unreachable: the host name does not resolve (${code})`,
    };
  }
  if (code !== "")
    return {
      errorType: "upstream_unreachable",
      reason: `${origin} is unreachable (${code})${descriptorShortageHint(code, canOpenDescriptor)}`,
    };
  const message = error instanceof Error ? error.message : String(error);
  return { errorType: "upstream_unreachable", reason: `${origin} is unreachable (${clip(message)})` };
}

/**
 * A non-2xx answer as a failure. `body` is the start of the response body: a JSON-RPC error
 * message in it is quoted (servers explain 4xx that way), anything else only by status. `keys` is
 * the privacy stage's key rule with BATON_SCRUB_KEYS: the quote reaches the log.
 */
export function httpFailure(
  origin: string,
  status: number,
  statusText: string,
  body: string,
  keys: KeyMatcher,
): UpstreamFailure {
  let detail = "";
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; error_description?: unknown };
    const message =
      typeof parsed.error === "object" ? parsed.error?.message : (parsed.error_description ?? parsed.error);
    if (typeof message === "string" && message !== "") detail = `: ${quote(message, keys)}`;
  } catch {
    // Not JSON (an HTML error page, a proxy's text): the status says enough.
  }
  const text = statusText === "" ? "" : ` ${statusText}`;
  return { errorType: `http_${status}`, reason: `${origin} answered HTTP ${status}${text}${detail}` };
}

/** A non-2xx answer: the failure it means, and the start of its body (empty for a redirect). */
export interface Refusal {
  readonly failure: UpstreamFailure;
  readonly body: Uint8Array;
}

/** A non-2xx answer, explained from the start of its body (a redirect by where it points: it was not followed). */
export async function errorFailure(origin: string, response: Response, keys: KeyMatcher): Promise<UpstreamFailure> {
  return (await errorRefusal(origin, response, keys)).failure;
}

/** `errorFailure`, keeping the start of the body read to explain it (at most ERROR_BODY_BYTES). */
export async function errorRefusal(origin: string, response: Response, keys: KeyMatcher): Promise<Refusal> {
  const location = response.status >= 300 && response.status < 400 ? response.headers.get("location") : null;
  if (location !== null) {
    await response.body?.cancel().catch(() => undefined);
    let where = location;
    try {
      where = new URL(location, response.url || undefined).href;
    } catch {
      // shown as the server wrote it
    }
    const failure = httpFailure(origin, response.status, response.statusText, "", keys);
    return {
      failure: {
        errorType: failure.errorType,
        reason: `${failure.reason}: a redirect to ${clip(maskUrl(where))}, another origin, not followed (headers stay with ${origin}); use that URL if you trust it`,
      },
      body: new Uint8Array(0),
    };
  }
  const body = await readStart(response);
  const text = new TextDecoder().decode(body);
  return { failure: httpFailure(origin, response.status, response.statusText, text, keys), body };
}

/** The first read of a body, at most ERROR_BODY_BYTES; the rest is cancelled. */
export async function readStart(response: Response): Promise<Uint8Array> {
  try {
    const reader = response.body?.getReader();
    if (reader === undefined) return new Uint8Array(0);
    const { value } = await reader.read();
    void reader.cancel().catch(() => undefined);
    return value === undefined ? new Uint8Array(0) : value.subarray(0, ERROR_BODY_BYTES);
  } catch {
    return new Uint8Array(0); // The status alone explains it.
  }
}

/**
 * A 401 nobody can resolve: tell the user the one command that fixes it. The URL is masked like
 * every printed URL: this text reaches the client (the model's context), the log and events, and
 * servers that take a key in the URL's userinfo or query would have it quoted there. A URL from
 * `--url-env` (what wrap writes) is not quoted at all: its path may be the key (`…/mcp/<key>/sse`).
 */
export function unauthorizedFailure(target: RemoteTarget): UpstreamFailure {
  const login =
    target.urlEnv === undefined
      ? `run \`baton-proxy auth login --url ${maskUrl(target.url.href)}\``
      : `run \`baton-proxy auth login --url …\` with the URL in ${target.urlEnv}`;
  return {
    errorType: "upstream_auth",
    reason: `${target.origin} requires authorization (HTTP 401): ${login}, or set the credentials the server expects (--header, BATON_UPSTREAM_AUTH_TOKEN)`,
  };
}

/** The idle timer of a request fired (no headers, or no bytes on its stream, for BATON_UPSTREAM_TIMEOUT). */
export class UpstreamTimeout extends Error {
  constructor() {
    super("timed out");
    this.name = "UpstreamTimeout";
  }
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The server's own words for the client and the log: a server may quote a token, a user's email or
 * what it was sent, so the privacy stage's key rule and value patterns apply (whatever BATON_SCRUB
 * says: it governs events), after a cut that keeps no part of a secret.
 */
function quote(text: string, keys: KeyMatcher): string {
  const line = text.replace(/\s+/g, " ").trim();
  const kept = line.length > 200 ? `${line.slice(0, secretSafeCut(line, 197))}...` : line;
  return redactText(redactKeyedText(kept, keys, {}), {});
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
