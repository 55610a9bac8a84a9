// Reads a body stream whole only up to a cap: past it, the caller relays the rest as it arrives (serve's and --url's answers over the inspection cap).

import { concatBytes } from "./bytes.ts";

/** The reader of a body's stream, as a relay uses it. */
export interface BodyReader {
  read(): Promise<{ done: true; value?: Uint8Array } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

/** A body read up to the cap: `whole` when it ended within it; else the pieces read so far and the reader of the rest. */
export type CappedBody =
  | { readonly whole: Uint8Array }
  | { readonly whole?: undefined; readonly read: Uint8Array[]; readonly rest: BodyReader };

/** Reads `body` until it ends or more than `cap` bytes have come (a failed read rejects, as reading it whole would). */
export async function readStreamCapped(body: ReadableStream<Uint8Array>, cap: number): Promise<CappedBody> {
  const rest: BodyReader = body.getReader();
  const read: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await rest.read();
    if (done) return { whole: read.length === 0 ? new Uint8Array(0) : concatBytes(read) };
    read.push(value);
    size += value.length;
    if (size > cap) return { read, rest };
  }
}
