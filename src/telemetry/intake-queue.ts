// The dispatcher's intake: what the pumps enqueued, in order, taken by the background in slices; O(1) amortised per item, never pins what it handed on.

/** Items taken from the head before the array is compacted (and only once they are at least half of it). */
const COMPACT_AFTER_TAKEN = 1024;

/** A FIFO that hands out its oldest items in slices (`take`), keeping no reference to them afterwards. */
export class IntakeQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0; // items[head..] wait

  /** Items waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /**
   * Removes the oldest `limit` items (all, for Infinity) and passes them to `each` in order; returns
   * how many. The queue is updated first, so `each` may push more (they wait for a later take).
   */
  take(limit: number, each: (item: T) => void): number {
    const batch = this.items;
    const start = this.head;
    const end = Math.min(batch.length, start + limit);
    if (end >= batch.length) {
      this.items = [];
      this.head = 0;
    } else if (end >= COMPACT_AFTER_TAKEN && end * 2 >= batch.length) {
      this.items = batch.slice(end);
      this.head = 0;
    } else {
      this.head = end;
    }
    for (let i = start; i < end; i++) {
      const item = batch[i] as T;
      batch[i] = undefined; // a sliced intake must not pin what it already handed on
      each(item);
    }
    return end - start;
  }
}
