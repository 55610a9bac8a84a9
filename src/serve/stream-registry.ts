// Tracks open server→client streams (GET) so a drain can close them itself: a graceful stop would wait on them forever.

export class StreamRegistry {
  private readonly open = new Set<AbortController>();

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream's aborter; the returned function unregisters it (call it when the stream ends). */
  add(aborter: AbortController): () => void {
    this.open.add(aborter);
    return () => this.open.delete(aborter);
  }

  /** Aborts every open stream (the upstream requests end; the clients see their streams close). */
  closeAll(): void {
    for (const aborter of this.open) aborter.abort();
    this.open.clear();
  }
}
