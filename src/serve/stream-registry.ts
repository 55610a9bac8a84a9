// Tracks open server→client streams (GET) so a drain can close them itself: a graceful stop would wait on them forever.

export class StreamRegistry {
  private readonly open = new Set<AbortController>();
  private closed = false;

  get size(): number {
    return this.open.size;
  }

  /**
   * Registers a stream's aborter; the returned function unregisters it (call it when the stream ends).
   * After {@link closeAll} it is aborted at once: a stream whose head came just after would otherwise be left open.
   */
  add(aborter: AbortController): () => void {
    if (this.closed) {
      aborter.abort();
      return () => undefined;
    }
    this.open.add(aborter);
    return () => this.open.delete(aborter);
  }

  /** Aborts every open stream (the upstream requests end; the clients see their streams close), and every one added later. */
  closeAll(): void {
    this.closed = true;
    for (const aborter of this.open) aborter.abort();
    this.open.clear();
  }
}
