// The two seams a session loop is written against: where bytes go (ByteSink) and the server it talks to (Upstream). Types only.

/**
 * Where a writer hands bytes (Bun's FileSink has this shape: a child's stdin, our stdout). `write`
 * buffers and never blocks; `flush` returns a number when the bytes went out at once, or a
 * promise that settles when the peer has taken them (backpressure). Either may throw or reject
 * once the peer is gone (EPIPE).
 */
export interface ByteSink {
  write(bytes: Uint8Array): number | Promise<number>;
  flush(): number | Promise<number>;
}

/**
 * The MCP server behind a session: the stdio child today, an HTTP client for `--url` next. The
 * session loop writes to `input`, reads `output`, and decides when to stop; the upstream knows how.
 */
export interface Upstream {
  /**
   * Bytes for the server, in order. Not necessarily whole lines: a client line over the inspection
   * cap arrives in pieces, so an upstream that needs messages (HTTP) frames them itself.
   */
  readonly input: ByteSink;
  /** The server's output as newline-delimited JSON-RPC bytes; ends when the server can send nothing more. */
  readonly output: ReadableStream<Uint8Array>;
  /**
   * Resolves once the server itself has ended (the direct child's exit, however its descendants
   * behave), with the status the proxy mirrors: the exit code, or 128 + signal number. Never rejects.
   */
  readonly exited: Promise<number>;
  /** How it ended (`exit code 3`, `signal SIGKILL`); meaningful once `exited` resolved. */
  describeExit(): string;
  /**
   * Once `exited` resolved: true when the proxy's own stop steps (not a signal passed on from the
   * host) had signalled the server before it ended. Upstreams without signals leave it out.
   */
  stoppedByProxy?(): boolean;
  /** The client is done or gone: close the server's input, then stop it in steps. Idempotent. */
  close(): void;
  /** A stop signal the proxy itself received (SIGINT, SIGTERM, SIGHUP), passed on as it comes. */
  signal(signal: NodeJS.Signals): void;
  /**
   * After `exited`: make sure nothing the server started is left running (its process group).
   * Resolves when that is done, bounded by the stop grace periods. Idempotent.
   */
  release(): Promise<void>;
  /**
   * Upstreams that can fail one request without ending (HTTP: a refused or timed-out POST) report
   * it here; the session answers that request with an error. The stdio child never does.
   */
  onRequestFailed?(handler: (failure: RequestFailure) => void): void;
}

/** One request the upstream could not deliver: `errorType` names it in events (`http_503`), `reason` tells the user. */
export interface RequestFailure {
  /** Null: answer with a null id and end no request (see UpstreamSink.failure). */
  readonly id: string | number | null;
  readonly errorType: string;
  readonly reason: string;
}
