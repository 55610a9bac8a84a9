// JSON-RPC 2.0 message shapes, the junk policy for lines that are not JSON-RPC, and the one builder of wire errors.

import { scanLineFacts, type LineFacts } from "./line-facts.ts";
import { decodeUtf8 } from "./utf8.ts";
import { topLevelIdSource } from "./id-source.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

export { decodeUtf8, encodeUtf8 } from "./utf8.ts";
export { cancelledKey, type IdKey, idKey, idOfKey, keyOf, keyOfSource } from "./id-keys.ts";

export type JsonRpcId = string | number;
export type JsonObject = Record<string, unknown>;

/**
 * A decoded JSON-RPC message. `value` is the parsed object itself (re-serialise only when changed).
 * A message from `classifyLine` may have been read by a byte scan, `value` parsed only when first
 * read: see {@link scannedFacts}.
 */
export type Message =
  | {
      readonly kind: "request";
      readonly id: JsonRpcId;
      readonly method: string;
      readonly value: JsonObject;
      /** The id as written, when JSON.parse changed it (`1.0`, `-0`, an integer beyond 2^53): answers must carry it. */
      readonly idText?: string;
    }
  | { readonly kind: "notification"; readonly method: string; readonly value: JsonObject }
  | {
      readonly kind: "response";
      readonly id: JsonRpcId | null;
      readonly value: JsonObject;
      /** As for requests. */
      readonly idText?: string;
    };

/** An id serialised exactly as the peer wrote it (a `JSON.rawJSON` value: JSON.stringify writes its text). */
export interface ExactId {
  readonly rawJSON: string;
}

/** What the proxy writes as the id of an answer it makes: the id, or its text when JSON.parse changed it. */
export type WireId = JsonRpcId | ExactId;

const RawJson = JSON as unknown as { rawJSON(text: string): ExactId };

/** `id` as the peer wrote it: `idText` when given (see Message), else `id` itself. */
export function exactId(id: JsonRpcId, idText: string | undefined): WireId {
  return idText === undefined ? id : RawJson.rawJSON(idText);
}

/**
 * What a line turned out to be. The written junk policy (SPEC §2, STYLE §3): every line is
 * forwarded; `junk` lines (blank, not JSON, JSON that is not JSON-RPC) are forwarded unchanged,
 * never inspected further, and reported to the log (rate-limited by the caller); a `batch` is
 * forwarded and its members are observed one by one.
 */
export type Classified =
  | { readonly kind: "message"; readonly message: Message }
  | { readonly kind: "batch"; readonly members: readonly (Message | undefined)[]; readonly values: readonly unknown[] }
  | { readonly kind: "junk"; readonly reason: "blank" | "not_json" | "not_jsonrpc" };

/**
 * Decodes and classifies one line body (without its newline). Never throws. A plain single message
 * (most lines) is classified from a validating byte scan and parsed only when its `value` is read:
 * the hot path handles a plain tool call and its answer without decoding or parsing either.
 */
export function classifyLine(body: Uint8Array): Classified {
  const facts = scanLineFacts(body);
  const message = facts === undefined ? undefined : scannedMessage(body, facts);
  return message === undefined ? classifyText(decodeUtf8(body)) : { kind: "message", message };
}

/** The message `toMessage` would make of the scanned line, or undefined when only a parse can tell. */
function scannedMessage(body: Uint8Array, facts: LineFacts): Message | undefined {
  const { id, method } = facts;
  if (method !== undefined) {
    if (id === null) return undefined;
    return id === undefined
      ? new ScannedNotification(body, facts, method)
      : new ScannedRequest(body, facts, id, method);
  }
  if ((facts.hasResult || facts.hasError) && id !== undefined) return new ScannedResponse(body, facts, id);
  return undefined;
}

/**
 * The scan's facts of `message` when they may stand for it: it came from `classifyLine(body)`, its
 * `value` was never read (so nobody changed it), and `bytes` are that body (with or without what
 * follows it, e.g. the newline). Undefined otherwise: the caller reads `value` instead.
 */
export function scannedFacts(message: Message, bytes: Uint8Array): LineFacts | undefined {
  return message instanceof ScannedMessage ? message.factsOf(bytes) : undefined;
}

/** A message whose line passed the scan: parsed on first use of `value` (the scan proved it parses). */
class ScannedMessage {
  #body: Uint8Array | undefined;
  #value: JsonObject | undefined;
  readonly #facts: LineFacts;
  constructor(body: Uint8Array, facts: LineFacts) {
    this.#body = body;
    this.#facts = facts;
  }
  get value(): JsonObject {
    if (this.#value === undefined) {
      this.#value = JSON.parse(decodeUtf8(this.#body as Uint8Array)) as JsonObject;
      this.#body = undefined; // the line is a view into a read chunk: let it go
    }
    return this.#value;
  }
  factsOf(bytes: Uint8Array): LineFacts | undefined {
    const body = this.#body;
    if (body === undefined) return undefined; // parsed: the value may have been changed since
    if (bytes !== body && (bytes.buffer !== body.buffer || bytes.byteOffset !== body.byteOffset)) return undefined;
    return bytes.length < body.length ? undefined : this.#facts;
  }
}

class ScannedRequest extends ScannedMessage {
  readonly kind = "request";
  constructor(
    body: Uint8Array,
    facts: LineFacts,
    readonly id: JsonRpcId,
    readonly method: string,
  ) {
    super(body, facts);
  }
}

class ScannedNotification extends ScannedMessage {
  readonly kind = "notification";
  constructor(
    body: Uint8Array,
    facts: LineFacts,
    readonly method: string,
  ) {
    super(body, facts);
  }
}

class ScannedResponse extends ScannedMessage {
  readonly kind = "response";
  constructor(
    body: Uint8Array,
    facts: LineFacts,
    readonly id: JsonRpcId | null,
  ) {
    super(body, facts);
  }
}

/**
 * A blank line holds only JSON's whitespace (RFC 8259 §2). Not `trim()`: it also drops U+FEFF (a
 * byte order mark) and Unicode spaces, and a line of those is not JSON rather than blank.
 */
const BLANK = /^[ \t\n\r]*$/;

/** Classifies text already decoded (an SSE event's data). Never throws. */
export function classifyText(text: string): Classified {
  if (BLANK.test(text)) return { kind: "junk", reason: "blank" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "junk", reason: "not_json" };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { kind: "junk", reason: "not_jsonrpc" };
    const members = parsed.map(toMessage);
    return { kind: "batch", members: withIdTexts(text, members, true), values: parsed };
  }
  const message = toMessage(parsed);
  if (message === undefined) return { kind: "junk", reason: "not_jsonrpc" };
  return { kind: "message", message: withIdTexts(text, [message], false)[0] as Message };
}

/**
 * `messages` (from `text`, one per top-level value: one, or a batch's members) with the text of each
 * number id JSON.parse wrote back differently (`1.0`, `1E2`, `-0`, integers beyond 2^53, which it
 * rounds): answers the proxy makes, and its book of requests awaiting an answer, use the id as
 * written. One message's id is read from its text's top level (stopping there); a batch's, rare,
 * by parsing the text again, reading the ids' sources.
 */
function withIdTexts(text: string, messages: (Message | undefined)[], batch: boolean): (Message | undefined)[] {
  if (!messages.some((m) => m !== undefined && m.kind !== "notification" && typeof m.id === "number")) return messages;
  if (!batch) {
    const message = messages[0] as Exclude<Message, { kind: "notification" }>;
    const source = topLevelIdSource(text);
    // A second "id" (JSON.parse keeps the last) with another value: the sources are read below.
    if (source !== undefined && Object.is(Number(source), message.id))
      return source === String(message.id) ? messages : [{ ...message, idText: source }];
  }
  const sources = new Map<unknown, string>(); // holder object → its "id" as written
  const tree: unknown = JSON.parse(text, function (this: unknown, key, value, context?: { source?: string }) {
    if (key === "id" && typeof value === "number" && context?.source !== undefined) sources.set(this, context.source);
    return value; // unchanged: the holders seen here are the objects of `tree`
  });
  const roots = Array.isArray(tree) ? tree : [tree];
  return messages.map((message, i) => {
    if (message === undefined || message.kind === "notification") return message;
    const idText = sources.get(roots[i]);
    return idText === undefined || idText === String(message.id) ? message : { ...message, idText };
  });
}

/** Recognises a request, notification or response object; anything else is undefined. */
export function toMessage(value: unknown): Message | undefined {
  if (!isObject(value)) return undefined;
  const { id, method } = value;
  const validId = typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
  if (typeof method === "string") {
    if (validId) return { kind: "request", id: id as JsonRpcId, method, value };
    if (id === undefined) return { kind: "notification", method, value };
    return undefined;
  }
  if ("result" in value || "error" in value) {
    if (validId || id === null) return { kind: "response", id: (id ?? null) as JsonRpcId | null, value };
  }
  return undefined;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON-RPC error codes the proxy itself uses on the wire. */
export const WIRE_ERROR = {
  INTERNAL: -32603,
  INVALID_PARAMS: -32602,
  METHOD_NOT_FOUND: -32601,
} as const;

/**
 * The only way the proxy builds an error response for a peer (wire family; local errors never
 * reach the wire). `message` is prefixed so a user can tell the proxy answered, not the server.
 */
export function wireError(id: WireId | null, code: number, message: string, data?: unknown): JsonObject {
  const error: JsonObject = { code, message: `baton-proxy: ${message}` };
  if (data !== undefined) error.data = data;
  return { jsonrpc: "2.0", id, error };
}

/** A successful response object. */
export function wireResult(id: WireId, result: unknown): JsonObject {
  return { jsonrpc: "2.0", id, result };
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(classifyLine, scannedMessage, ScannedMessage.prototype.factsOf);
