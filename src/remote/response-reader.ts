// Follows one HTTP answer (a JSON body or SSE events): passes each server message on as a line and notes which requests it answered.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { isObject } from "../wire/jsonrpc.ts";
import { scanMethod } from "../wire/line-scan.ts";
import { bodyToLine } from "./http-wire.ts";
import type { SessionFacts } from "./http-wire.ts";
import type { SseEvent } from "./sse-parser.ts";
import type { UpstreamSink } from "./upstream-types.ts";

/**
 * Messages are parsed only while some request of this exchange is unanswered (the answer is
 * usually the last message of its stream), and the handshake's answer teaches the negotiated
 * protocol version. Lines go to the sink byte-for-byte as the server sent them.
 */
export class ResponseReader {
  private readonly waiting: Map<JsonRpcId, true>;
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
