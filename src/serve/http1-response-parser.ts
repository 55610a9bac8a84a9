// Parses HTTP/1.1 responses incrementally from socket chunks (RFC 9112): status line, bounded head, body by Content-Length, chunked coding or close. Pure.

import { concatBytes } from "../wire/bytes.ts";
import { HttpResponseError, parseResponseHead, type ResponseHead } from "./http1-response-head.ts";

// Re-exported so the client and tests keep importing the parser's whole surface from here.
export { HttpResponseError, type ResponseHead } from "./http1-response-head.ts";

/** A response head (status line and headers, or a 1xx's) or a trailer section larger than this is refused: a sane upstream sends a few KiB. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (size and extensions) longer than this is refused. */
export const MAX_CHUNK_LINE_BYTES = 4 * 1024;

/** Where the parser's results go; `body` chunks are views into the pushed buffers (each push gets a fresh buffer). */
export interface ResponseHandler {
  head(head: ResponseHead): void;
  body(chunk: Uint8Array): void;
  /** The response is complete; `reusable` when the connection may carry another request. */
  end(reusable: boolean): void;
}

type State = "head" | "fixed" | "size" | "data" | "data-end" | "trailers" | "until-close" | "done";

const LF = 0x0a;
const CR = 0x0d;
/**
 * A head's bytes as one code unit each (ISO-8859-1): field values may carry any byte past ASCII (obs-text,
 * RFC 9110 §5.5), and Bun writes such a string back byte for byte. TextDecoder's "latin1" is windows-1252
 * (0x80-0x9F become code points past U+00FF, which no Headers value may hold).
 */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
const LINE_END = /\r?\n/;
/** Byte -> hex digit value (-1: not a hex digit). */
const HEX_VALUE: readonly number[] = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  return /[0-9A-Fa-f]/.test(char) ? Number.parseInt(char, 16) : -1;
});

/**
 * One parser per request (no pipelining). 1xx interim responses are skipped; 101 is refused
 * (the proxy never asks to upgrade). Framing follows RFC 9112 §6.3: no body for HEAD, 204 and
 * 304; Transfer-Encoding over Content-Length (and then the connection is not reused);
 * differing Content-Length values are an error; otherwise the body runs until the close.
 * Bytes after a complete response make the connection not reusable (we never pipeline).
 */
export class HttpResponseParser {
  private state: State = "head";
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  /** Bytes of the head (or trailer section) so far: bounded as a whole, not only per line. */
  private headBytes = 0;
  private headLines: string[] = [];
  private remaining = 0;
  private keepAlive = true;
  private received = false;
  private ended = false;

  constructor(
    private readonly handler: ResponseHandler,
    private readonly method: string,
  ) {}

  /** Whether any byte of the response arrived (a request on a reused connection that got none may be retried). */
  get started(): boolean {
    return this.received;
  }

  get done(): boolean {
    return this.state === "done";
  }

  /** Feeds the next bytes from the socket; throws {@link HttpResponseError} on a malformed response. */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.received = true;
    this.consume(chunk);
    // `end` only once the whole chunk is seen: bytes after the response make the connection not reusable.
    if (this.state === "done" && !this.ended) {
      this.ended = true;
      this.handler.end(this.keepAlive);
    }
  }

  private consume(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case "head":
          at =
            this.line.length === 0 && this.headLines.length === 0
              ? this.readWholeHead(chunk, at)
              : this.readLine(chunk, at);
          break;
        case "data-end":
          // The CRLF after a chunk's data, when it is all here (the usual case): no line to assemble.
          if (this.line.length === 0 && chunk[at] === LF) at += 1;
          else if (this.line.length === 0 && chunk[at] === CR && chunk[at + 1] === LF) at += 2;
          else {
            at = this.readLine(chunk, at);
            break;
          }
          this.state = "size";
          break;
        case "size":
          at = this.line.length === 0 ? this.readChunkSize(chunk, at) : this.readLine(chunk, at);
          break;
        case "trailers":
          at = this.readLine(chunk, at);
          break;
        case "fixed":
        case "data": {
          const take = Math.min(this.remaining, chunk.length - at);
          this.handler.body(chunk.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining > 0) break;
          this.state = this.state === "data" ? "data-end" : "done";
          break;
        }
        case "until-close":
          this.handler.body(at === 0 ? chunk : chunk.subarray(at));
          return;
        case "done":
          this.keepAlive = false; // bytes nobody asked for: this connection's framing can no longer be trusted
          return;
      }
    }
  }

  /** The upstream closed its side: completes a close-delimited body; throws if the response was cut short. */
  close(): void {
    if (this.state === "done") return;
    if (this.state === "until-close") {
      this.state = "done";
      this.ended = true;
      this.handler.end(false);
      return;
    }
    throw new HttpResponseError(
      this.state === "head" && !this.received
        ? "the upstream closed the connection without answering"
        : "the upstream closed the connection before the response was complete",
    );
  }

  /**
   * The usual case: a whole head (up to its blank line) inside this chunk is decoded at once.
   * Otherwise falls back to line by line. Returns the next offset.
   */
  private readWholeHead(chunk: Uint8Array, at: number): number {
    for (
      let lf = chunk.indexOf(LF, at);
      lf !== -1 && lf - at < MAX_RESPONSE_HEAD_BYTES;
      lf = chunk.indexOf(LF, lf + 1)
    ) {
      const next = chunk[lf + 1] === CR ? lf + 2 : lf + 1;
      if (chunk[next] !== LF) continue;
      const lines = latin1(chunk.subarray(at, next + 1)).split(LINE_END);
      while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
      while (lines.length > 0 && lines[0] === "") lines.shift(); // blank lines before a status line are tolerated
      if (lines.length > 0) this.onHead(lines);
      return next + 1;
    }
    return this.readLine(chunk, at);
  }

  /**
   * A chunk-size line that is all in this chunk and plain (hex digits, then CRLF or LF) is read
   * from the bytes; anything else (extensions, a line split across reads) goes line by line.
   */
  private readChunkSize(chunk: Uint8Array, at: number): number {
    let size = 0;
    let i = at;
    for (; i < chunk.length && i - at < 15; i++) {
      const digit = HEX_VALUE[chunk[i] as number] ?? -1;
      if (digit === -1) break;
      size = size * 16 + digit;
    }
    const end = chunk[i] === CR && chunk[i + 1] === LF ? i + 2 : chunk[i] === LF ? i + 1 : -1;
    if (i === at || end === -1) return this.readLine(chunk, at);
    this.remaining = size;
    this.state = size === 0 ? "trailers" : "data";
    return end;
  }

  /** Collects one line (up to LF) across chunks, bounded; handles it once complete. Returns the next offset. */
  private readLine(chunk: Uint8Array, at: number): number {
    const lf = chunk.indexOf(LF, at);
    const end = lf === -1 ? chunk.length : lf + 1;
    this.lineBytes += end - at;
    const section = this.state === "head" || this.state === "trailers";
    if (this.lineBytes > (section ? MAX_RESPONSE_HEAD_BYTES - this.headBytes : MAX_CHUNK_LINE_BYTES))
      throw new HttpResponseError(
        section
          ? `the upstream's response head or trailer section is larger than ${MAX_RESPONSE_HEAD_BYTES} bytes`
          : `a chunk-size line is longer than ${MAX_CHUNK_LINE_BYTES} bytes`,
      );
    if (lf === -1) {
      this.line.push(chunk.subarray(at));
      return end;
    }
    const bytes = this.line.length === 0 ? chunk.subarray(at, lf) : concatBytes([...this.line, chunk.subarray(at, lf)]);
    this.line = [];
    this.lineBytes = 0;
    const text = latin1(bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, -1) : bytes);
    this.onLine(text, end - at);
    return end;
  }

  private onLine(text: string, size: number): void {
    switch (this.state) {
      case "head":
        this.headBytes += size;
        if (text !== "") this.headLines.push(text);
        else if (this.headLines.length > 0) this.onHead(this.headLines);
        return; // blank lines before a status line are tolerated (RFC 9112 §2.2)
      case "size": {
        const match = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/.exec(text);
        if (match === null) throw new HttpResponseError("the upstream sent a malformed chunk size");
        this.remaining = Number.parseInt(match[1] as string, 16);
        this.state = this.remaining === 0 ? "trailers" : "data";
        return;
      }
      case "data-end":
        if (text !== "") throw new HttpResponseError("the upstream sent a chunk longer than its size");
        this.state = "size";
        return;
      case "trailers":
        // Trailer fields are dropped (as fetch does); the blank line ends the message.
        this.headBytes += size;
        if (text === "") this.state = "done";
        return;
      default:
        return;
    }
  }

  private onHead(lines: string[]): void {
    this.headLines = [];
    this.headBytes = 0;
    const parsed = parseResponseHead(lines, this.method);
    if (parsed === undefined) return; // interim (100 Continue, 103 Early Hints): the real answer follows
    this.keepAlive = parsed.keepAlive;
    if (parsed.framing === "chunked") this.state = "size";
    else if (parsed.framing === "close") this.state = "until-close";
    else if (parsed.framing === "length") {
      this.remaining = parsed.head.contentLength ?? 0;
      this.state = "fixed";
    }
    this.handler.head(parsed.head);
    if (parsed.framing === "none" || (this.state === "fixed" && this.remaining === 0)) this.state = "done";
  }
}
