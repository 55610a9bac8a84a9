// Unit: the key a multi-round call waits under (round-key.ts): its text, the 256-character bound past which it is hashed, and the explicit-stack writer for values nested past JSON.stringify's reach.

import { describe, expect, test } from "bun:test";
import { roundKey } from "../src/proxy/round-key.ts";

const RawJson = JSON as unknown as { rawJSON(text: string): object };
const sha256 = (text: string) => `sha256:${new Bun.CryptoHasher("sha256").update(text, "utf16le").digest("hex")}`;

describe("round keys", () => {
  test("a short key is method, subject and the state's JSON text, NUL-separated; no state is null", () => {
    expect(roundKey("tools/call", "search", { page: 2, q: ["a", null] })).toBe(
      'tools/call\u0000search\u0000{"page":2,"q":["a",null]}',
    );
    expect(roundKey("prompts/get", "plan", undefined)).toBe("prompts/get\u0000plan\u0000null");
  });

  test("a key of 256 characters is kept as it is; one of 257 is held as its SHA-256 (of its UTF-16 text)", () => {
    const prefix = "tools/call\u0000s\u0000";
    const state = (length: number) => "x".repeat(length - prefix.length - 2); // its JSON text adds two quotes
    const at256 = roundKey("tools/call", "s", state(256));
    expect(at256).toHaveLength(256);
    expect(at256).toBe(`${prefix}"${state(256)}"`);
    const at257 = roundKey("tools/call", "s", state(257));
    expect(at257).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(at257).toBe(sha256(`${prefix}"${state(257)}"`));
    expect(roundKey("tools/call", "s", state(257))).toBe(at257);
    expect(roundKey("tools/call", "t", state(257))).not.toBe(at257);
  });

  test("two long states differing only in lone surrogates keep apart (UTF-8 would fold both to U+FFFD)", () => {
    const long = "y".repeat(300);
    expect(roundKey("tools/call", "s", `${long}\uD800`)).not.toBe(roundKey("tools/call", "s", `${long}\uDC00`));
  });

  /** Runs `work` with JSON.stringify throwing `error` for `value` itself (as it does past its depth), and as ever for anything else. */
  function refusing<T>(value: unknown, error: Error, work: () => T): T {
    const real = JSON.stringify;
    JSON.stringify = ((v: unknown, ...rest: never[]) => {
      if (v === value) throw error;
      return real(v, ...rest);
    }) as typeof JSON.stringify;
    try {
      return work();
    } finally {
      JSON.stringify = real;
    }
  }

  test("a state JSON.stringify cannot write for its depth is written by the explicit stack, to the text JSON.stringify writes", () => {
    // An object with a skipped undefined member, arrays of scalars (an undefined one is null), empty
    // containers, a raw number kept as written, escaped strings and keys, nesting both ways.
    const state = {
      gone: undefined,
      s: [1, "two", null, true, false, undefined, -2.5],
      n: RawJson.rawJSON("1.0"),
      empty: { a: [], o: {} },
      'quo"te\n': "line\nbreak \u0001",
      next: [{ deeper: [[{ x: 1 }, "y"]] }, { gone: undefined }],
    };
    const written = JSON.stringify(state);
    expect(written).toContain('"n":1.0');
    const key = refusing(state, new RangeError("Maximum call stack size exceeded."), () =>
      roundKey("tools/call", "d", state),
    );
    expect(key).toBe(`tools/call\u0000d\u0000${written}`);
  });

  test("another error of JSON.stringify is not taken for depth: it is thrown", () => {
    const state = { a: 1 };
    expect(() => refusing(state, new TypeError("not JSON"), () => roundKey("tools/call", "d", state))).toThrow(
      TypeError,
    );
  });
});
