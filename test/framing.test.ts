import { describe, expect, test } from "bun:test";
import { LineSplitter, MAX_BATCH_MEMBERS, MAX_LINE_BYTES, type Frame } from "../src/wire/framing.ts";

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

  test("a 4 MiB line in 64 KiB reads comes out whole, for inspection", () => {
    const body = "x".repeat(4 * 1024 * 1024);
    const frames = feed(pieces(enc(`${body}\nnext\n`), 64 * 1024));
    expect(frames.map((f) => f.kind)).toEqual(["line", "line"]);
    expect(frames[0]?.kind === "line" && frames[0].body.length).toBe(body.length);
  });

  test("a 16 MiB line (over the inspection cap) passes intact in pieces, with its edges", () => {
    const body = "x".repeat(16 * 1024 * 1024);
    const frames = feed(pieces(enc(`${body}\nnext\n`), 64 * 1024));
    expect(frames.filter((f) => f.kind === "overflow").reduce((n, f) => n + f.raw.length, 0)).toBe(body.length + 1);
    const last = frames.filter((f) => f.kind === "overflow").at(-1);
    expect(last?.kind === "overflow" && last.edges?.size).toBe(body.length);
    expect(frames.at(-1)?.kind).toBe("line");
  });

  test("a line over the cap streams through as overflow pieces, byte-exact, then framing resumes", () => {
    const long = "y".repeat(100);
    const input = `${long}\nok\n`;
    const frames = feed(pieces(enc(input), 7), 32);
    const overflow = frames.filter((f) => f.kind === "overflow");
    expect(overflow.length).toBeGreaterThan(1);
    const last = overflow.at(-1);
    expect(last?.kind === "overflow" && last.edges).toEqual({
      size: 100,
      head: enc("y".repeat(100)),
      tail: enc("y".repeat(100)),
    });
    expect(frames.map((f) => dec(f.raw)).join("")).toBe(input);
    const final = frames.at(-1);
    expect(final?.kind === "line" && dec(final.body)).toBe("ok");
  });

  test("the default cap is the README's 8 MiB inspection cap", () => {
    expect(MAX_LINE_BYTES).toBe(8 * 1024 * 1024);
  });

  test("a line goes long as soon as its kept bytes pass the cap, before its newline arrives (memory stays bounded)", () => {
    const splitter = new LineSplitter(32);
    const out: Frame[] = [];
    splitter.push(enc("y".repeat(20)), out);
    expect(out).toEqual([]);
    splitter.push(enc("y".repeat(20)), out);
    expect(out.map((f) => [f.kind, f.raw.length])).toEqual([["overflow", 40]]);
    splitter.push(enc("y".repeat(20)), out);
    expect(out.map((f) => [f.kind, f.raw.length])).toEqual([
      ["overflow", 40],
      ["overflow", 20],
    ]);
  });

  test("a line whose kept bytes and last piece together pass the cap is long, though each alone fits", () => {
    const frames = feed([enc("y".repeat(20)), enc(`${"z".repeat(20)}\nok\n`)], 32);
    expect(frames.map((f) => f.kind)).toEqual(["overflow", "overflow", "line"]);
    const last = frames[1];
    expect(last?.kind === "overflow" && last.edges?.size).toBe(40);
    expect(frames.map((f) => dec(f.raw)).join("")).toBe(`${"y".repeat(20)}${"z".repeat(20)}\nok\n`);
  });

  test("bytes without a final newline come out as a tail at the end", () => {
    const frames = feed([enc("a\npartial")]);
    expect(frames.map((f) => f.kind)).toEqual(["line", "tail"]);
    expect(dec(frames[1]!.raw)).toBe("partial");
  });
});

describe("LineSplitter with cut-through", () => {
  const cutThrough = (chunks: Uint8Array[], max?: number) => {
    const splitter = new LineSplitter(max, () => true);
    const out: Frame[] = [];
    for (const chunk of chunks) splitter.push(chunk, out);
    splitter.end(out);
    return out;
  };

  test("a line spread over chunks goes out piece by piece, then comes whole for inspection", () => {
    const frames = cutThrough([enc('{"a":'), enc('1}\n{"b":2}\n')]);
    expect(frames.map((f) => f.kind)).toEqual(["partial", "partial", "line", "line"]);
    const forwarded = frames
      .filter((f) => f.kind === "partial" || (f.kind === "line" && !f.streamed))
      .map((f) => dec(f.raw))
      .join("");
    expect(forwarded).toBe('{"a":1}\n{"b":2}\n');
    expect(frames[2]?.kind === "line" && frames[2].streamed && dec(frames[2].body)).toBe('{"a":1}');
  });

  test("a streamed line is joined when first read, not when its last piece goes out: size without the join, the same bytes on every read", () => {
    const first = enc('{"a":"');
    const last = enc('xyz"}\n');
    const frames = cutThrough([first, last]);
    expect(frames.map((f) => f.kind)).toEqual(["partial", "partial", "line"]);
    const line = frames[2];
    if (line?.kind !== "line" || line.streamed !== true) throw new Error("no streamed line");
    expect(line.size).toBe(first.length + last.length);
    // Still the pieces, not a copy: bytes changed in a piece before the first read show in the line.
    first[2] = "b".charCodeAt(0);
    expect(dec(line.raw)).toBe('{"b":"xyz"}\n');
    expect(line.raw).toBe(line.raw); // joined once
    expect(dec(line.body)).toBe('{"b":"xyz"}');
    first[2] = "c".charCodeAt(0); // after the join the line is its own copy
    expect(dec(line.body)).toBe('{"b":"xyz"}');
  });

  test("a last line without its newline, already streamed out, comes once more at the end for inspection", () => {
    const frames = cutThrough([enc('{"id":1,'), enc('"result":{}}')]);
    expect(frames.map((f) => f.kind)).toEqual(["partial", "partial", "line"]);
    const last = frames[2];
    if (last?.kind !== "line" || last.streamed !== true) throw new Error("no streamed line");
    expect([dec(last.raw), dec(last.body), last.size]).toEqual(['{"id":1,"result":{}}', '{"id":1,"result":{}}', 20]);
  });

  test("lines that fit in one chunk are never cut through", () => {
    expect(cutThrough([enc("a\nb\n")]).map((f) => f.kind)).toEqual(["line", "line"]);
  });

  test("over the cap: bytes keep flowing, inspection is skipped, an empty overflow frame says so", () => {
    const input = `${"z".repeat(50)}\nok\n`;
    const frames = cutThrough(pieces(enc(input), 8), 20);
    const forwarded = frames
      .filter((f) => f.kind === "partial" || f.kind === "overflow" || (f.kind === "line" && !f.streamed))
      .map((f) => dec(f.raw))
      .join("");
    expect(forwarded).toBe(input);
    expect(frames.filter((f) => f.kind === "overflow").map((f) => f.kind === "overflow" && f.edges?.size)).toEqual([
      undefined,
      50,
    ]);
    expect(frames.filter((f) => f.kind === "line").map((f) => f.kind === "line" && dec(f.body))).toEqual(["ok"]);
  });

  test("the decision is taken per line: a refusal leaves the line buffered", () => {
    let allow = false;
    const splitter = new LineSplitter(undefined, () => allow);
    const out: Frame[] = [];
    splitter.push(enc("ab"), out);
    allow = true;
    splitter.push(enc("c\nde"), out);
    splitter.push(enc("f\n"), out);
    expect(out.map((f) => f.kind)).toEqual(["line", "partial", "partial", "line"]);
    expect(out[0]?.kind === "line" && out[0].streamed).toBeUndefined();
  });
});

describe("edges of long lines", () => {
  test("head and tail keep the first and last bytes, newline excluded, whatever the chunking", () => {
    const body = `{"jsonrpc":"2.0","id":7,"result":{"text":"${"q".repeat(20_000)}"}}`;
    for (const size of [1000, 4096, 7000]) {
      const frames = feed(pieces(enc(`${body}\n`), size), 10_000);
      const last = frames.at(-1);
      if (last?.kind !== "overflow" || !last.edges) throw new Error("no edges");
      expect(last.edges.size).toBe(body.length);
      expect(dec(last.edges.head)).toBe(body.slice(0, 4096));
      expect(dec(last.edges.tail)).toBe(body.slice(-4096));
      expect(frames.map((f) => dec(f.raw)).join("")).toBe(`${body}\n`);
    }
  });
});

describe("members of long batch lines", () => {
  test("each object of a batch over the cap gets its own edges, whatever the chunking; braces and quotes in strings do not count", () => {
    const members = [
      `{"jsonrpc":"2.0","id":1,"result":{"text":"a } ] \\" { ["}}`,
      `{"jsonrpc":"2.0","id":"two","result":{"content":[{"text":"${"q".repeat(20_000)}"}]}}`,
      `{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"x"}}`,
    ];
    const body = ` [${members.join(" , ")}] `;
    for (const size of [1, 977, 4096, 7000]) {
      const frames = feed(pieces(enc(`${body}\n`), size), 10_000);
      const last = frames.at(-1);
      if (last?.kind !== "overflow" || !last.edges) throw new Error("no edges");
      expect(last.edges.members?.map((m) => [m.size, dec(m.head), dec(m.tail)])).toEqual(
        members.map((m) => [m.length, m.slice(0, 4096), m.slice(-4096)]),
      );
    }
  });

  test("a batch after any JSON whitespace (tab, CR) is still a batch; an empty first string closes at its quote", () => {
    const members = [`{"":"} {","id":1,"result":{}}`, `{"id":2,"result":{"text":"${"q".repeat(5_000)}"}}`];
    for (const lead of ["\t", "\r", " \t\r "]) {
      const frames = feed(pieces(enc(`${lead}[${members.join(",")}]\n`), 999), 1000);
      const last = frames.at(-1);
      if (last?.kind !== "overflow" || !last.edges) throw new Error("no edges");
      expect(last.edges.members?.map((m) => dec(m.head))).toEqual(members.map((m) => m.slice(0, 4096)));
    }
  });

  test("a long batch keeps the edges of its first 1 024 objects only, as the README says (memory stays bounded)", () => {
    expect(MAX_BATCH_MEMBERS).toBe(1024);
    const members = Array.from({ length: MAX_BATCH_MEMBERS + 5 }, (_, n) => `{"id":${n}}`);
    const frames = feed(pieces(enc(`[${members.join(",")}]\n`), 1000), 1000);
    const last = frames.at(-1);
    if (last?.kind !== "overflow" || !last.edges) throw new Error("no edges");
    expect(last.edges.members?.length).toBe(MAX_BATCH_MEMBERS);
    expect(last.edges.members?.map((m) => dec(m.head))).toEqual(members.slice(0, MAX_BATCH_MEMBERS));
  });

  test("a long line that is no batch has no members", () => {
    const frames = feed(pieces(enc(`{"id":1,"result":"${"q".repeat(20_000)}"}\n`), 1000), 10_000);
    const last = frames.at(-1);
    expect(last?.kind === "overflow" && last.edges !== undefined && last.edges.members === undefined).toBe(true);
  });
});
