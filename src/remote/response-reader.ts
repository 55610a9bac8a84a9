// Follows one HTTP answer (a JSON body or SSE events): passes each server message on as a line and notes which requests it answered.

import { answerIdOfLongLine } from "../proxy/long-lines.ts";
import { concatBytes } from "../wire/bytes.ts";
import { addToEdges, type LineEdges } from "../wire/framing.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { decodeUtf8 } from "../wire/utf8.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { scanMethod } from "../wire/line-scan.ts";
import { bodyToLine } from "./http-wire.ts";
import type { SessionFacts } from "./http-wire.ts";
import { LongEventData } from "../wire/long-event.ts";
import { noteToolList } from "./param-headers.ts";
import type { SseEvent, SseLongPiece } from "./sse-parser.ts";
import type { LongLineWriter, UpstreamSink } from "./upstream-types.ts";

/**
 * Messages are parsed only while some request of this exchange is unanswered (the answer is
 * usually the last message of its stream), and the handshake's answer teaches the negotiated
 * protocol version. Lines go to the sink byte-for-byte as the server sent them.
 */
export class ResponseReader {
  private readonly waiting: Map<JsonRpcId, true>;
  /** Requests this exchange carried. */
  private readonly requestCount: number;
  /** The SSE event too long to hold whose pieces are going out, when one is. */
  private long:
    | {
        data: LongEventData;
        parts: Uint8Array[];
        writer: LongLineWriter | undefined;
        edges: LineEdges & { size: number };
      }
    | undefined;
  /** Messages seen so far (resumption counts progress by it). */
  events = 0;

  constructor(
    ids: readonly JsonRpcId[],
    private readonly isInitialize: boolean,
    private readonly facts: SessionFacts,
    private readonly sink: UpstreamSink,
    /** Told each request of this exchange as its answer arrives. */
    private readonly answered: (id: JsonRpcId) => void = () => {},
    /** Told the id of each request the server sends the client on this stream (it now waits for the client). */
    private readonly asked: (id: JsonRpcId) => void = () => {},
  ) {
    this.waiting = new Map(ids.map((id) => [id, true]));
    this.requestCount = ids.length;
  }

  /** An SSE event: only `message` events carry JSON-RPC (an empty priming event only moves the resume point). */
  event(event: SseEvent): void {
    if (event.event !== "message") return;
    this.line(bodyToLine(event.dataBytes));
  }

  line(line: Uint8Array | undefined): void {
    if (line === undefined) return;
    this.events++;
    if (this.waiting.size > 0) this.inspect(line);
    this.sink.line(line);
  }

  /**
   * A JSON answer too long to inspect went out as a line in pieces: the request it answers is read
   * from its edges (a batch's, each from its own); when they show none, a body answering a POST of
   * one request can only answer it.
   */
  longLine(edges: LineEdges): void {
    this.events++;
    if (this.waiting.size === 0) return;
    const showed = this.settleMembers(edges.members ?? [edges]);
    if (!showed && this.requestCount === 1) for (const only of this.unanswered()) this.settle(only);
  }

  /**
   * A piece of an SSE event too long to hold (in arrival order): its data goes out as one line as it
   * comes, alone on the client's side; at its last piece the request it answers is read from the
   * line's edges, as for a long JSON answer (never guessed: the stream may carry other messages).
   */
  async longPiece(piece: SseLongPiece): Promise<void> {
    const long = (this.long ??= { data: new LongEventData(), parts: [], writer: undefined, edges: emptyEdges() });
    for (const bytes of long.data.take(piece.raw)) {
      if (long.data.dropped) break;
      addToEdges(long.edges, bytes);
      if (this.sink.longLine === undefined) long.parts.push(bytes.slice());
      else await (long.writer ??= await this.sink.longLine()).write(bytes);
    }
    if (piece.edges !== undefined) await this.endLong(true);
  }

  /** The stream ended or broke inside a long event: its line is ended (so the next message starts on its own line). */
  async endLong(complete = false): Promise<void> {
    const long = this.long;
    this.long = undefined;
    if (long === undefined || long.edges.size === 0) return;
    if (long.writer === undefined) {
      if (complete && !long.data.dropped) this.line(bodyToLine(concatBytes(long.parts)));
      return;
    }
    await long.writer.write(NEWLINE);
    long.writer.end();
    if (!complete) return;
    this.events++;
    if (this.waiting.size === 0) return;
    this.settleMembers(long.edges.members ?? [long.edges]);
  }

  /** Each answer of a long line (a batch's, 2025-03-26, from its own edges: framing.ts found them as it went by) settles its request; false when none showed an id. */
  private settleMembers(members: readonly LineEdges[]): boolean {
    let showed = false;
    for (const one of members) {
      const id = answerIdOfLongLine(decodeUtf8(one.head), decodeUtf8(one.tail));
      if (id === undefined) continue;
      showed = true;
      this.settle(id);
    }
    return showed;
  }

  /** `id` was answered by a long line: off the waiting list, and the caller told (as for an inspected answer). */
  private settle(id: JsonRpcId): void {
    if (this.waiting.delete(id)) this.answered(id);
  }

  /** Requests of this exchange that got no answer (yet). */
  unanswered(): JsonRpcId[] {
    return [...this.waiting.keys()];
  }

  /** The unanswered requests, for the caller to fail now: none is left to fail a second time. */
  giveUp(): JsonRpcId[] {
    const ids = this.unanswered();
    this.waiting.clear();
    return ids;
  }

  private inspect(line: Uint8Array): void {
    // A top-level method makes it a request or notification, never an answer (progress: most of a
    // long stream, never parsed); a request (sampling, elicitation…) is read for its id.
    const method = scanMethod(line);
    if (method !== undefined) {
      if (!method.startsWith("notifications/")) this.noteRequest(line);
      return;
    }
    const parsed = parseLine(line);
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (!isObject(message) || !("result" in message || "error" in message)) continue;
      const id = message.id as JsonRpcId;
      if (!this.waiting.has(id)) continue;
      this.waiting.delete(id);
      this.answered(id);
      const result = message.result;
      if (this.isInitialize && isObject(result) && typeof result.protocolVersion === "string")
        this.facts.protocolVersion = result.protocolVersion;
      // A tool listing: the arguments its tools mirror into headers (2026-07-28), for their calls' POSTs.
      if (isObject(result) && Array.isArray(result.tools))
        noteToolList((this.facts.paramHeaders ??= new Map()), result);
    }
  }

  private noteRequest(line: Uint8Array): void {
    const request = parseLine(line);
    if (isObject(request) && (typeof request.id === "string" || typeof request.id === "number")) this.asked(request.id);
  }
}

function parseLine(line: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString("utf8"));
  } catch {
    return undefined;
  }
}

const NEWLINE = new Uint8Array([0x0a]);

function emptyEdges(): LineEdges & { size: number } {
  return { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };
}
