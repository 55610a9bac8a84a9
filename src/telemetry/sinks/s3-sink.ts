// The `s3://bucket/prefix` sink: batches events per session into NDJSON objects and uploads them in the background with bounded retries and memory.

import { describeError } from "../../errors.ts";
import type { Clock } from "../clock.ts";
import type { BatonEvent } from "../event-types.ts";
import { createS3Batches, type SealedObject } from "./s3-batches.ts";
import { joinLines } from "./line-batch-sink.ts";
import type { S3Put } from "./s3-put.ts";
import type { S3Settings } from "./s3-settings.ts";
import type { Sink, SinkDrop } from "./sink.ts";

/** Everything buffered (open batches, objects waiting or uploading) stays under this; beyond it the oldest waiting object is dropped. */
export const MAX_S3_BUFFER_BYTES = 64 * 1024 * 1024;
/** Uploads at once (objects of different sessions). */
export const MAX_CONCURRENT_UPLOADS = 4;
/** Attempts per object before it is dropped and counted. */
export const MAX_UPLOAD_ATTEMPTS = 5;
/** Backoff after the first failure; doubles per attempt up to {@link MAX_RETRY_DELAY_MS}. */
export const FIRST_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 8_000;
/** While closing there is a deadline: retries come quickly. */
export const CLOSING_RETRY_DELAY_MS = 100;
/** `close` gives up on what is not uploaded by then, counting it, so the drop is reported before the dispatcher's 2 s exit deadline. */
export const CLOSE_DEADLINE_MS = 1_500;
/** One PUT slower than this counts as a failed attempt. */
export const UPLOAD_TIMEOUT_MS = 30_000;

export interface S3SinkOptions {
  /** Log-safe name (`s3://bucket/prefix`). */
  readonly label: string;
  readonly prefix: string;
  readonly settings: Pick<S3Settings, "batchMs" | "batchBytes" | "gzip">;
  readonly put: S3Put;
  readonly clock: Clock;
  /** Texts that must never appear in a log line (the secret key, the session token). */
  readonly secrets?: readonly string[];
  /** Default {@link MAX_S3_BUFFER_BYTES}. */
  readonly maxBufferedBytes?: number;
}

/** The S3 sink; `droppedEvents` counts events lost to failed uploads or the memory bound. */
export interface S3Sink extends Sink {
  readonly droppedEvents: number;
  takeDrops(): SinkDrop[];
}

interface Upload extends SealedObject {
  attempts: number;
  notBefore: number;
}

/**
 * Creates the sink. `write` only appends to the session's open batch; `flush` seals ripe batches
 * and starts their uploads without awaiting them (an 8 MiB PUT must not hold the dispatcher's
 * 2 s export timeout), and an unref'd timer does the same when no events arrive. A failed upload
 * is retried with doubling backoff, then dropped and counted; `takeDrops` hands the losses to the
 * dispatcher, which logs and counts them with its own. `close` seals everything and resolves once
 * every object is uploaded or dropped (the dispatcher's deadline bounds the wait). Never reports a
 * credential: error texts pass through `secrets` masking.
 */
export function createS3Sink(options: S3SinkOptions): S3Sink {
  const { label, clock, settings } = options;
  const maxBuffered = options.maxBufferedBytes ?? MAX_S3_BUFFER_BYTES;
  const batches = createS3Batches({ prefix: options.prefix, ...settings });
  const waiting: Upload[] = [];
  let uploading = 0;
  const inFlight = new Set<Upload>();
  let gaveUp = false;
  let uploadingBytes = 0;
  let waitingBytes = 0;
  let dropped = 0;
  let closing = false;
  let timer: unknown;
  let timerAt = Infinity;
  let idle: (() => void) | undefined;
  let unreported: SinkDrop[] = [];
  const contentType = settings.gzip ? "application/gzip" : "application/x-ndjson";
  const hide = (text: string): string =>
    (options.secrets ?? []).filter((s) => s.length >= 4).reduce((t, s) => t.split(s).join("[redacted]"), text);

  const buffered = (): number => batches.bytes() + waitingBytes + uploadingBytes;

  function drop(count: number, kind: string, detail: string): void {
    dropped += count;
    unreported.push({ count, kind, detail });
  }

  function enqueue(object: SealedObject): void {
    waiting.push({ ...object, attempts: 0, notBefore: 0 });
    waitingBytes += object.bytes;
  }

  function pump(): void {
    const now = clock.now();
    if (closing) for (const object of batches.sealRipe(now, true)) enqueue(object);
    else for (const object of batches.sealRipe(now)) enqueue(object);
    for (let i = 0; i < waiting.length && uploading < MAX_CONCURRENT_UPLOADS; ) {
      const upload = waiting[i] as Upload;
      if (upload.notBefore > now) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      waitingBytes -= upload.bytes;
      start(upload);
    }
    schedule();
    if (idle !== undefined && uploading === 0 && waiting.length === 0 && batches.bytes() === 0) idle();
  }

  /**
   * One attempt. A PUT slower than UPLOAD_TIMEOUT_MS fails the attempt (retried like any failure),
   * but Bun's S3 client takes no signal: the request goes on, holding its body, so it keeps its slot
   * and its bytes until it really ends. Freeing them at the timeout let a hanging endpoint collect
   * four more open PUTs (and their bodies, unbounded) every 30 s.
   */
  function start(upload: Upload): void {
    uploading++;
    inFlight.add(upload);
    uploadingBytes += upload.bytes;
    upload.attempts++;
    let timedOut = false;
    const timeout = clock.setTimeout(() => {
      timedOut = true;
      finished(upload, new Error(`no answer within ${UPLOAD_TIMEOUT_MS} ms`));
    }, UPLOAD_TIMEOUT_MS);
    void attempt(upload).then(
      (error) => {
        clock.clearTimeout(timeout);
        uploading--;
        uploadingBytes -= upload.bytes;
        if (timedOut) pump();
        else finished(upload, error);
      },
      () => undefined,
    );
  }

  /** Resolves when the PUT ends: undefined on success, else its error. */
  async function attempt(upload: Upload): Promise<unknown> {
    try {
      const text = joinLines(upload.lines);
      const body = settings.gzip ? Bun.gzipSync(Buffer.from(text)) : Buffer.from(text);
      await options.put(upload.key, body, contentType);
      return undefined;
    } catch (error) {
      return error ?? new Error("upload failed");
    }
  }

  /** The attempt's outcome (its slot is released apart, once the PUT has ended): retried, dropped or done. */
  function finished(upload: Upload, error: unknown): void {
    if (gaveUp) return; // already counted as lost at the close deadline
    inFlight.delete(upload);
    if (error !== undefined) {
      if (upload.attempts >= MAX_UPLOAD_ATTEMPTS) {
        drop(
          upload.lines.length,
          "upload failed",
          `${upload.key} not uploaded after ${upload.attempts} attempts: ${hide(describeError(error))}`,
        );
      } else {
        const backoff = Math.min(FIRST_RETRY_DELAY_MS * 2 ** (upload.attempts - 1), MAX_RETRY_DELAY_MS);
        upload.notBefore = clock.now() + (closing ? CLOSING_RETRY_DELAY_MS : backoff);
        waiting.push(upload);
        waitingBytes += upload.bytes;
      }
    }
    pump();
  }

  function schedule(): void {
    const retryAt = waiting.reduce((at, u) => Math.min(at, u.notBefore), Infinity);
    const at = Math.min(batches.nextDeadline() ?? Infinity, uploading < MAX_CONCURRENT_UPLOADS ? retryAt : Infinity);
    if (at === timerAt) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    timerAt = at;
    if (at === Infinity) return;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        timerAt = Infinity;
        pump();
      },
      Math.max(0, at - clock.now()),
    );
  }

  /** At the close deadline: whatever is still waiting or uploading is lost; count it and let close resolve. */
  function giveUp(): void {
    gaveUp = true;
    const left = [...waiting, ...inFlight, ...batches.sealRipe(clock.now(), true)];
    const events = left.reduce((n, object) => n + object.lines.length, 0);
    waiting.length = 0;
    inFlight.clear();
    if (events > 0)
      drop(events, "shutdown deadline", `${left.length} object(s) not uploaded within ${CLOSE_DEADLINE_MS} ms of exit`);
    idle?.();
  }

  /** Keeps the buffer bounded: the oldest waiting objects go first, then the new line itself. */
  function makeRoom(size: number): boolean {
    while (buffered() + size > maxBuffered && waiting.length > 0) {
      const oldest = waiting.shift() as Upload;
      waitingBytes -= oldest.bytes;
      drop(
        oldest.lines.length,
        "memory bound",
        `more than ${maxBuffered} bytes buffered (uploads failing or too slow); oldest waiting object discarded`,
      );
    }
    return buffered() + size <= maxBuffered;
  }

  return {
    label,
    get droppedEvents(): number {
      return dropped;
    },
    write(event: BatonEvent, line: string): void {
      if (closing) return;
      // UTF-8 bytes, as the object will have them: BATON_S3_BATCH_BYTES bounds what is stored (CJK text is 3 per UTF-16 unit).
      const size = Buffer.byteLength(line) + 1;
      if (!makeRoom(size)) {
        drop(1, "memory bound", `more than ${maxBuffered} bytes buffered (uploads failing or too slow)`);
        return;
      }
      const sealed = batches.add(event, line, size, clock.now());
      if (sealed !== undefined) enqueue(sealed);
      if (timer === undefined) schedule(); // a new batch must be written by its deadline even if no flush comes
    },
    async flush(): Promise<void> {
      pump();
    },
    takeDrops(): SinkDrop[] {
      const taken = unreported;
      unreported = [];
      return taken;
    },
    close(): Promise<void> {
      if (closing) return Promise.resolve();
      closing = true;
      return new Promise<void>((resolve) => {
        const deadline = clock.setTimeout(giveUp, CLOSE_DEADLINE_MS);
        idle = () => {
          idle = undefined;
          clock.clearTimeout(deadline);
          if (timer !== undefined) clock.clearTimeout(timer);
          resolve();
        };
        pump();
      });
    },
  };
}
