import { describe, expect, test } from "bun:test";
import { LineSplitter, type Frame } from "../src/wire/framing.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function feed(chunks: Uint8Array[], max?: number): Frame[] {
  const splitter = new LineSplitter(max);
  const out: Frame[] = [];
  for (const chunk of chunks) splitter.push(chunk, out);
  splitter.end(out);
  return out;
}

/** Splits bytes into pieces of `size` (1 = every byte on its own read). */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

describe("LineSplitter", () => {
  test.each([
    ["one line", ["a\n"], ["a"]],
    ["two lines in one chunk", ["a\nb\n"], ["a", "b"]],
    ["line split across chunks", ["ab", "c\nd", "e\n"], ["abc", "de"]],
    ["empty line", ["\n"], [""]],
    ["CRLF kept in the body", ["x\r\n"], ["x\r"]],
    ["newline alone in a chunk", ["abc", "\n"], ["abc"]],
  ])("%s", (_name, chunks, expected) => {
    const frames = feed(chunks.map(enc));
    expect(frames.every((f) => f.kind === "line")).toBe(true);
    expect(frames.map((f) => (f.kind === "line" ? dec(f.body) : ""))).toEqual(expected);
    expect(frames.map((f) => dec(f.raw)).join("")).toBe(chunks.join(""));
  });

  test("multi-byte UTF-8 split at every byte boundary is reassembled intact", () => {
    const text = '{"t":"héllo — 世界 🎉"}\n';
    const frames = feed(pieces(enc(text), 1));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.kind === "line" && dec(frames[0].body)).toBe(text.slice(0, -1));
  });

  test("a line that fits in one chunk is a view into it, not a copy", () => {
    const chunk = enc("abc\n");
    const [frame] = feed([chunk]);
    expect(frame?.kind === "line" && frame.raw.buffer).toBe(chunk.buffer);
  });

  test("a 16 MiB line in 64 KiB reads comes out whole", () => {
    const body = "x".repeat(16 * 1024 * 1024);
    const frames = feed(pieces(enc(`${body}\nnext\n`), 64 * 1024));
    expect(frames.map((f) => f.kind)).toEqual(["line", "line"]);
    expect(frames[0]?.kind === "line" && frames[0].body.length).toBe(body.length);
  });

  test("a line over the cap streams through as overflow pieces, byte-exact, then framing resumes", () => {
    const long = "y".repeat(100);
    const input = `${long}\nok\n`;
    const frames = feed(pieces(enc(input), 7), 32);
    const overflow = frames.filter((f) => f.kind === "overflow");
    expect(overflow.length).toBeGreaterThan(1);
    expect(overflow.at(-1)?.kind === "overflow" && overflow.at(-1)?.kind === "overflow" && (overflow.at(-1) as { last: boolean }).last).toBe(true);
    expect(frames.map((f) => dec(f.raw)).join("")).toBe(input);
    const last = frames.at(-1);
    expect(last?.kind === "line" && dec(last.body)).toBe("ok");
  });

  test("bytes without a final newline come out as a tail at the end", () => {
    const frames = feed([enc("a\npartial")]);
    expect(frames.map((f) => f.kind)).toEqual(["line", "tail"]);
    expect(dec(frames[1]!.raw)).toBe("partial");
  });
});
