// A FIFO of items with size estimates, taken from the head in slices: the dispatcher's intake and each sink lane's queue. O(1) amortised per item, never pins what it handed on.

import { gettersOf, keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** Items taken from the head before the array is compacted (and only once they are at least half of it). */
const COMPACT_AFTER_TAKEN = 1024;

/** A FIFO that hands out its oldest items in slices (`take`), keeping no reference to them afterwards. */
export class SizedQueue<T> {
  private items: (T | undefined)[] = [];
  /** Each item's size estimate, parallel to `items`. */
  private sizes: number[] = [];
  private head = 0; // items[head..] wait
  private waitingBytes = 0;

  /** Items waiting. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** The size estimates of the items waiting, summed. */
  get bytes(): number {
    return this.waitingBytes;
  }

  /** The size estimate of the waiting item at `offset` (0: the oldest). */
  bytesAt(offset: number): number {
    return this.sizes[this.head + offset] as number;
  }

  push(item: T, bytes = 0): void {
    this.items.push(item);
    this.sizes.push(bytes);
    this.waitingBytes += bytes;
  }

  /**
   * Removes the oldest `limit` items (all, for Infinity) and passes them to `each` in order; returns
   * how many. The queue is updated first, so `each` may push more (they wait for a later take).
   */
  take(limit: number, each: (item: T) => void): number {
    const batch = this.items;
    const sizes = this.sizes;
    const start = this.head;
    const end = Math.min(batch.length, start + limit);
    for (let i = start; i < end; i++) this.waitingBytes -= sizes[i] as number;
    if (end >= batch.length) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
      this.waitingBytes = 0;
    } else if (end >= COMPACT_AFTER_TAKEN && end * 2 >= batch.length) {
      this.items = batch.slice(end);
      this.sizes = sizes.slice(end);
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

  // Once per event and per slice: no FTL compile (see runtime/jit-tiers.ts).
  static {
    keepOutOfFtl(
      SizedQueue.prototype.push,
      SizedQueue.prototype.take,
      SizedQueue.prototype.bytesAt,
      ...gettersOf(SizedQueue.prototype, "size", "bytes"),
    );
  }
}
