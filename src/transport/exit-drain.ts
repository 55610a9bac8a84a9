// After the server's own exit: when to stop reading its output. Counts the output's silence, not the time a slow client takes, so nothing the server wrote before dying is cut off, and a descendant holding the pipe open cannot hold the session.

/**
 * After the server has exited, how long in all its output may be silent (a read waiting) before
 * it is given up: what the server wrote before dying is there at once, and a descendant holding
 * the pipe open must not hold us. Time spent waiting for the client to take earlier bytes does
 * not count.
 */
export const DRAIN_AFTER_EXIT_MS = 100;
/**
 * More than a dead server can have left in its pipe or socket (default buffers are 64 KiB to a
 * few hundred KiB): what comes after the exit beyond this can only be a descendant's output.
 */
export const MAX_BYTES_AFTER_EXIT = 4 * 1024 * 1024;

/** Why reading the output of a server that exited stopped early. */
export type DrainStop = "silence" | "client" | "too-much";

/**
 * Told by the server pump when each read starts and ends, and by the session when the server has
 * exited; from then on `stopped` resolves once the output was silent for DRAIN_AFTER_EXIT_MS in
 * all, once the client took nothing for `clientMs` (the pump waiting on it after a read), or once
 * more than MAX_BYTES_AFTER_EXIT came. It never resolves while the server lives.
 */
export class ExitDrain {
  readonly stopped: Promise<DrainStop>;
  private stop!: (why: DrainStop) => void;
  private reading = false;
  private exited = false;
  private finished = false;
  private silentMs = 0;
  private bytes = 0;
  private since = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly clientMs: number) {
    this.stopped = new Promise((resolve) => (this.stop = resolve));
  }

  /** The pump is about to wait for the server's next bytes. */
  readStarted(): void {
    this.reading = true;
    if (this.exited) this.arm();
  }

  /** The read returned `bytes` (0 at the end); the pump now hands them on and waits for the writers. */
  readEnded(bytes: number): void {
    this.reading = false;
    if (!this.exited || this.finished) return;
    this.silentMs += performance.now() - this.since;
    this.bytes += bytes;
    if (this.bytes > MAX_BYTES_AFTER_EXIT) this.finish("too-much");
    else this.arm();
  }

  /** The server itself has ended: from now on the clocks run. */
  serverExited(): void {
    this.exited = true;
    this.arm();
  }

  /** Stops the clocks (the output ended, or the session stopped reading it). Idempotent. */
  close(): void {
    clearTimeout(this.timer);
    this.finished = true;
  }

  private finish(why: DrainStop): void {
    this.close();
    this.stop(why);
  }

  private arm(): void {
    if (this.finished) return;
    clearTimeout(this.timer);
    this.since = performance.now();
    this.timer = this.reading
      ? setTimeout(() => this.finish("silence"), Math.max(0, DRAIN_AFTER_EXIT_MS - this.silentMs))
      : setTimeout(() => this.finish("client"), this.clientMs);
  }
}
