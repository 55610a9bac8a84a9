// An upstream JSON answer over the inspection cap: relayed to the client as it arrives, unread and unchanged, keeping only its first and last bytes (memory per answer stays bounded).

import { readStreamCapped, type BodyReader, type CappedBody } from "../wire/capped-body.ts";
import { addToEdges, MAX_LINE_BYTES, type LineEdges } from "../wire/framing.ts";
import { encodeUtf8 } from "../wire/jsonrpc.ts";
import type { UpstreamAnswer } from "./upstream-client.ts";

/**
 * The answer's body, read whole only up to `cap`: a body already read (the HTTP/1.1 client's small
 * ones) or announced within the cap without a coding to undo is read as before; any other stops
 * being read at the cap (a 200 MB tool result must not be held: one such answer would take a
 * pod's memory, and every session on it, down).
 */
export async function readCapped(answer: UpstreamAnswer, cap: number = MAX_LINE_BYTES): Promise<CappedBody> {
  const body = answer.body;
  if (body === null || body instanceof Uint8Array) return { whole: await answer.bytes() };
  const length = Number(answer.header("content-length") ?? Number.NaN);
  if (length <= cap && answer.header("content-encoding") === null) return { whole: await answer.bytes() };
  return readStreamCapped(body, cap);
}

/** Reads a body the client will not get to its end without holding it (a small one was read already). */
export async function discardBody(answer: UpstreamAnswer): Promise<void> {
  const body = answer.body;
  if (!(body instanceof ReadableStream)) return;
  const reader: BodyReader = body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read());
}

/** How a long answer's relay ended: `edges` holds its size and first and last bytes as the upstream sent them. */
export type LongEnd = (outcome: "complete" | "error" | "cancelled", edges: LineEdges, error?: unknown) => void;

/**
 * The pieces read, then the rest as it arrives, each forwarded as it is; pull-driven, so a slow
 * client slows the upstream read and nothing more is held. `frame`: bytes put before and after the
 * upstream's (the proxy's own answers merged in, see {@link localAnswersFirst}); `ended` is called once.
 */
export function relayLong(
  read: Uint8Array[],
  rest: BodyReader,
  ended: LongEnd,
  frame?: LocalFrame,
): ReadableStream<Uint8Array> {
  const edges = { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };
  for (const piece of read) addToEdges(edges, piece);
  if (frame !== undefined) {
    read[0] = (read[0] as Uint8Array).subarray(frame.skip);
    read.unshift(frame.before);
  }
  let done = false;
  const finish = (outcome: "complete" | "error" | "cancelled", error?: unknown): void => {
    if (done) return;
    done = true;
    ended(outcome, edges, error);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = read.shift();
        if (next !== undefined) {
          controller.enqueue(next);
          return;
        }
        let chunk: Awaited<ReturnType<BodyReader["read"]>>;
        try {
          chunk = await rest.read();
        } catch (error) {
          finish("error", error);
          controller.error(error);
          return;
        }
        if (chunk.done) {
          if (frame !== undefined) controller.enqueue(frame.after);
          controller.close();
          finish("complete");
          return;
        }
        addToEdges(edges, chunk.value);
        controller.enqueue(chunk.value);
      },
      async cancel(reason) {
        finish("cancelled", reason);
        await rest.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

const BOM = [0xef, 0xbb, 0xbf];
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;

/** Bytes put around a long upstream answer: `skip` bytes of its first piece are dropped, `before` and `after` added. */
export interface LocalFrame {
  readonly before: Uint8Array;
  readonly skip: number;
  readonly after: Uint8Array;
}

/**
 * The proxy's own answers to a batch put before a long upstream answer (the order of a batch's
 * answers is free; after it would mean finding its end): `[` + them + `,` then the upstream's
 * answers, its byte order mark, leading whitespace and opening `[` dropped (a batch) or followed
 * by a closing `]` (one answer). The upstream's bytes are otherwise untouched. Undefined when its
 * first bytes are neither: the answers are then not merged.
 */
export function localAnswersFirst(read: readonly Uint8Array[], local: readonly unknown[]): LocalFrame | undefined {
  const first = read[0];
  if (first === undefined) return undefined;
  let at = BOM.every((byte, i) => first[i] === byte) ? BOM.length : 0;
  while (at < first.length && (first[at] === 0x20 || first[at] === 0x0a || first[at] === 0x0d || first[at] === 0x09))
    at++;
  const before = encodeUtf8(`[${local.map((answer) => JSON.stringify(answer)).join(",")},`);
  // Inside the array a byte order mark would be no JSON: dropped with the whitespace.
  if (first[at] === OPEN_OBJECT) return { before, skip: at, after: encodeUtf8("]") };
  if (first[at] !== OPEN_ARRAY) return undefined;
  return { before, skip: at + 1, after: new Uint8Array(0) };
}
