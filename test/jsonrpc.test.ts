// Unit tests for src/wire/jsonrpc.ts decoding: TextDecoder-based decodeUtf8 gives what Buffer's decoder gives, BOM and invalid bytes included.

import { describe, expect, test } from "bun:test";
import { classifyLine, decodeUtf8 } from "../src/wire/jsonrpc.ts";

const viaBuffer = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");

describe("decodeUtf8", () => {
  test.each<[string, number[]]>([
    ["a BOM is kept", [0xef, 0xbb, 0xbf, 0x7b, 0x7d]],
    ["a lone continuation byte", [0x80]],
    ["a truncated 3-byte sequence", [0xe2, 0x82]],
    ["a truncated 4-byte sequence", [0xf0, 0x9f, 0x98]],
    ["a surrogate encoded in UTF-8", [0xed, 0xa0, 0x80]],
    ["an overlong slash", [0xc0, 0xaf]],
    ["above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["an invalid byte inside ASCII", [0x41, 0xff, 0x42]],
    ["valid emoji between letters", [0x41, 0xf0, 0x9f, 0x98, 0x80, 0x42]],
  ])("%s: same text as Buffer", (_name, bytes) => {
    const input = new Uint8Array(bytes);
    expect(decodeUtf8(input)).toBe(viaBuffer(input));
  });

  test("a BOM-prefixed line stays junk (the BOM is not silently dropped)", () => {
    const line = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode(`{"jsonrpc":"2.0","id":1,"method":"ping"}`),
    ]);
    expect(classifyLine(line)).toEqual({ kind: "junk", reason: "not_json" });
  });

  test("a line of a BOM alone is not JSON, not blank; only JSON's whitespace makes a blank line", () => {
    const bom = [0xef, 0xbb, 0xbf];
    for (const bytes of [bom, [0x20, ...bom, 0x20], [0xc2, 0xa0]])
      expect(classifyLine(new Uint8Array(bytes))).toEqual({ kind: "junk", reason: "not_json" });
    for (const text of ["", " \t \r"])
      expect(classifyLine(new TextEncoder().encode(text))).toEqual({ kind: "junk", reason: "blank" });
  });

  test("random byte strings decode exactly as Buffer decodes them", () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      const input = new Uint8Array(1 + rand(12));
      for (let j = 0; j < input.length; j++) input[j] = rand(2) === 0 ? 0x80 + rand(128) : rand(256);
      expect(decodeUtf8(input)).toBe(viaBuffer(input));
    }
  });

  test("a view into a larger chunk decodes only its own bytes", () => {
    const chunk = new TextEncoder().encode(`xx{"a":"é"}yy`);
    expect(decodeUtf8(chunk.subarray(2, chunk.length - 2))).toBe(`{"a":"é"}`);
  });
});
