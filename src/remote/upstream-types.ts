// The shapes the HTTP upstream is built from: where it delivers (UpstreamSink), who supplies credentials (Authorizer), its deps. Types only.

import type { Logger } from "../log.ts";
import type { KeyMatcher } from "../telemetry/scrub-keys.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";
import type { RemoteTarget } from "./remote-options.ts";
import type { UpstreamFailure } from "./upstream-failure.ts";

/** Where the upstream delivers what the server says. */
export interface UpstreamSink {
  /** One server message as a newline-terminated line, in arrival order. */
  line(bytes: Uint8Array): void;
  /**
   * While the lines given so far wait for the client beyond a bound, a promise that settles once it
   * has taken enough of them; else undefined. Server streams are not read on meanwhile (backpressure).
   */
  room?(): Promise<void> | undefined;
  /**
   * A client request the server will not answer: the session answers it with an error. A null id:
   * a refused malformed request whose id belongs to another request in flight; the error goes out
   * with a null id and no request is ended.
   */
  failure(id: JsonRpcId | null, failure: UpstreamFailure): void;
  /**
   * A line too long to hold (an answer over the inspection cap): its bytes are written in pieces as
   * they arrive. Resolves once no other long line is being written; until `end`, other lines wait.
   */
  longLine?(): Promise<LongLineWriter>;
  /** The server side is gone for good (the HTTP+SSE stream ended): the session should end as if a stdio server exited. */
  lost?(reason: string): void;
}

/** Writes one long line's pieces (its newline included) to the client's side, in order and alone. */
export interface LongLineWriter {
  /** Resolves when the client's side can take more (backpressure: nothing piles up in the proxy). */
  write(piece: Uint8Array): Promise<void>;
  /** The line is complete: lines that waited go out, the next long line may start. */
  end(): void;
}

/** Supplies credentials and resolves a 401 (a static bearer, or the OAuth flow). */
export interface Authorizer {
  /** The `Authorization` value for the next request, if any (may refresh a token first). */
  header(): Promise<string | undefined>;
  /**
   * The server refused the credentials the request carried (`sentWith`, the `header()` value it
   * was sent with): "retry" when new ones were obtained, else why not.
   */
  unauthorized(response: Response, sentWith: string | undefined): Promise<"retry" | UpstreamFailure>;
  /**
   * A 403: when it is a Bearer `insufficient_scope` challenge this authorizer can answer (OAuth's
   * step-up), "retry" once wider credentials were obtained, else why not; undefined for any other 403.
   */
  insufficientScope?(response: Response, sentWith: string | undefined): Promise<"retry" | UpstreamFailure> | undefined;
}

export interface HttpUpstreamDeps {
  readonly target: RemoteTarget;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly authorizer: Authorizer | undefined;
  readonly logger: Logger;
  readonly sink: UpstreamSink;
  readonly fetch: typeof fetch;
  /** The privacy stage's key rule with BATON_SCRUB_KEYS, for the server's error text quoted in the log. */
  readonly secretKeys: KeyMatcher;
}
