// Unit tests for src/wrap/jsonc.ts: JSON equivalence, JSONC extensions, ranges, and precise errors.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { findProperty, JsoncSyntaxError, MAX_NESTING_DEPTH, parseJsonc, toPlainValue } from "../src/wrap/jsonc.ts";

const FIXTURES = join(import.meta.dir, "fixtures", "wrap");

describe("parseJsonc on plain JSON", () => {
  const samples = [
    "{}",
    "[]",
    '"x"',
    "0",
    "-1.5e+3",
    "true",
    "null",
    '{"a": [1, 2, {"b": null}], "c": "d\\u00e9\\n"}',
    '  {\n\t"k" : false }\r\n',
    '{"__proto__": {"polluted": true}}',
    '{"a": 1, "a": 2}',
  ];
  test.each(samples)("%p parses like JSON.parse", (text) => {
    expect(toPlainValue(parseJsonc(text))).toEqual(JSON.parse(text));
  });

  test("a __proto__ key stays an own property", () => {
    const value = toPlainValue(parseJsonc('{"__proto__": {"x": 1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__"]);
  });

  test("every valid fixture parses like JSON.parse (BOM stripped)", () => {
    for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith(".json") && n !== "invalid-syntax.json")) {
      const text = readFileSync(join(FIXTURES, name), "utf8");
      expect(toPlainValue(parseJsonc(text))).toEqual(JSON.parse(text.replace(/^\uFEFF/, "")));
    }
  });
});

describe("parseJsonc JSONC extensions", () => {
  test.each([
    ['// head\n{"a": 1 // tail\n}', { a: 1 }],
    ['/* a */ {"a": /* b */ [1, /* c */ 2,],}', { a: [1, 2] }],
    ['{"url": "http://x//y"}', { url: "http://x//y" }],
    ["\uFEFF[1]", [1]],
    ["[1] // trailing comment without newline", [1]],
  ])("%p", (text, expected) => {
    expect(toPlainValue(parseJsonc(text))).toEqual(expected);
  });

  test("the VS Code fixture with comments and trailing commas", () => {
    const root = parseJsonc(readFileSync(join(FIXTURES, "vscode.jsonc"), "utf8"));
    const servers = toPlainValue(findProperty(root, "servers")!.value) as Record<string, unknown>;
    expect(Object.keys(servers)).toEqual(["github", "fetch", "remote", "plain"]);
  });
});

describe("ranges", () => {
  test("value, key and comma offsets point into the text", () => {
    const text = '{ "a" : [ "x" , 2 ], "b": {} }';
    const root = parseJsonc(text);
    const a = findProperty(root, "a")!;
    expect(text.slice(a.keyStart, a.keyEnd)).toBe('"a"');
    expect(text.slice(a.value.start, a.value.end)).toBe('[ "x" , 2 ]');
    expect(text[a.comma]).toBe(",");
    expect(findProperty(root, "b")!.comma).toBe(-1);
    if (a.value.kind !== "array") throw new Error("expected an array");
    expect(a.value.items.map((item) => text.slice(item.start, item.end))).toEqual(['"x"', "2"]);
    expect(a.value.commas.map((c) => (c === -1 ? -1 : text[c]))).toEqual([",", -1]);
  });

  test("findProperty returns the last duplicate, like JSON.parse", () => {
    const root = parseJsonc('{"a": 1, "a": 2}');
    expect(findProperty(root, "a")!.value).toMatchObject({ value: 2 });
    expect(findProperty(parseJsonc("[]"), "a")).toBeUndefined();
  });
});

describe("errors", () => {
  test.each([
    ["", "line 1, column 1: expected a value, found end of file"],
    ['{"a": 1', 'line 1, column 8: expected "," or "}", found end of file'],
    ['{\n  "a": [1 2]\n}', 'line 2, column 11: expected "," or "]", found "2"'],
    ["{a: 1}", 'expected a property name in double quotes, found "a"'],
    ['{"a" 1}', 'expected ":" after property name'],
    ['"abc', "unterminated string"],
    ['"a\\qb"', "invalid string"],
    ['"a\tb"', "invalid string"],
    ["/* open", "unterminated /* comment"],
    ["{} x", 'unexpected "x" after the end of the document'],
    ["01", 'unexpected "1" after the end of the document'],
    ["[,]", "expected a value"],
    ["tru", "expected a value"],
    ["NaN", "expected a value"],
  ])("%p -> %p", (text, message) => {
    expect(() => parseJsonc(text)).toThrow(message);
  });

  test("errors carry line and column", () => {
    try {
      parseJsonc("{\n\n   ]");
      throw new Error("should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(JsoncSyntaxError);
      expect((error as JsoncSyntaxError).line).toBe(3);
      expect((error as JsoncSyntaxError).column).toBe(4);
    }
  });

  test("deep nesting is refused, not a stack overflow", () => {
    const deep = "[".repeat(MAX_NESTING_DEPTH + 2) + "]".repeat(MAX_NESTING_DEPTH + 2);
    expect(() => parseJsonc(deep)).toThrow("nested deeper than");
    const ok = "[".repeat(MAX_NESTING_DEPTH) + "]".repeat(MAX_NESTING_DEPTH);
    expect(() => parseJsonc(ok)).not.toThrow();
  });
});
