// Sends one request over a pooled HTTP/1.1 connection and answers a fetch-style Response: small bodies buffered whole, others (SSE) streamed as they arrive.

import { ConnectionError, type Http1Connection, type Http1Pool } from "./http1-pool.ts";
import { HttpResponseParser, type ResponseHead } from "./http1-response-parser.ts";

/** A response body announced at most this long is read whole before the Response is handed over (an MCP JSON answer); longer ones stream. */
export const BUFFER_BODY_MAX_BYTES = 256 * 1024;
/** Streamed body chunks queued for a slow reader before the socket stops reading (TCP backpressure reaches the upstream). */
const STREAM_QUEUE_CHUNKS = 8;

export interface Http1Request {
  readonly url: URL;
  readonly method: string;
  /** End-to-end fields only (hop-by-hop already removed); Host and Content-Length are written here. */
  readonly headers: Headers;
  readonly body: Uint8Array | undefined;
  readonly signal: AbortSignal;
  /** Decode a Content-Encoding'd body (the headers still name it, as with fetch's `decompress`). */
  readonly decompress: boolean;
}

/** A DecompressionStream format (Bun's also covers brotli and zstd). */
type Coding = "gzip" | "deflate" | "brotli" | "zstd";

/** Content codings the proxy can decode, by their DecompressionStream format. */
const DECODERS: Readonly<Record<string, Coding>> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "brotli",
  zstd: "zstd",
};

/**
 * The request line, headers and body go out as one write. Failures reject with a
 * {@link ConnectionError}: code `ConnectionClosed` when a reused connection closed before any
 * response byte (the caller retries on a new one), `ECONNRESET` when it closed mid-answer,
 * `EBADRESPONSE` for a malformed answer. An aborted `signal` rejects with its reason (or
 * errors the streamed body) and closes the connection.
 */
export async function requestHttp1(pool: Http1Pool, request: Http1Request, reuse: boolean): Promise<Response> {
  request.signal.throwIfAborted();
  const { connection, reused } = await pool.acquire(reuse);
  return new Promise<Response>((resolve, reject) => {
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    let parts: Uint8Array[] | undefined;
    let head: ResponseHead | undefined;
    let finished = false;
    const finish = (error: unknown): void => {
      if (finished) return;
      finished = true;
      request.signal.removeEventListener("abort", onAbort);
      if (error === undefined) return;
      connection.destroy();
      if (stream !== undefined) stream.error(error);
      else reject(error);
    };
    const onAbort = () => finish(request.signal.reason);
    const parser = new HttpResponseParser(
      {
        head(answer) {
          head = answer;
          const coded = request.decompress && contentCodings(answer.headers).length > 0;
          if (
            answer.bodiless ||
            (answer.contentLength !== undefined && answer.contentLength <= BUFFER_BODY_MAX_BYTES && !coded)
          ) {
            parts = [];
            return;
          }
          const body = new ReadableStream<Uint8Array>(
            {
              start: (controller) => {
                stream = controller;
              },
              pull: () => connection.resume(),
              cancel: () => finish(new DOMException("the reader went away", "AbortError")),
            },
            { highWaterMark: STREAM_QUEUE_CHUNKS },
          );
          try {
            resolve(respond(answer, coded ? decode(body, contentCodings(answer.headers)) : body));
          } catch (error) {
            finish(error);
          }
        },
        body(chunk) {
          if (parts !== undefined) parts.push(chunk);
          else if (stream !== undefined) {
            stream.enqueue(chunk);
            if ((stream.desiredSize ?? 1) <= 0) connection.pause();
          }
        },
        end(reusable) {
          if (finished) return;
          finish(undefined);
          if (reusable) connection.release();
          else connection.destroy();
          if (stream !== undefined) stream.close();
          else if (head !== undefined && parts !== undefined)
            try {
              resolve(respond(head, head.bodiless ? null : concat(parts)));
            } catch (error) {
              reject(error);
            }
        },
      },
      request.method,
    );
    connection.user = {
      data(chunk) {
        try {
          parser.push(chunk);
        } catch (error) {
          finish(asConnectionError(error, "EBADRESPONSE"));
        }
      },
      closed(error) {
        if (finished) return;
        if (!parser.started && reused) {
          finish(new ConnectionError("ConnectionClosed", "a reused connection was closed before it answered"));
          return;
        }
        try {
          parser.close();
        } catch (closeError) {
          finish(asConnectionError(error ?? closeError, "ECONNRESET"));
        }
      },
    };
    request.signal.addEventListener("abort", onAbort, { once: true });
    writeRequest(connection, request);
  });
}

function writeRequest(connection: Http1Connection, request: Http1Request): void {
  const { url, body } = request;
  let head = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  const fields = request.headers.toJSON();
  for (const name in fields) {
    const value = fields[name] as string | string[];
    if (typeof value === "string") head += `${name}: ${value}\r\n`;
    else for (const each of value) head += `${name}: ${each}\r\n`;
  }
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += "\r\n";
  const headLength = Buffer.byteLength(head, "latin1");
  const out = Buffer.allocUnsafe(headLength + (body?.length ?? 0));
  out.write(head, 0, headLength, "latin1");
  if (body !== undefined) out.set(body, headLength);
  connection.write(out);
}

function respond(head: ResponseHead, body: ReadableStream<Uint8Array> | Uint8Array | null): Response {
  return new Response(body, { status: head.status, statusText: head.statusText, headers: head.headers });
}

/** The codings to undo, outermost first (`identity` skipped). Throws for one we cannot decode. */
function contentCodings(headers: readonly [string, string][]): Coding[] {
  const codings: Coding[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== "content-encoding") continue;
    for (const raw of value.split(",")) {
      const coding = raw.trim().toLowerCase();
      if (coding === "" || coding === "identity") continue;
      const format = DECODERS[coding];
      if (format === undefined)
        throw new ConnectionError(
          "EBADRESPONSE",
          `the upstream used an unknown Content-Encoding "${coding.slice(0, 40)}"`,
        );
      codings.push(format);
    }
  }
  return codings.reverse();
}

function decode(body: ReadableStream<Uint8Array>, codings: readonly Coding[]): ReadableStream<Uint8Array> {
  let out = body;
  for (const format of codings)
    out = out.pipeThrough(
      new DecompressionStream(format as Bun.CompressionFormat) as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  return out;
}

function asConnectionError(error: unknown, code: string): ConnectionError {
  if (error instanceof ConnectionError) return error;
  const own = (error as { code?: unknown } | null)?.code;
  return new ConnectionError(
    typeof own === "string" && own !== "EBADRESPONSE" ? own : code,
    error instanceof Error ? error.message : String(error),
    { cause: error },
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
