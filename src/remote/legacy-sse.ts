// The 2024-11-05 HTTP+SSE transport, for servers that refuse Streamable HTTP: a GET event stream that names a POST endpoint.

import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { ACCEPT_SSE } from "./http-wire.ts";
import { ResponseReader } from "./response-reader.ts";
import { SseParser } from "./sse-parser.ts";
import { MAX_LINE_BYTES } from "../wire/framing.ts";
import { consumeSse } from "./sse-stream.ts";
import type { HttpUpstreamDeps } from "./upstream-types.ts";
import { fetchFailure, httpFailure, readStart, UpstreamTimeout, type UpstreamFailure } from "./upstream-failure.ts";

/**
 * Every server message (answers included) arrives on the one GET stream; POSTs are answered
 * 202. The session lives as long as that stream: when it ends, the upstream is lost (the
 * session then fails what is pending), as with a stdio server that exits.
 */
export class LegacySseUpstream {
  private endpoint: URL | undefined;
  private readonly abort = new AbortController();
  private stopping = false;

  constructor(
    private readonly deps: HttpUpstreamDeps,
    private readonly authorized: () => Promise<Record<string, string>>,
  ) {}

  /** Opens the stream and waits for its `endpoint` event; true, or why the transport cannot be used. */
  async start(): Promise<true | UpstreamFailure> {
    const { target, fetch, timeoutMs, sink } = this.deps;
    const timer = setTimeout(() => this.abort.abort(new UpstreamTimeout()), timeoutMs);
    let response: Response;
    try {
      response = await fetch(target.url, {
        method: "GET",
        headers: { ...(await this.authorized()), Accept: ACCEPT_SSE },
        signal: this.abort.signal,
      });
    } catch (error) {
      clearTimeout(timer);
      return fetchFailure(target.origin, this.abort.signal.reason ?? error, timeoutMs);
    }
    if (!response.ok || !(response.headers.get("content-type") ?? "").includes("text/event-stream")) {
      clearTimeout(timer);
      await response.body?.cancel().catch(() => undefined);
      return response.ok
        ? { errorType: "upstream_protocol", reason: `${target.origin} answered the SSE GET without an event stream` }
        : httpFailure(target.origin, response.status, response.statusText, "", this.deps.secretKeys);
    }
    const reader = new ResponseReader([], false, { sessionId: undefined, protocolVersion: undefined }, sink);
    let announced: (value: true | UpstreamFailure) => void = () => undefined;
    const ready = new Promise<true | UpstreamFailure>((resolve) => (announced = resolve));
    // An event is held whole only up to the inspection cap: a longer one goes out as it arrives.
    const parser = new SseParser(MAX_LINE_BYTES);
    const events = consumeSse(
      response.body,
      parser,
      (event) => {
        if (event.event === "endpoint" && this.endpoint === undefined) {
          const endpoint = safeEndpoint(target.url, event.data);
          if (endpoint === undefined)
            announced({
              errorType: "upstream_protocol",
              reason: `${target.origin} announced an endpoint on another origin; refusing it`,
            });
          else {
            this.endpoint = endpoint;
            announced(true);
          }
        } else {
          reader.event(event);
        }
      },
      undefined,
      () => sink.room?.(),
      (piece) => reader.longPiece(piece),
    );
    void events
      .catch(() => undefined)
      .then(() => reader.endLong()) // a stream that ended inside a long event: its line is ended
      .then(() => {
        clearTimeout(timer);
        announced({
          errorType: "upstream_protocol",
          reason: `${target.origin} closed the SSE stream before naming its endpoint`,
        });
        if (this.endpoint !== undefined && !this.stopping)
          sink.lost?.(`the HTTP+SSE stream from ${target.origin} ended`);
      });
    const outcome = await ready;
    clearTimeout(timer);
    return outcome;
  }

  async send(body: Uint8Array, ids: readonly JsonRpcId[]): Promise<void> {
    const { target, fetch, timeoutMs, sink } = this.deps;
    if (this.endpoint === undefined || this.stopping) return;
    const fail = (failure: UpstreamFailure): void => {
      if (!this.stopping) for (const id of ids) sink.failure(id, failure);
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new UpstreamTimeout()), timeoutMs);
    try {
      const response = await fetch(this.endpoint, {
        method: "POST",
        headers: { ...(await this.authorized()), "Content-Type": "application/json" },
        body,
        signal: controller.signal,
      });
      // An error's text is quoted from its first bytes only: the body is not held whole.
      const text = response.ok ? "" : new TextDecoder().decode(await readStart(response));
      if (response.ok) await response.body?.cancel().catch(() => undefined);
      else fail(httpFailure(target.origin, response.status, response.statusText, text, this.deps.secretKeys));
    } catch (error) {
      fail(fetchFailure(target.origin, controller.signal.reason ?? error, timeoutMs));
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }
}

/** The endpoint event's URI, resolved against the server URL; undefined when it points at another origin. */
function safeEndpoint(base: URL, data: string): URL | undefined {
  try {
    const url = new URL(data.trim(), base);
    return url.origin === base.origin ? url : undefined;
  } catch {
    return undefined;
  }
}
