// Sends one request over a pooled HTTP/1.1 connection and answers a fetch-style Response: small bodies buffered whole, others (SSE) streamed as they arrive.

import { clientResponseFields, renderUpstreamFields } from "./forward-headers.ts";
import { ConnectionError, idleLimitMs, type Http1Connection, type Http1Pool } from "./http1-pool.ts";
import { extraTransferCodings } from "./http1-response-head.ts";
import { HttpResponseParser, type ResponseHead } from "./http1-response-parser.ts";
import type { UpstreamAnswer, UpstreamRequest } from "./upstream-client.ts";
import { concatBytes } from "../wire/bytes.ts";

/** A response body announced at most this long is read whole before the answer is handed over (an MCP JSON answer); longer ones, and event streams, stream. */
export const BUFFER_BODY_MAX_BYTES = 256 * 1024;
/** Streamed body chunks queued for a slow reader before the socket stops reading (TCP backpressure reaches the upstream). */
const STREAM_QUEUE_CHUNKS = 8;

/** What the HTTP/1.1 client sends: the upstream request as the routes give it (this client is chosen when fetch is not). */
export type Http1Request = Omit<UpstreamRequest, "viaFetch">;

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
export function requestHttp1(pool: Http1Pool, request: Http1Request, reuse: boolean): Promise<UpstreamAnswer> {
  if (request.signal.aborted) return Promise.reject(request.signal.reason);
  const idle = reuse ? pool.takeIdle() : undefined;
  if (idle !== undefined) return exchange(idle, true, request);
  return pool.connect().then((connection) => {
    if (!request.signal.aborted) return exchange(connection, false, request);
    connection.destroy();
    throw request.signal.reason;
  });
}

/** One request on one connection, answered once the head (or, for a small body, all of it) has arrived. */
function exchange(connection: Http1Connection, reused: boolean, request: Http1Request): Promise<UpstreamAnswer> {
  return new Promise<UpstreamAnswer>((resolve, reject) => {
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
      if (stream === undefined) reject(error);
      else
        try {
          stream.error(error);
        } catch {
          // the reader already cancelled it
        }
    };
    const onAbort = () => finish(request.signal.reason);
    const unread: Uint8Array[] = [];
    const flush = (): void => {
      if (stream === undefined || unread.length === 0) return;
      stream.enqueue(concatBytes(unread));
      unread.length = 0;
      if ((stream.desiredSize ?? 1) <= 0) connection.pause();
    };
    const parser = new HttpResponseParser(
      {
        head(answer) {
          head = answer;
          // Transfer codings are hop-by-hop (the field is dropped on the way to the client), so they are undone always.
          const transfer = transferCodings(answer.transferEncoding);
          const coded = request.decompress && contentCodings(answer.contentEncoding).length > 0;
          if (
            answer.bodiless ||
            (answer.contentLength !== undefined &&
              answer.contentLength <= BUFFER_BODY_MAX_BYTES &&
              !coded &&
              !isEventStream(answer))
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
            const unframed = transfer.length > 0 ? decode(body, transfer) : body;
            resolve(
              new Http1Answer(answer, coded ? decode(unframed, contentCodings(answer.contentEncoding)) : unframed),
            );
          } catch (error) {
            finish(error);
          }
        },
        body(chunk) {
          // A streamed body's pieces from one socket read (an SSE server writes one HTTP chunk per event) go out as one.
          (parts ?? unread).push(chunk);
        },
        end(reusable) {
          if (finished) return;
          flush();
          finish(undefined);
          if (reusable) connection.release(idleLimitMs(head?.headers.find(([name]) => name === "keep-alive")?.[1]));
          else connection.destroy();
          if (stream !== undefined) stream.close();
          else if (head !== undefined && parts !== undefined)
            resolve(new Http1Answer(head, head.bodiless ? null : typedOrStreamed(head, concatBytes(parts))));
        },
      },
      request.method,
    );
    connection.user = {
      data(chunk) {
        try {
          parser.push(chunk);
          flush();
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
  head += renderUpstreamFields(request.headers, request.hop);
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  head += "\r\n";
  const headLength = Buffer.byteLength(head, "latin1");
  const out = Buffer.allocUnsafe(headLength + (body?.length ?? 0));
  out.write(head, 0, headLength, "latin1");
  if (body !== undefined) out.set(body, headLength);
  connection.write(out);
}

/** An answer from the parsed head; header lookups scan the few pairs, and the client's Headers are built once. */
class Http1Answer implements UpstreamAnswer {
  readonly status: number;
  readonly statusText: string;
  private readonly pairs: readonly [string, string][];

  constructor(
    head: ResponseHead,
    readonly body: Uint8Array | ReadableStream<Uint8Array> | null,
  ) {
    this.status = head.status;
    this.statusText = head.statusText;
    this.pairs = head.headers;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  header(name: string): string | null {
    let value: string | null = null;
    for (const [field, each] of this.pairs) if (field === name) value = value === null ? each : `${value}, ${each}`;
    return value;
  }

  clientHeaders(bodyChanged: boolean): Headers {
    return clientResponseFields(this.pairs, bodyChanged);
  }

  async bytes(): Promise<Uint8Array> {
    const body = this.body;
    if (body === null) return new Uint8Array(0);
    if (body instanceof Uint8Array) return body;
    return new Response(body).bytes();
  }
}

/**
 * A body read whole, as handed on. Bun gives a bytes body without Content-Type one of its own
 * (`application/octet-stream`), which the upstream never sent (browsers sniff an untyped body):
 * such a body goes as one chunk of a stream, which Bun sends with its length and no type.
 */
function typedOrStreamed(head: ResponseHead, bytes: Uint8Array): Uint8Array | ReadableStream<Uint8Array> {
  if (bytes.length === 0 || head.headers.some(([name]) => name === "content-type")) return bytes;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function isEventStream(head: ResponseHead): boolean {
  for (const [name, value] of head.headers)
    if (name === "content-type") return value.trimStart().toLowerCase().startsWith("text/event-stream");
  return false;
}

/** The codings to undo, outermost first (`identity` skipped). Throws for one we cannot decode. */
function contentCodings(field: string | undefined): Coding[] {
  const codings: Coding[] = [];
  if (field !== undefined)
    for (const raw of field.split(",")) {
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
  return codings.reverse();
}

/**
 * The transfer codings to undo besides the final chunked (which the parser undoes), outermost first.
 * RFC 9112 §7.4 lets a server send them only to a client whose TE asked (the proxy never sends TE),
 * but one that does would otherwise reach the client compressed and unmarked, since Transfer-Encoding
 * is hop-by-hop. Throws for one we cannot undo (`compress`, or `chunked` before the end).
 */
function transferCodings(field: string | undefined): Coding[] {
  return extraTransferCodings(field).map((name) => {
    const format = DECODERS[name];
    if (format === undefined) throw transferCodingError(name);
    return format;
  });
}

/** A transfer coding the proxy cannot undo: its bytes must not reach the client unmarked (the answer becomes a 502). */
export function transferCodingError(name: string): ConnectionError {
  return new ConnectionError(
    "EBADRESPONSE",
    `the upstream used a transfer coding "${name.slice(0, 40)}" the proxy cannot undo (it asks for none)`,
  );
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
