// Differential, seeded: SSE byte streams (any line ends, even mixed in an event, a byte order mark, comments, odd fields, invalid UTF-8) cut at every boundary read as a spec-literal reading of the whole decoded stream and eventsource-parser read them; serve's splitter gives the stream's bytes back exactly.

import { describe, expect, test } from "bun:test";
import { createParser } from "eventsource-parser";
import { SseParser } from "../src/remote/sse-parser.ts";
import type { SseEvent } from "../src/wire/sse.ts";
import { SseSplitter } from "../src/wire/sse-splitter.ts";
import { picker, type Pick } from "./support/jsonrpc-fuzz.ts";

const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)];
const hex = (data: Uint8Array): string => Buffer.from(data).toString("hex");

/** One event's fields as the spec reads its lines (last id without NUL, last event, last digits-only retry, data lines joined). */
interface Block {
  id: string | undefined;
  event: string | undefined;
  retry: string | undefined;
  data: string | undefined;
}

/**
 * The HTML spec's "event stream interpretation", literally: the stream decoded as UTF-8 (a
 * leading byte order mark dropped), lines ended by CRLF, LF or CR, a blank line ending each
 * event, an unfinished last event dropped. Events with no field at all are left out (they change nothing).
 */
function specBlocks(stream: Uint8Array): Block[] {
  const text = new TextDecoder().decode(stream);
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // after the last line end: an unfinished line, never processed
  const blocks: Block[] = [];
  let block: Block = { id: undefined, event: undefined, retry: undefined, data: undefined };
  for (const line of lines) {
    if (line === "") {
      if (Object.values(block).some((v) => v !== undefined)) blocks.push(block);
      block = { id: undefined, event: undefined, retry: undefined, data: undefined };
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") block.data = block.data === undefined ? value : `${block.data}\n${value}`;
    else if (field === "id" && !value.includes("\0")) block.id = value;
    else if (field === "event") block.event = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) block.retry = value;
  }
  return blocks;
}

/** The events a client dispatches: those with data, typed "message" unless named, with the stream's last event id. */
function specDispatched(blocks: readonly Block[]): { type: string; data: string; id: string | undefined }[] {
  let lastId: string | undefined;
  const out: { type: string; data: string; id: string | undefined }[] = [];
  for (const block of blocks) {
    if (block.id !== undefined) lastId = block.id === "" ? undefined : block.id; // the empty id: none (no Last-Event-ID)
    if (block.data !== undefined) out.push({ type: block.event || "message", data: block.data, id: lastId });
  }
  return out;
}

const FIELD_LINES = [
  'data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}',
  'data:{"jsonrpc":"2.0","id":1,"result":{}}',
  "data:  two spaces",
  "data",
  "data:",
  "data: ",
  "data: é 😀 漢字",
  "data::colon",
  " data: a leading space is another field",
  "DATA: another field",
  ":",
  ": ping",
  ":comment",
  "event: message",
  "event:message",
  "event:",
  "event: other",
  "id: 42",
  "id:",
  "id",
  "id: a\0b",
  "id: é",
  "retry: 1500",
  "retry:100",
  "retry: 1x",
  "retry:",
  "retry: ١٢",
  "unknown: x",
  "x",
];

/** A stream of events as bytes: mixed line ends (a CR never directly before an LF that is meant as its own end), maybe a BOM, maybe invalid UTF-8, maybe unfinished. */
function sseStream(pick: Pick): Uint8Array {
  const out: number[] = pick.chance(0.2) ? [0xef, 0xbb, 0xbf] : [];
  const perStream = pick.chance(0.5) ? pick.one(["\n", "\r\n", "\r"]) : undefined;
  let previous = "";
  const end = (): void => {
    let ending = perStream ?? pick.one(["\n", "\r\n", "\r"]);
    if (previous === "\r" && ending === "\n") ending = "\r\n"; // "\r" then "\n" would read as one CRLF
    out.push(...utf8(ending));
    previous = ending;
  };
  for (let events = 1 + pick.int(6); events > 0; events--) {
    for (let fields = pick.int(5); fields > 0; fields--) {
      out.push(...utf8(pick.one(FIELD_LINES)));
      if (pick.chance(0.05)) out.push(pick.one([0xff, 0xc3, 0xe2, 0x80])); // invalid or cut UTF-8
      end();
    }
    end();
    if (pick.chance(0.1)) end();
  }
  if (pick.chance(0.2)) out.push(...utf8(pick.one(FIELD_LINES)));
  return new Uint8Array(out);
}

function cutAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, data.length]) {
    if (at > from) chunks.push(data.slice(from, at));
    from = Math.max(from, at);
  }
  return chunks;
}

/** serve's splitter: the events' raw bytes and the rest are the stream; each event's fields are the spec's. */
function checkSplitter(stream: Uint8Array, chunks: readonly Uint8Array[], blocks: readonly Block[]): void {
  const splitter = new SseSplitter();
  const events: SseEvent[] = [];
  for (const chunk of chunks) splitter.push(chunk, events);
  const rest = splitter.rest();
  expect(hex(Buffer.concat([...events.map((e) => e.raw), rest ?? new Uint8Array(0)]))).toBe(hex(stream));
  const read = events
    .map((e): Block => ({ id: e.id, event: e.event, retry: e.retry, data: e.data }))
    .filter((b) => Object.values(b).some((v) => v !== undefined));
  expect(read).toEqual([...blocks]);
  for (const e of events)
    if (e.dataBytes !== undefined) expect(new TextDecoder().decode(e.dataBytes)).toBe(e.data as string);
}

/** --url's parser: the events dispatched, their last event id, and the last retry advice. */
function checkParser(chunks: readonly Uint8Array[], blocks: readonly Block[]): void {
  const parser = new SseParser();
  const got: { type: string; data: string; id: string | undefined }[] = [];
  for (const chunk of chunks) for (const e of parser.push(chunk)) got.push({ type: e.event, data: e.data, id: e.id });
  parser.end();
  expect(got).toEqual(specDispatched(blocks));
  const retry = blocks.findLast((b) => b.retry !== undefined)?.retry;
  expect(parser.retryMs).toBe(retry === undefined ? undefined : Number(retry));
}

/**
 * eventsource-parser over the same chunks (decoded as a stream): the same data and types as the
 * spec reading (a check of the reading itself). It is given the stream up to its last line end
 * only, plus an LF after a final CR: it holds a CR back until a line end follows (an LF may come),
 * so a blank line ended by CR before an unfinished last line never dispatched. The spec drops the
 * unfinished line anyway.
 */
function checkReference(chunks: readonly Uint8Array[], blocks: readonly Block[]): void {
  const got: { type: string; data: string }[] = [];
  const parser = createParser({ onEvent: (e) => got.push({ type: e.event ?? "message", data: e.data }) });
  const decoder = new TextDecoder();
  const stream = Buffer.concat(chunks);
  const finished = Math.max(stream.lastIndexOf(0x0a), stream.lastIndexOf(0x0d)) + 1;
  let offset = 0;
  for (const chunk of chunks) {
    parser.feed(decoder.decode(chunk.subarray(0, Math.max(0, finished - offset)), { stream: true }));
    offset += chunk.length;
  }
  parser.feed(decoder.decode());
  if (stream[finished - 1] === 0x0d) parser.feed("\n");
  expect(got).toEqual(specDispatched(blocks).map(({ type, data }) => ({ type, data })));
}

function agree(stream: Uint8Array, chunks: Uint8Array[]): void {
  const blocks = specBlocks(stream);
  checkSplitter(stream, chunks, blocks);
  checkParser(chunks, blocks);
}

describe("SSE parsing against the spec's reading of the whole stream", () => {
  test("every single cut point (inside CRLF, inside a multi-byte character, inside the BOM)", () => {
    const pick = picker(2026);
    for (let n = 0; n < 60; n++) {
      const stream = sseStream(pick);
      for (let at = 0; at <= stream.length; at++) agree(stream, cutAt(stream, [at]));
      checkReference([stream], specBlocks(stream));
    }
  });

  test("random reads and one byte at a time", () => {
    const pick = picker(2027);
    for (let n = 0; n < 1500; n++) {
      const stream = sseStream(pick);
      const cuts = pick.chance(0.2)
        ? Array.from({ length: stream.length }, (_, k) => k)
        : Array.from({ length: pick.int(10) }, () => pick.int(stream.length + 1)).sort((a, b) => a - b);
      const chunks = cutAt(stream, cuts);
      agree(stream, chunks);
      checkReference(chunks, specBlocks(stream));
    }
  });
});
