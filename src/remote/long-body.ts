// `--url`: a JSON answer over the inspection cap becomes its stdout line in pieces as it arrives, never held whole; only its first and last bytes are kept.

import type { BodyReader } from "../wire/capped-body.ts";
import { concatBytes } from "../wire/bytes.ts";
import { addToEdges } from "../wire/framing.ts";
import { BOM_BYTES, startsWithBom, withoutBom } from "../wire/utf8.ts";
import { bodyToLine } from "./http-wire.ts";
import type { ResponseReader } from "./response-reader.ts";
import type { UpstreamSink } from "./upstream-types.ts";

const NEWLINE = new Uint8Array([0x0a]);

/**
 * Writes the pieces read and the rest of the body as one line, as bodyToLine would make it
 * (leading whitespace and a byte order mark dropped, line ends inside it made spaces), through the
 * sink's long-line writer (backpressure: a slow client slows the read). Its request is then known
 * answered from the line's edges; the stdio side closes its call from the same edges (framing.ts).
 * A body that breaks still ends its line, so the next message starts on a line of its own; `broke`
 * (when given) is told first: the stdio side closes a call from its line's end, and a cut line's
 * first bytes would record a failed call as a success.
 */
export async function passLongBody(
  sink: UpstreamSink,
  reader: ResponseReader,
  read: Uint8Array[],
  rest: BodyReader,
  broke?: (error: unknown) => void,
): Promise<void> {
  if (sink.longLine === undefined) {
    // A sink that cannot take a line in pieces gets it whole (in-process uses only).
    for (let next = await rest.read(); !next.done; next = await rest.read()) read.push(next.value);
    return reader.line(bodyToLine(withoutBom(concatBytes(read))));
  }
  const writer = await sink.longLine();
  const edges = { size: 0, head: new Uint8Array(0), tail: new Uint8Array(0) };
  let started = false;
  const put = async (piece: Uint8Array): Promise<void> => {
    let from = 0;
    if (!started) {
      if (startsWithBom(piece)) from = BOM_BYTES;
      while (from < piece.length && isSpace(piece[from] as number)) from++;
      if (from === piece.length) return;
      started = true;
    }
    const line = asLinePiece(piece.subarray(from));
    addToEdges(edges, line);
    await writer.write(line);
  };
  try {
    for (let piece = read.shift(); piece !== undefined; piece = read.shift()) await put(piece);
    for (let next = await rest.read(); !next.done; next = await rest.read()) await put(next.value);
  } catch (error) {
    if (broke === undefined) throw error;
    broke(error);
    return;
  } finally {
    if (started) await writer.write(NEWLINE);
    writer.end();
  }
  reader.longLine(edges);
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** The piece with its line ends made spaces (a copy only when it has any): JSON allows whitespace there, a line does not. */
function asLinePiece(piece: Uint8Array): Uint8Array {
  if (piece.indexOf(0x0a) === -1 && piece.indexOf(0x0d) === -1) return piece;
  const copy = piece.slice();
  for (let i = 0; i < copy.length; i++) if (copy[i] === 0x0a || copy[i] === 0x0d) copy[i] = 0x20;
  return copy;
}
