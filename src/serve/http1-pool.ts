// A keep-alive pool of raw TCP connections to one http:// upstream: newest idle connection first, ones the upstream closed forgotten, idle ones closed before the upstream would.

import type { Socket, SocketHandler } from "bun";

/** Idle connections are closed after this long: below Node's default keepAliveTimeout (5 s), so we close first and the race is rare. */
export const IDLE_CLOSE_MS = 4_000;
/** How far below an idle timeout the upstream announces (`Keep-Alive: timeout=N`) we close first. */
export const ANNOUNCED_IDLE_MARGIN_MS = 1_000;
/** A connection attempt that neither succeeds nor fails within this is abandoned (ETIMEDOUT). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Idle connections kept beyond this are closed at once (connections in use are not limited). */
export const MAX_IDLE_CONNECTIONS = 256;

/** What the request currently using a connection hears from its socket. */
export interface ConnectionUser {
  data(chunk: Uint8Array): void;
  /** The socket closed (by the upstream, an error, or us). */
  closed(error: Error | undefined): void;
}

/** A connection-level failure with a code like fetch's (ECONNREFUSED, ETIMEDOUT, ECONNRESET). */
export class ConnectionError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectionError";
    this.code = code;
  }
}

/** Bun's TCP socket also pauses and resumes reading (not in its type declarations yet). */
type PausableSocket = Socket<Http1Connection | undefined> & { pause(): boolean; resume(): boolean };

/**
 * How long a connection may wait idle before reuse, from the upstream's `Keep-Alive` field (sent by
 * Node servers: `timeout=5`): our own limit, or less when the upstream announces a shorter idle
 * timeout, so we close first. A request sent just as the upstream closes an idle connection fails,
 * and a POST is never sent again (it may have been acted on): not meeting that close is the only
 * way to keep it from reaching the client. 0: do not keep the connection at all.
 */
export function idleLimitMs(keepAliveField: string | undefined): number {
  const announced =
    keepAliveField === undefined ? undefined : /(?:^|[,;\s])timeout\s*=\s*"?(\d{1,9})/i.exec(keepAliveField);
  if (announced === undefined || announced === null) return IDLE_CLOSE_MS;
  return Math.max(0, Math.min(IDLE_CLOSE_MS, Number(announced[1]) * 1000 - ANNOUNCED_IDLE_MARGIN_MS));
}

/** One TCP connection; carries one request at a time. */
export class Http1Connection {
  user: ConnectionUser | undefined;
  idleSince = 0;
  /** How long it may stay idle (see {@link idleLimitMs}). */
  idleLimit = IDLE_CLOSE_MS;
  closed = false;
  private unsent: Uint8Array | undefined;
  private paused = false;

  constructor(
    readonly socket: PausableSocket,
    private readonly pool: Http1Pool,
  ) {}

  /** Writes all of `bytes`, the rest of a partial write once the socket drains (one request's worth at most). */
  write(bytes: Uint8Array): void {
    const written = this.socket.write(bytes);
    if (written < bytes.length) this.unsent = bytes.subarray(Math.max(0, written));
  }

  /** Slows the upstream (TCP backpressure) while the reader of a streamed body is behind. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** Closes the connection at once; it is never reused. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.user = undefined;
    this.socket.terminate();
  }

  /** Returns a connection whose response completed cleanly to the pool, to be kept idle at most `idleLimit` ms. */
  release(idleLimit = IDLE_CLOSE_MS): void {
    this.user = undefined;
    this.idleLimit = idleLimit;
    this.resume(); // a body that ended while its reader was behind left the socket paused
    this.pool.keep(this);
  }

  /** @internal socket events */
  onDrain(): void {
    const rest = this.unsent;
    if (rest === undefined) return;
    this.unsent = undefined;
    this.write(rest);
  }

  /** @internal */
  onClose(error: Error | undefined): void {
    this.closed = true;
    const user = this.user;
    this.user = undefined;
    this.pool.forget(this);
    user?.closed(error);
  }
}

// `socket.data` is attached when the connect promise resolves, before any of these can run; `?.` guards the instant between.
const HANDLERS: SocketHandler<Http1Connection | undefined> = {
  data(socket, chunk) {
    const connection = socket.data;
    // Bytes on an idle connection answer nothing we asked: its framing can no longer be trusted.
    if (connection?.user === undefined) connection?.destroy();
    else connection.user.data(chunk);
  },
  drain: (socket) => socket.data?.onDrain(),
  close: (socket, error) => socket.data?.onClose(error),
  error: (socket, error) => socket.data?.onClose(error),
};

/** The pool of one upstream origin (`host:port`). */
export class Http1Pool {
  private readonly idle: Http1Connection[] = [];
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly hostname: string,
    private readonly port: number,
  ) {}

  get idleCount(): number {
    return this.idle.length;
  }

  /** The newest idle connection still fresh, if any (older ones found on the way are closed). */
  takeIdle(): Http1Connection | undefined {
    const now = performance.now();
    while (this.idle.length > 0) {
      const connection = this.idle.pop() as Http1Connection;
      if (!connection.closed && now - connection.idleSince < connection.idleLimit) return connection;
      connection.destroy();
    }
    return undefined;
  }

  /** Closes every idle connection (connections in use finish their requests). */
  close(): void {
    for (const connection of this.idle.splice(0)) connection.destroy();
    this.stopSweeper();
  }

  /** @internal */
  keep(connection: Http1Connection): void {
    if (connection.closed) return;
    if (this.idle.length >= MAX_IDLE_CONNECTIONS || connection.idleLimit <= 0) {
      connection.destroy();
      return;
    }
    connection.idleSince = performance.now();
    this.idle.push(connection);
    this.sweeper ??= setInterval(() => this.sweep(), IDLE_CLOSE_MS / 4);
    this.sweeper.unref();
  }

  /** @internal */
  forget(connection: Http1Connection): void {
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
  }

  private sweep(): void {
    const now = performance.now();
    // Limits differ per connection (announced by the upstream): every one is looked at (at most 256).
    for (const connection of this.idle.filter((c) => now - c.idleSince >= c.idleLimit)) {
      this.forget(connection);
      connection.destroy();
    }
    if (this.idle.length === 0) this.stopSweeper();
  }

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** A new connection; rejects with {@link ConnectionError} (ECONNREFUSED, ETIMEDOUT...). */
  connect(): Promise<Http1Connection> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const attempt = Bun.connect<Http1Connection | undefined>({
      hostname: this.hostname,
      port: this.port,
      data: undefined,
      socket: HANDLERS,
    }).then(
      (socket) => {
        clearTimeout(timer);
        if (timedOut) {
          socket.terminate();
          throw new ConnectionError("ETIMEDOUT", "connect timed out");
        }
        socket.setNoDelay(true);
        const connection = new Http1Connection(socket as PausableSocket, this);
        socket.data = connection;
        return connection;
      },
      (error: unknown) => {
        clearTimeout(timer);
        const code = (error as { code?: unknown } | null)?.code;
        throw new ConnectionError(typeof code === "string" ? code : "ECONNREFUSED", String(error), { cause: error });
      },
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new ConnectionError("ETIMEDOUT", `no connection within ${CONNECT_TIMEOUT_MS} ms`));
      }, CONNECT_TIMEOUT_MS);
    });
    return Promise.race([attempt, timeout]);
  }
}
