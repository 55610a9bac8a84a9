// Differential, seeded: a byte stream cut into reads at every boundary (and at random ones) gives the same lines as a plain split on LF, and the bytes the frames forward are the stream, whatever cut-through and the line cap decide.

import { describe, expect, test } from "bun:test";
import { LINE_EDGE_BYTES, LineSplitter, type Frame } from "../src/wire/framing.ts";
import { jsonRpcLine, picker, type Pick } from "./support/jsonrpc-fuzz.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const hex = (data: Uint8Array): string => Buffer.from(data).toString("hex");

/** What a consumer of the frames sees: the bytes forwarded, and each line as inspected (whole, or its edges when over the cap). */
interface Seen {
  forwarded: string;
  lines: string[];
  tail: string;
}

function run(chunks: readonly Uint8Array[], max: number, cutThrough: () => boolean): Seen {
  const splitter = new LineSplitter(max, cutThrough);
  const frames: Frame[] = [];
  for (const chunk of chunks) splitter.push(chunk, frames);
  splitter.end(frames);
  const forwarded: Uint8Array[] = [];
  const lines: string[] = [];
  let tail = "";
  for (const frame of frames) {
    if (frame.kind === "line") {
      if (frame.streamed === true) expect(frame.size).toBe(frame.raw.length);
      else forwarded.push(frame.raw);
      if (frame.streamed === true && frame.raw.at(-1) !== 0x0a) {
        // The stream's unfinished last line, its bytes already out: handed over once more to be inspected.
        expect(hex(frame.raw)).toBe(hex(frame.body));
        tail = hex(frame.raw);
        continue;
      }
      expect(hex(frame.raw)).toBe(`${hex(frame.body)}0a`);
      lines.push(`line ${hex(frame.body)}`);
    } else {
      forwarded.push(frame.raw);
      if (frame.kind === "overflow" && frame.edges !== undefined)
        lines.push(`long ${frame.edges.size} ${hex(frame.edges.head)} ${hex(frame.edges.tail)}`);
      if (frame.kind === "tail") tail = hex(frame.raw);
    }
  }
  return { forwarded: hex(Buffer.concat(forwarded)), lines, tail };
}

/** The reference: split on LF; a line over `max` is seen by its size and edges, but only when it did not come in one read. */
function expected(stream: Uint8Array, max: number, long: (body: Uint8Array) => boolean): Seen {
  const lines: string[] = [];
  let start = 0;
  for (let nl = stream.indexOf(0x0a); nl !== -1; nl = stream.indexOf(0x0a, start)) {
    const body = stream.subarray(start, nl);
    lines.push(
      body.length > max && long(body)
        ? `long ${body.length} ${hex(body.subarray(0, LINE_EDGE_BYTES))} ${hex(body.subarray(Math.max(0, body.length - LINE_EDGE_BYTES)))}`
        : `line ${hex(body)}`,
    );
    start = nl + 1;
  }
  return { forwarded: hex(stream), lines, tail: "" };
}

/** A stream of JSON-RPC lines with blank lines, CRLF ends, multi-byte characters, a long line, maybe no final newline. */
function stream(pick: Pick): Uint8Array {
  const parts: string[] = [];
  for (let n = 1 + pick.int(5); n > 0; n--) {
    const kind = pick.int(6);
    if (kind === 0) parts.push(pick.one(["", "\r", " ", "\uFEFF"]));
    else if (kind === 1) parts.push(`{"t":"${"é😀x".repeat(pick.int(40))}"}`);
    else if (kind === 2) parts.push(`{"long":"${"y".repeat(LINE_EDGE_BYTES + pick.int(3 * LINE_EDGE_BYTES))}"}`);
    else parts.push(jsonRpcLine(pick).replaceAll("\n", " ") + (pick.chance(0.2) ? "\r" : ""));
  }
  return bytes(parts.join("\n") + (pick.chance(0.8) ? "\n" : ""));
}

/** `data` cut into reads at `cuts` (sorted offsets). */
function cutAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, data.length]) {
    if (at > from) chunks.push(data.slice(from, at));
    from = Math.max(from, at);
  }
  return chunks;
}

function agree(data: Uint8Array, chunks: Uint8Array[], max: number, pick: Pick): void {
  const decisions = pick.int(3); // 0: never cut through, 1: always, 2: at random
  const cutThrough = (): boolean => decisions === 1 || (decisions === 2 && pick.chance(0.5));
  const seen = run(chunks, max, cutThrough);
  // A line over the cap that came whole in one read is handed over whole: which ones did depends on the reads.
  const inOneRead = new Set(seen.lines.filter((line) => line.startsWith("line ")));
  const reference = expected(data, max, (body) => !inOneRead.has(`line ${hex(body)}`));
  const last = data.lastIndexOf(0x0a);
  const rest = data.subarray(last + 1);
  if (seen.tail !== "") expect(seen.tail).toBe(hex(rest)); // an unfinished line (buffered or streamed) comes out at the end
  expect({ ...seen, tail: "" }).toEqual(reference);
}

describe("LineSplitter against a plain split on LF", () => {
  test("every single cut point of short streams", () => {
    const pick = picker(99);
    for (let n = 0; n < 40; n++) {
      let data = stream(pick);
      if (data.length > 600) data = data.subarray(0, 600);
      const max = pick.one([16, 64, 1 << 20]);
      for (let at = 0; at <= data.length; at++) agree(data, cutAt(data, [at]), max, pick);
    }
  });

  test("reads cut just around each line end, the line begun in an earlier read (long lines near the cap)", () => {
    const pick = picker(101);
    for (let n = 0; n < 60; n++) {
      const data = stream(pick);
      const max = pick.one([16, LINE_EDGE_BYTES, 2 * LINE_EDGE_BYTES]);
      let lineStart = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, nl + 1)) {
        for (let d = -2; d <= 1; d++) {
          const earlier = lineStart + pick.int(Math.max(1, nl - lineStart));
          agree(data, cutAt(data, [earlier, Math.max(earlier, nl + d)]), max, pick);
        }
        lineStart = nl + 1;
      }
    }
  });

  test("random reads, including one byte at a time, with small and large caps", () => {
    const pick = picker(100);
    for (let n = 0; n < 400; n++) {
      const data = stream(pick);
      const cuts =
        pick.int(5) === 0
          ? Array.from({ length: data.length }, (_, k) => k)
          : Array.from({ length: pick.int(12) }, () => pick.int(data.length + 1)).sort((a, b) => a - b);
      agree(data, cutAt(data, cuts), pick.one([1, 16, 100, LINE_EDGE_BYTES, 3 * LINE_EDGE_BYTES, 1 << 20]), pick);
    }
  });
});
