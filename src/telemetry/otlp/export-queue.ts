// The `otlp:` sink's push-back queue: encoded export requests waiting for a retry, oldest first, one attempt at a time, bounded in bytes, on unref'd timers of a passed-in clock; stops at a close deadline. Never does HTTP itself: the send is passed in.

import { describeError } from "../../errors.ts";
import type { Clock } from "../clock.ts";
import { backoffMs, MAX_EXPORT_ATTEMPTS, MAX_RETRY_AFTER_MS } from "./export-retry.ts";

/** While closing there is a deadline: a retry without Retry-After comes this soon. */
export const CLOSING_RETRY_DELAY_MS = 100;

/** A retryable failure: what went wrong, and the collector's Retry-After when it sent one. */
export interface Pushback {
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
}

/** An encoded request waiting for its next attempt. */
interface Waiting {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly spans: number;
  attempts: number;
  notBefore: number;
  /** Why the last attempt failed (for the drop's detail). */
  reason: string;
}

export interface ExportQueueOptions {
  /** One attempt: resolves undefined when delivered, a {@link Pushback} to try again later; rejects on a final failure. */
  readonly send: (body: Uint8Array<ArrayBuffer>, spans: number) => Promise<Pushback | undefined>;
  /** Counts spans given up (a final failure, attempts or Retry-After beyond bounds, the memory bound, the deadline). */
  readonly drop: (spans: number, kind: string, detail: string) => void;
  /** Takes secrets (header values) out of a failure's text before it becomes a drop's detail. */
  readonly hide: (text: string) => string;
  readonly clock: Clock;
  /** Backoff jitter in [0, 1). */
  readonly random: () => number;
  /** Bytes of request bodies held for a retry; beyond it the oldest behind the head are dropped, then the new one. */
  readonly maxWaitingBytes: number;
}

export interface ExportQueue {
  /** Requests waiting (the head may be in flight): while any wait, newer ones queue behind them. */
  readonly pending: number;
  /** The close deadline (clock ms): Infinity until {@link ExportQueue.close}. */
  readonly deadline: number;
  /** Queues a request for a retry (after `pushback`, or behind the ones waiting), within the byte bound. */
  wait(body: Uint8Array<ArrayBuffer>, spans: number, pushback: Pushback | undefined): void;
  /** Sets the deadline and stops the timer: from now on only {@link ExportQueue.retryUntilDeadline} retries. */
  close(deadline: number): void;
  /** At close: retries what fits before the deadline, then counts what still waits. Never rejects. */
  retryUntilDeadline(): Promise<void>;
}

/** Creates the queue; nothing is sent until a request waits in it. */
export function createExportQueue(options: ExportQueueOptions): ExportQueue {
  const { send: post, drop, hide, clock, random, maxWaitingBytes } = options;
  /** Requests waiting for a retry, oldest first; the head is the one being retried. */
  const waiting: Waiting[] = [];
  let waitingBytes = 0;
  let retrying: Promise<void> | undefined;
  let timer: unknown;
  /** Set by `close`: retries stop there. */
  let deadline = Infinity;

  /** Queues a request for a retry (after `pushback`, or behind the ones waiting), within the byte bound. */
  function wait(body: Uint8Array<ArrayBuffer>, spans: number, pushback: Pushback | undefined): void {
    const entry: Waiting = { body, spans, attempts: pushback === undefined ? 0 : 1, notBefore: 0, reason: "" };
    if (pushback !== undefined && !retryLater(entry, pushback)) return;
    // The head may be in flight: only the ones behind it are dropped for room, then the new one itself.
    while (waitingBytes + body.length > maxWaitingBytes && waiting.length > 1) {
      const oldest = waiting.splice(1, 1)[0] as Waiting;
      waitingBytes -= oldest.body.length;
      drop(oldest.spans, "memory bound", `more than ${maxWaitingBytes} bytes waiting for a retry; oldest dropped`);
    }
    if (waitingBytes + body.length > maxWaitingBytes) {
      drop(spans, "memory bound", `more than ${maxWaitingBytes} bytes waiting for a retry`);
      return;
    }
    waiting.push(entry);
    waitingBytes += body.length;
    schedule();
  }

  /** Sets when `entry` is tried next after a pushback; false (dropped, counted) when it is given up instead. */
  function retryLater(entry: Waiting, pushback: Pushback): boolean {
    entry.reason = pushback.reason;
    const { retryAfterMs } = pushback;
    const failed = `${entry.spans} span(s) not exported`;
    if (entry.attempts >= MAX_EXPORT_ATTEMPTS) {
      drop(entry.spans, "export failed", `${failed} after ${entry.attempts} attempts: ${pushback.reason}`);
      return false;
    }
    if (retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS) {
      const asked = `${pushback.reason} asked to wait ${Math.round(retryAfterMs / 1_000)} s`;
      drop(entry.spans, "export failed", `${failed}: ${asked} (at most ${MAX_RETRY_AFTER_MS / 1_000} s are waited)`);
      return false;
    }
    const closing = deadline !== Infinity;
    entry.notBefore =
      clock.now() + (retryAfterMs ?? (closing ? CLOSING_RETRY_DELAY_MS : backoffMs(entry.attempts, random)));
    return true;
  }

  /** Arms the timer for the head's next attempt (none while one runs or while closing: close drives the retries then). */
  function schedule(): void {
    if (retrying !== undefined || timer !== undefined || waiting.length === 0 || deadline !== Infinity) return;
    const head = waiting[0] as Waiting;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        retrying = retryDue().finally(() => {
          retrying = undefined;
          schedule();
        });
      },
      Math.max(0, head.notBefore - clock.now()),
    );
  }

  /** Sends the waiting requests in order while they are due; stops at the first that must wait. */
  async function retryDue(): Promise<void> {
    for (let head = waiting[0]; head !== undefined && head.notBefore <= clock.now(); head = waiting[0]) {
      if (clock.now() >= deadline) return;
      head.attempts++;
      let pushback: Pushback | undefined;
      let failure: unknown;
      try {
        pushback = await post(head.body, head.spans);
      } catch (error) {
        failure = error;
      }
      if (waiting[0] !== head) return; // given up at the close deadline meanwhile (and counted there)
      if (failure !== undefined) drop(head.spans, "export failed", hide(describeError(failure)));
      else if (pushback !== undefined && retryLater(head, pushback)) continue;
      waiting.shift();
      waitingBytes -= head.body.length;
    }
  }

  /** At close: retries what fits before the deadline, then counts what still waits. */
  async function retryUntilDeadline(): Promise<void> {
    if (retrying !== undefined) await Promise.race([retrying, sleep(deadline - clock.now())]);
    while (retrying === undefined && waiting.length > 0 && clock.now() < deadline) {
      const head = waiting[0] as Waiting;
      if (head.notBefore >= deadline) break;
      if (head.notBefore > clock.now()) await sleep(head.notBefore - clock.now());
      retrying = retryDue();
      await retrying;
      retrying = undefined;
    }
    const spans = waiting.reduce((n, entry) => n + entry.spans, 0);
    if (spans > 0) drop(spans, "shutdown deadline", `${waiting.length} export request(s) not exported before exit`);
    waiting.length = 0;
    waitingBytes = 0;
  }

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => void clock.setTimeout(resolve, Math.max(0, ms)));

  return {
    get pending() {
      return waiting.length;
    },
    get deadline() {
      return deadline;
    },
    wait,
    close(at: number): void {
      deadline = at;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
    retryUntilDeadline,
  };
}
