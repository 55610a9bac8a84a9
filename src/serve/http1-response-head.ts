// An HTTP/1.1 response head (status line and header fields, RFC 9112) -> the head handed on, how its body is framed, and whether the connection stays reusable. Pure.

/** The upstream's answer is not HTTP/1.x as RFC 9112 allows: the connection is unusable. */
export class HttpResponseError extends Error {
  readonly code = "EBADRESPONSE";
  constructor(message: string) {
    super(message);
    this.name = "HttpResponseError";
  }
}

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  /** Name/value pairs in arrival order (names in lower case; repeated fields stay separate, like Set-Cookie). */
  readonly headers: [string, string][];
  /** Bytes of body announced by Content-Length; undefined for chunked, close-delimited or no body. */
  readonly contentLength: number | undefined;
  /** The response has no body at all (HEAD, 204, 304). */
  readonly bodiless: boolean;
  /** The Content-Encoding field (repeats joined), if any. */
  readonly contentEncoding: string | undefined;
  /** The Transfer-Encoding field (repeats joined) of a response with a body, if any: codings besides chunked must be undone. */
  readonly transferEncoding: string | undefined;
}

/** How a final response's body is delimited (RFC 9112 §6.3): none, Content-Length, chunked coding, or the connection's close. */
export type BodyFraming = "none" | "length" | "chunked" | "close";

/** A final response's head, its body framing, and whether the connection may carry another request after it. */
export interface ParsedHead {
  readonly head: ResponseHead;
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

/**
 * Reads a head's lines (the status line first). An interim 1xx gives undefined (the real answer follows);
 * 101 is refused (the proxy never asks to upgrade). Transfer-Encoding wins over Content-Length, and then the
 * connection is not reused, nor after a HEAD answer that announces a body; differing Content-Length values are
 * an error. Throws {@link HttpResponseError}.
 */
export function parseResponseHead(lines: readonly string[], method: string): ParsedHead | undefined {
  const status = STATUS_LINE.exec(lines[0] as string);
  if (status === null) throw new HttpResponseError("the upstream's answer does not start with an HTTP/1.x status line");
  const code = Number(status[2]);
  if (code < 100 || code > 599) throw new HttpResponseError(`the upstream answered an invalid status ${code}`);
  if (code === 101) throw new HttpResponseError("the upstream switched protocols, which the proxy never asked for");
  const headers: [string, string][] = [];
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection = "";
  let contentEncoding: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(":");
    const name = colon <= 0 ? "" : line.slice(0, colon);
    if (!TOKEN.test(name)) throw new HttpResponseError("the upstream sent a malformed header line");
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === "content-length") contentLength = contentLength === undefined ? value : `${contentLength},${value}`;
    else if (lower === "transfer-encoding") transferEncoding = joinList(transferEncoding, value);
    else if (lower === "connection") connection = joinList(connection, value) ?? "";
    else if (lower === "content-encoding") contentEncoding = joinList(contentEncoding, value);
    headers.push([lower, value]);
  }
  if (code < 200) return undefined; // interim (100 Continue, 103 Early Hints): the real answer follows
  const tokens = connection
    .toLowerCase()
    .split(",")
    .map((t) => t.trim());
  let keepAlive = status[1] === "1" ? !tokens.includes("close") : tokens.includes("keep-alive");
  const bodiless = method === "HEAD" || code === 204 || code === 304;
  // A HEAD answer that announces a body: a server that sends the body anyway (non-conforming, but met)
  // would put those bytes ahead of the next request's answer on this connection, so it is not reused.
  if (method === "HEAD" && (transferEncoding !== undefined || (contentLength !== undefined && contentLength !== "0")))
    keepAlive = false;
  let length: number | undefined;
  let framing: BodyFraming = "none";
  if (!bodiless && transferEncoding !== undefined) {
    // Transfer-Encoding wins over Content-Length, and a message that had both cannot be trusted for reuse.
    if (contentLength !== undefined) keepAlive = false;
    const codings = transferEncoding
      .toLowerCase()
      .split(",")
      .map((t) => t.trim());
    framing = codings[codings.length - 1] === "chunked" ? "chunked" : "close";
  } else if (!bodiless && contentLength !== undefined) {
    length = parseContentLength(contentLength);
    framing = "length";
  } else if (!bodiless) {
    framing = "close";
  }
  return {
    head: {
      status: code,
      statusText: status[3] ?? "",
      headers,
      contentLength: length,
      bodiless,
      contentEncoding,
      transferEncoding: bodiless ? undefined : transferEncoding,
    },
    framing,
    keepAlive,
  };
}

/**
 * The transfer codings of a Transfer-Encoding field besides the final chunked (which the framing
 * undoes), outermost first, `identity` skipped; a chunked before the end stays in (nothing undoes it).
 */
export function extraTransferCodings(field: string | null | undefined): string[] {
  if (field === null || field === undefined) return [];
  const names = field.split(",").map((raw) => raw.trim().toLowerCase());
  if (names[names.length - 1] === "chunked") names.pop();
  return names.filter((name) => name !== "" && name !== "identity").reverse();
}

/** Content-Length, possibly repeated or a list of the same value (RFC 9112 §6.3 item 5); anything else is an error. */
function parseContentLength(raw: string): number {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  const values = new Set(raw.split(",").map((v) => v.trim()));
  const only = values.size === 1 ? [...values][0] : undefined;
  if (only === undefined || !/^\d{1,15}$/.test(only))
    throw new HttpResponseError("the upstream sent an invalid Content-Length");
  return Number(only);
}

function joinList(list: string | undefined, value: string): string | undefined {
  return list === undefined || list === "" ? value : `${list}, ${value}`;
}
