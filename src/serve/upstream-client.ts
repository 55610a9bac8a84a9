// Sends one request to the upstream over pooled connections; retries once on a fresh connection when a reused one was already closed.

import { certificateTrustHint, describeError, descriptorShortageHint } from "../errors.ts";
import { canOpenDescriptor } from "../transport/descriptors.ts";
import { clientResponseHeaders, upstreamRequestHeaders, type ClientHop } from "./forward-headers.ts";
import { requestHttp1, transferCodingError } from "./http1-client.ts";
import { extraTransferCodings } from "./http1-response-head.ts";
import { Http1Pool } from "./http1-pool.ts";

export interface UpstreamRequest {
  readonly url: URL;
  readonly method: string;
  /** The client's own request fields: hop-by-hop handling and Via/X-Forwarded-* are applied here (forward-headers.ts). */
  readonly headers: Headers;
  readonly hop: ClientHop;
  /** Buffered (bounded by --max-body-bytes), so a retry can send it again. */
  readonly body: Uint8Array | undefined;
  /** Aborted when the client goes away: the upstream request is cancelled with it. */
  readonly signal: AbortSignal;
  /** `false` keeps Content-Encoding and the body as sent (pass-through); `true` decodes (bodies the proxy reads). */
  readonly decompress: boolean;
  /** Use fetch even for an `http://` URL (a forward proxy is configured: ServeConfig.upstreamViaFetch). */
  readonly viaFetch?: boolean;
}

/** The upstream's HTTP answer as the routes use it: from fetch's Response or from the proxy's HTTP/1.1 client. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly statusText: string;
  /** 2xx. */
  readonly ok: boolean;
  /** One field (name in lower case), repeats joined; null when absent. */
  header(name: string): string | null;
  /** Fields for the client's response: hop-by-hop removed, Via appended; `bodyChanged` drops Content-Length/-Encoding and digests, weakens a strong ETag. */
  clientHeaders(bodyChanged: boolean): Headers;
  /** The body to hand on: its bytes when already read whole, a stream otherwise, null when there is none. */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** The whole body (decoded when the request asked to decompress). */
  bytes(): Promise<Uint8Array>;
}

/** Why the upstream gave no HTTP answer; `reason` is for logs (may name the upstream), never for clients. */
export class UpstreamUnreachable extends Error {
  readonly kind: "refused" | "reset" | "timeout" | "dns" | "other";
  constructor(kind: UpstreamUnreachable["kind"], reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = "UpstreamUnreachable";
    this.kind = kind;
  }
}

/** Error codes Bun's fetch gives when a pooled connection turned out to be closed by the server before it answered. */
const STALE_CONNECTION_CODES = new Set(["ECONNRESET", "ConnectionClosed", "EPIPE"]);
/** The HTTP/1.1 client knows whether any response byte came: only a reused connection that gave none is retried. */
const STALE_HTTP1_CODES = new Set(["ConnectionClosed"]);
/**
 * Methods whose repetition has the effect of one request (RFC 9110 §9.2.2): only these are sent
 * again. A close before any answer byte cannot tell an idle-timeout race from an upstream that read
 * the request and then failed, so a POST (a tool call) that may have reached it is never replayed.
 */
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** One pool per upstream origin (serve has one upstream; pass-through paths share its origin). */
const pools = new Map<string, Http1Pool>();

/**
 * Sends with connection reuse. An `http://` upstream is spoken to by the proxy's own HTTP/1.1
 * client (http1-client.ts: one buffer out, no thread hop; Bun's fetch cost more than the rest
 * of a call); `https://` goes through fetch. A Node upstream closes idle keep-alive connections
 * after 5 s; the pool drops a connection when the upstream closes it and closes its own after 4 s,
 * so a request rarely meets that close. One that does fails before any response byte: an idempotent
 * request is retried once on a new connection; a POST is not (it may have reached the upstream).
 * Other failures become {@link UpstreamUnreachable}. Redirects are never followed (they belong
 * to the client: OAuth /authorize answers 302).
 */
export async function fetchUpstream(request: UpstreamRequest): Promise<UpstreamAnswer> {
  const fast = request.url.protocol === "http:" && request.viaFetch !== true;
  try {
    return await send(request, true, fast);
  } catch (first) {
    if (request.signal.aborted) throw first;
    if (!IDEMPOTENT_METHODS.has(request.method)) throw classify(first, request.url);
    if (!(fast ? STALE_HTTP1_CODES : STALE_CONNECTION_CODES).has(errorCode(first))) throw classify(first, request.url);
    try {
      return await send(request, false, fast);
    } catch (second) {
      throw request.signal.aborted ? second : classify(second, request.url);
    }
  }
}

/** Closes the idle pooled connections (at shutdown; requests in flight finish). */
export function closeUpstreamPools(): void {
  for (const pool of pools.values()) pool.close();
  pools.clear();
}

function send(request: UpstreamRequest, reuse: boolean, fast: boolean): Promise<UpstreamAnswer> {
  if (fast) return requestHttp1(poolFor(request.url), request, reuse);
  return fetch(request.url, {
    method: request.method,
    headers: upstreamRequestHeaders(request.headers, request.hop),
    body: request.body,
    signal: request.signal,
    redirect: "manual",
    decompress: request.decompress,
    keepalive: reuse,
    // Streams (GET, long tool calls over SSE) may stay silent for long: the client's idle limit applies instead.
    timeout: false,
  } as RequestInit)
    .then(refuseTransferCodings)
    .then(answerOf);
}

/**
 * fetch undoes chunked but hands on any other transfer coding's bytes as they came (Bun, measured:
 * `Transfer-Encoding: gzip, chunked` gives the gzip bytes), and the field is hop-by-hop, so they
 * would reach the client compressed and unmarked: refused (a 502) rather than decoded, since
 * fetch's own Content-Encoding decoding would meet the transfer coding's layer first.
 */
function refuseTransferCodings(response: Response): Response {
  const extra = extraTransferCodings(response.headers.get("transfer-encoding"))[0];
  if (extra === undefined) return response;
  response.body?.cancel().catch(() => {});
  throw transferCodingError(extra);
}

function answerOf(response: Response): UpstreamAnswer {
  return {
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    header: (name) => response.headers.get(name),
    clientHeaders: (bodyChanged) => clientResponseHeaders(response.headers, bodyChanged),
    body: response.body,
    bytes: () => response.bytes(),
  };
}

/** An answer's body as a stream (a body read whole is handed out as one chunk). */
export function bodyStream(answer: UpstreamAnswer): ReadableStream<Uint8Array> | null {
  const body = answer.body;
  if (body === null || body instanceof ReadableStream) return body;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
}

function poolFor(url: URL): Http1Pool {
  let pool = pools.get(url.host);
  if (pool === undefined) {
    // URL keeps IPv6 literals bracketed; the socket wants the bare address.
    pool = new Http1Pool(url.hostname.replace(/^\[(.*)\]$/, "$1"), Number(url.port || "80"));
    pools.set(url.host, pool);
  }
  return pool;
}

function classify(error: unknown, url: URL): UpstreamUnreachable {
  const code = errorCode(error);
  const where = `${url.protocol}//${url.host}`;
  const shortage = descriptorShortageHint(code, canOpenDescriptor);
  const kind =
    shortage !== ""
      ? "other"
      : code === "ConnectionRefused" || code === "ECONNREFUSED"
        ? "refused"
        : STALE_CONNECTION_CODES.has(code)
          ? "reset"
          : code === "ETIMEDOUT" || code === "Timeout"
            ? "timeout"
            : code === "ENOTFOUND" || code === "DNSError"
              ? "dns"
              : "other";
  return new UpstreamUnreachable(
    kind,
    `upstream ${where} unreachable: ${describeError(error)}${shortage}${certificateTrustHint(code)}`,
    { cause: error },
  );
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}
