import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  byCodePoint,
  canonicalHash,
  canonicalJson,
  holdsChangedNumbers,
  nestsDeeperThan,
  parseEventValue,
  parseKeepingNumbers,
  pythonNumber,
} from "../src/proxy/canonical-json.ts";
import { seededRandom } from "./support/seeded-random.ts";

// Expected texts were produced by CPython 3.11: json.dumps(json.loads(text), sort_keys=True, separators=(",",":"), ensure_ascii=True).
describe("numbers as Python re-prints them", () => {
  test.each([
    ["1.0", "1.0"],
    ["1e5", "100000.0"],
    ["1E+2", "100.0"],
    ["-0", "0"],
    ["-0.0", "-0.0"],
    ["0.0", "0.0"],
    ["1e400", "Infinity"],
    ["-1e400", "-Infinity"],
    ["0.0001", "0.0001"],
    ["0.00001", "1e-05"],
    ["1e16", "1e+16"],
    ["1e15", "1000000000000000.0"],
    ["123456789012345678901234567890", "123456789012345678901234567890"],
    ["1.5e300", "1.5e+300"],
    ["2.5e-7", "2.5e-07"],
    ["0.1", "0.1"],
    ["123.456", "123.456"],
    ["1e400", "Infinity"],
    ["9007199254740993.0", "9007199254740992.0"],
    ["5e-324", "5e-324"],
    ["1.7976931348623157e308", "1.7976931348623157e+308"],
    ["100", "100"],
    ["-12.50", "-12.5"],
    ["1e+21", "1e+21"],
    ["1.5e+300", "1.5e+300"],
    ["-2e+25", "-2e+25"],
  ])("%s -> %s", (lexeme, python) => {
    expect(pythonNumber(lexeme)).toBe(python);
    expect(canonicalJson(parseKeepingNumbers(`[${lexeme}]`))).toBe(`[${python}]`);
  });
});

describe("canonical text", () => {
  test.each([
    [
      "keys by code point, astral after U+FFFF, DEL and controls escaped",
      '{"😀":1,"\\uffff":2,"a\\u007f\\u001f":"é😀\\ud800"}',
      '{"a\\u007f\\u001f":"\\u00e9\\ud83d\\ude00\\ud800","\\uffff":2,"\\ud83d\\ude00":1}',
    ],
    [
      "short escapes and nesting",
      '{"b":[true,false,null,"q\\"\\\\\\n\\t"],"a":{}}',
      '{"a":{},"b":[true,false,null,"q\\"\\\\\\n\\t"]}',
    ],
    ["duplicate keys: the last wins (as json.loads)", '{"a":1,"a":2}', '{"a":2}'],
  ])("%s", (_name, text, expected) => {
    expect(canonicalJson(parseKeepingNumbers(text))).toBe(expected);
  });

  test("keys sort by code point: plain ones as strings compare, astral ones after U+FFFF, a prefix first", () => {
    const order = (a: string, b: string) => Math.sign(byCodePoint(a, b));
    expect([order("a", "b"), order("b", "a"), order("a", "a"), order("B", "a")]).toEqual([-1, 1, 0, -1]);
    expect([order("ab", "abc"), order("abc", "ab")]).toEqual([-1, 1]);
    expect([order("\u{1F600}", "\uFFFF"), order("\uFFFF", "\u{1F600}"), order("\u{1F600}", "\u{1F600}")]).toEqual([
      1, -1, 0,
    ]);
    expect([order("\u{1F600}a", "\u{1F600}"), order("\u{1F600}", "\u{1F600}a")]).toEqual([1, -1]);
    expect(canonicalJson({ b: 1, c: 3, a: 2, B: 0, ab: 4 })).toBe('{"B":0,"a":2,"ab":4,"b":1,"c":3}');
  });

  test("every short escape Python writes, and \\u00XX for the other controls and DEL", () => {
    expect(canonicalJson('q"\\\n\r\t\b\f\u0001\u007f~')).toBe('"q\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f~"');
  });

  test("plain numbers: integers exact (negative ones too), -0 and fractions as Python floats, a bigint as its digits", () => {
    expect(canonicalJson({ a: -1, b: 0, c: -2.5, d: 1e21 })).toBe('{"a":-1,"b":0,"c":-2.5,"d":1000000000000000000000}');
    expect(canonicalJson(-0)).toBe("-0.0");
    expect(canonicalJson(12345678901234567890n)).toBe("12345678901234567890");
  });

  test("raw numbers survive JSON.stringify as written (the stored surface keeps 1.0)", () => {
    expect(JSON.stringify(parseKeepingNumbers('{"minimum":1.0,"big":12345678901234567890}'))).toBe(
      '{"minimum":1.0,"big":12345678901234567890}',
    );
  });
});

describe("event values keep the numbers JSON.parse would change", () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
  test.each([
    ['{"a":1,"b":-2,"c":123456789012345}', false],
    ['{"a":0.5,"b":-1.25,"c":1e+21,"d":1e-7}', false], // JavaScript writes them the same
    ['{"a":1000000000000000}', false], // 16 digits, exact
    ['{"s":"1.0 -0 12345678901234567890 1E2","t":"\\\\"}', false], // digits inside strings do not count
    ['{"s":"a \\"1.0\\" b","n":3}', false],
    ['{"a":1.0}', true],
    ['{"a":1E2}', true],
    ['{"a":-0}', true],
    ['{"a":[1,2,12345678901234567890]}', true],
    ['{"s":"x\\"","a":9007199254740993}', true],
    [`{"a":0.${"0".repeat(40)}1}`, true],
  ] as const)("%s: %p", (text, expected) => {
    expect(holdsChangedNumbers(bytes(text))).toBe(expected);
    const value = parseEventValue(bytes(text));
    expect(JSON.stringify(value)).toBe(expected ? text : JSON.stringify(JSON.parse(text)));
  });
});

describe("golden surface hashes (UPSTREAM-LATER §3.2)", () => {
  test("the baton-spec vector recomputes to its own surface_hash", () => {
    const text = readFileSync(
      join(import.meta.dir, "fixtures", "baton-spec", "vectors", "surface_snapshot.json"),
      "utf8",
    );
    const event = parseKeepingNumbers(text) as { payload: Record<string, unknown> };
    const { server_info, capabilities, instructions, tools, surface_hash } = event.payload;
    expect(surface_hash).toBe("sha256:200119366150cf2068e74c8be5fadba60db56bf969771b667c598848b6b6b67d");
    expect(canonicalHash({ server_info, capabilities, instructions, tools })).toBe(surface_hash as string);
  });

  test("the non-ASCII / float vector: canonical text and hash", () => {
    const text =
      '{"server_info":{"name":"café","version":"1"},"capabilities":null,"instructions":null,"tools":[{"name":"t","description":"résumé 😀","inputSchema":{"type":"object","properties":{"n":{"type":"number","minimum":1.0}}}}]}';
    const surface = parseKeepingNumbers(text);
    expect(canonicalJson(surface)).toBe(
      '{"capabilities":null,"instructions":null,"server_info":{"name":"caf\\u00e9","version":"1"},"tools":[{"description":"r\\u00e9sum\\u00e9 \\ud83d\\ude00","inputSchema":{"properties":{"n":{"minimum":1.0,"type":"number"}},"type":"object"},"name":"t"}]}',
    );
    expect(canonicalHash(surface)).toBe("sha256:75cc3c741df7eb2f7014af12c51f04d7d107ace8a2718124f70078bac06dd032");
    // JSON.parse loses the float: the hash must come from the text.
    expect(canonicalHash(JSON.parse(text))).not.toBe(
      "sha256:75cc3c741df7eb2f7014af12c51f04d7d107ace8a2718124f70078bac06dd032",
    );
  });
});

describe("parseKeepingNumbers without its reviver", () => {
  /** The reviver's result, always: what parseKeepingNumbers must equal whichever way it parses. */
  const withReviver = (text: string): unknown =>
    JSON.parse(text, (_key, value, context?: { source?: string }) =>
      typeof value === "number" &&
      typeof context?.source === "string" &&
      (String(value) !== context.source || (Number.isInteger(value) && /[.eE]/.test(context.source)))
        ? (JSON as unknown as { rawJSON(text: string): object }).rawJSON(context.source)
        : value,
    );

  test("text whose numbers are all short integers is parsed without a reviver (a 10 000-tool list: ~40% of the proxy's CPU for it)", () => {
    // JavaScriptCore's reviver walk cost ten times the parse on a 2 MB tools/list answer (1.3 → 0.75 s of CPU per listing).
    const parse = JSON.parse;
    const revived: string[] = [];
    JSON.parse = ((text: string, reviver?: unknown) => {
      if (reviver !== undefined) revived.push(text);
      return (parse as (t: string, r?: unknown) => unknown)(text, reviver);
    }) as typeof JSON.parse;
    try {
      parseKeepingNumbers('{"tools":[{"name":"a1.0","inputSchema":{"maxItems":10,"min":-3,"x":"1e5 \\" 2.5"}}],"n":0}');
      expect(revived).toEqual([]);
      parseKeepingNumbers('{"minimum":0.5}');
      expect(revived).toEqual(['{"minimum":0.5}']);
    } finally {
      JSON.parse = parse;
    }
  });

  test("seeded texts with every kind of number, in and out of strings: the same tree and canonical text as the reviver's", () => {
    const random = seededRandom(15);
    const lexemes = [
      "0",
      "-0",
      "7",
      "-12",
      "123456789012345",
      "-12345678901234",
      "1234567890123456",
      "-123456789012345",
      "9007199254740993",
      "1.0",
      "0.5",
      "-0.0",
      "1e5",
      "1E+2",
      "2e-3",
      "1e+21",
      "100",
      "-1",
    ];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const value = (depth: number): string => {
      const roll = random();
      if (depth > 3 || roll < 0.4) return pick(lexemes);
      if (roll < 0.55) return JSON.stringify(`${pick(lexemes)}\\"${pick(lexemes)}`);
      if (roll < 0.65) return pick(["true", "false", "null"]);
      if (roll < 0.8) return `[${Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1)).join(", ")}]`;
      return `{${Array.from({ length: Math.floor(random() * 4) }, (_, i) => `"k${i}-${pick(lexemes)}": ${value(depth + 1)}`).join(",")}}`;
    };
    for (let i = 0; i < 2000; i++) {
      const text = value(0);
      const ours = parseKeepingNumbers(text);
      const theirs = withReviver(text);
      expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
      expect(canonicalJson(ours)).toBe(canonicalJson(theirs));
    }
  });
});

describe("byte scans before a parse", () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  test("holdsChangedNumbers reads each number whole and skips strings after a number", () => {
    expect(holdsChangedNumbers(bytes("[1.05]"))).toBe(false); // its tail `05` is no number of its own
    expect(holdsChangedNumbers(bytes(`[1,"2.0"]`))).toBe(false); // the string right after a number
    expect(holdsChangedNumbers(bytes(`[1,2.0]`))).toBe(true);
  });

  test("nestsDeeperThan counts arrays and objects, not brackets inside strings, and closes levels", () => {
    expect(nestsDeeperThan(bytes(`[{"a":[1]}]`), 3)).toBe(false);
    expect(nestsDeeperThan(bytes(`[{"a":[1]}]`), 2)).toBe(true);
    expect(nestsDeeperThan(bytes(`{"a":{}}`), 1)).toBe(true);
    expect(nestsDeeperThan(bytes(`["[[[{{{"]`), 1)).toBe(false);
    expect(nestsDeeperThan(bytes(`[[],[],[]]`), 2)).toBe(false);
    expect(nestsDeeperThan(bytes(`[{},{},{}]`), 2)).toBe(false);
  });
});
