// Reads a request body with a byte limit and a deadline; an oversized body is drained (bounded) so the client can still read our 413.

import { concatBytes } from "../wire/bytes.ts";

/** How much of an oversized body we read and discard so the client gets to read the 413 instead of a reset. */
export const OVERSIZE_DRAIN_FACTOR = 4;

export type BodyResult =
  | { readonly kind: "ok"; readonly bytes: Uint8Array }
  | { readonly kind: "too_large"; readonly drained: boolean }
  | { readonly kind: "too_slow" };

/**
 * Returns the whole body when it fits in `maxBytes` and arrives within `deadlineMs`. Otherwise
 * reads on (discarding) up to `maxBytes × OVERSIZE_DRAIN_FACTOR` so an uploading client is not
 * cut off before our answer; `drained: false` means the rest was left unread and the connection
 * should close. `too_slow`: the deadline passed first (a client dripping bytes keeps resetting
 * the idle timeout, never this); the rest is unread and the connection should close.
 */
export async function readBoundedBody(request: Request, maxBytes: number, deadlineMs: number): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  const drainLimit = maxBytes * OVERSIZE_DRAIN_FACTOR;
  if (Number.isFinite(declared) && declared > drainLimit) return { kind: "too_large", drained: false };
  if (request.body === null) return { kind: "ok", bytes: new Uint8Array(0) };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"too_slow">((resolve) => {
    timer = setTimeout(() => resolve("too_slow"), deadlineMs);
  });
  try {
    // A declared length within bounds: read it whole (the server already holds Content-Length to it); far cheaper than a stream reader.
    if (Number.isFinite(declared) && declared <= maxBytes) {
      const whole = request.bytes();
      const first = await Promise.race([whole, expired]);
      if (first !== "too_slow") return { kind: "ok", bytes: first };
      // The closing connection ends the read; its failure is expected.
      whole.catch(() => undefined);
      return { kind: "too_slow" };
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    const reader = request.body.getReader();
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === "too_slow") {
        await reader.cancel().catch(() => undefined);
        return { kind: "too_slow" };
      }
      const { value, done } = next;
      if (done) break;
      total += value.length;
      if (total > drainLimit) {
        await reader.cancel().catch(() => undefined);
        return { kind: "too_large", drained: false };
      }
      if (total <= maxBytes) parts.push(value);
    }
    if (total > maxBytes) return { kind: "too_large", drained: true };
    return { kind: "ok", bytes: concatBytes(parts) };
  } finally {
    clearTimeout(timer);
  }
}
