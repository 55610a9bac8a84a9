// The S3 sink's open objects: one NDJSON batch per (tenant, session), sealed by age or size. No I/O, clock passed in.

import type { BatonEvent } from "../event-types.ts";
import { buildObjectKey } from "./s3-keys.ts";

/** A batch ready to upload: its key and its lines (each without the newline). */
export interface SealedObject {
  readonly key: string;
  readonly lines: readonly string[];
  /** Body size before gzip (UTF-8 bytes and newlines), for the size and memory bounds. */
  readonly bytes: number;
}

interface OpenBatch {
  readonly tenantId: string;
  readonly sessionId: string;
  readonly firstCapturedAt: string;
  readonly firstSequence: number;
  readonly openedAt: number;
  lastSequence: number;
  lines: string[];
  bytes: number;
}

export interface BatchSettings {
  readonly prefix: string;
  readonly batchMs: number;
  readonly batchBytes: number;
  readonly gzip: boolean;
}

/** The open batches of every session the process serves (one shared sink, many sessions in hosted mode). */
export interface S3Batches {
  /**
   * Appends a line (`size`: its UTF-8 bytes and newline) to its session's batch; returns the batch
   * sealed first when this line would overflow it.
   */
  add(event: BatonEvent, line: string, size: number, now: number): SealedObject | undefined;
  /** Seals every batch at least `batchMs` old (or all of them). */
  sealRipe(now: number, all?: boolean): SealedObject[];
  /** When the oldest open batch becomes ripe, or undefined when none is open. */
  nextDeadline(): number | undefined;
  /** Approximate bytes held by open batches. */
  bytes(): number;
}

export function createS3Batches(settings: BatchSettings): S3Batches {
  const open = new Map<string, OpenBatch>(); // insertion order = opening order, so the first is the oldest
  let total = 0;

  const seal = (id: string, batch: OpenBatch): SealedObject => {
    open.delete(id);
    total -= batch.bytes;
    const key = buildObjectKey({
      prefix: settings.prefix,
      tenantId: batch.tenantId,
      sessionId: batch.sessionId,
      firstCapturedAt: batch.firstCapturedAt,
      firstSequence: batch.firstSequence,
      lastSequence: batch.lastSequence,
      gzip: settings.gzip,
    });
    return { key, lines: batch.lines, bytes: batch.bytes };
  };

  return {
    add(event, line, size, now) {
      const id = `${event.tenant_id}\n${event.session_id}`;
      let sealed: SealedObject | undefined;
      let batch = open.get(id);
      if (batch !== undefined && batch.bytes + size > settings.batchBytes) {
        sealed = seal(id, batch);
        batch = undefined;
      }
      if (batch === undefined) {
        batch = {
          tenantId: event.tenant_id,
          sessionId: event.session_id,
          firstCapturedAt: event.captured_at,
          firstSequence: event.sequence_number,
          openedAt: now,
          lastSequence: event.sequence_number,
          lines: [],
          bytes: 0,
        };
        open.set(id, batch);
      }
      batch.lines.push(line);
      batch.bytes += size;
      batch.lastSequence = Math.max(batch.lastSequence, event.sequence_number);
      total += size;
      return sealed;
    },
    sealRipe(now, all = false) {
      const ripe: SealedObject[] = [];
      for (const [id, batch] of open) {
        if (!all && now - batch.openedAt < settings.batchMs) break; // later ones opened later
        ripe.push(seal(id, batch));
      }
      return ripe;
    },
    nextDeadline() {
      const oldest = open.values().next().value as OpenBatch | undefined;
      return oldest === undefined ? undefined : oldest.openedAt + settings.batchMs;
    },
    bytes: () => total,
  };
}
