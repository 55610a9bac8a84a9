// Unit tests for src/wrap/json-edits.ts: splicing, array layouts, inserting and removing one property.

import { describe, expect, test } from "bun:test";
import {
  applyTextEdits,
  detectEol,
  detectItemSeparator,
  insertPropertyAfter,
  removeProperty,
  renderArray,
} from "../src/wrap/json-edits.ts";
import { findProperty, parseJsonc, type JsonArrayNode, type JsonObjectNode } from "../src/wrap/jsonc.ts";

describe("applyTextEdits", () => {
  test("applies edits in any order, insertions included", () => {
    expect(
      applyTextEdits("abcdef", [
        { start: 4, end: 6, text: "EF" },
        { start: 0, end: 1, text: "A" },
        { start: 2, end: 2, text: "+" },
      ]),
    ).toBe("Ab+cdEF");
  });
  test("an edit touching the end of another is fine; overlapping edits throw", () => {
    expect(
      applyTextEdits("abc", [
        { start: 1, end: 2, text: "B" },
        { start: 2, end: 2, text: "!" },
      ]),
    ).toBe("aB!c");
    expect(() =>
      applyTextEdits("abc", [
        { start: 0, end: 2, text: "" },
        { start: 1, end: 3, text: "" },
      ]),
    ).toThrow("overlapping");
  });
});

describe("detectItemSeparator / renderArray", () => {
  const arrayOf = (text: string): JsonArrayNode => parseJsonc(text) as JsonArrayNode;
  test.each([
    ['["a", "b"]', ", "],
    ['["a","b"]', ","],
    ['[ "a" , "b" ]', " , "],
    ['[ "a" ]', ", "],
    ['[\n  "a",\n  "b"\n]', ",\n  "],
    ['[\r\n\t\t"a"\r\n\t]', ",\r\n\t\t"],
    ['[\n  "a", // note\n  "b"\n]', ",\n  "],
    ['["a", /* c */ "b"]', ", "],
    ["[]", ", "],
  ])("%p -> %p", (source, expected) => {
    expect(detectItemSeparator(source, arrayOf(source))).toBe(expected);
  });

  test("the fallback applies where nothing can be learnt", () => {
    expect(detectItemSeparator('["a"]', arrayOf('["a"]'), ",")).toBe(",");
    expect(renderArray(['"a"', '"b"'], ",")).toBe('["a","b"]');
    expect(renderArray(['"a"', '"b"'])).toBe('["a", "b"]');
    expect(renderArray([])).toBe("[]");
  });

  test("detectEol", () => {
    expect(detectEol("a\r\nb")).toBe("\r\n");
    expect(detectEol("a\nb")).toBe("\n");
    expect(detectEol("ab")).toBe("\n");
  });
});

describe("insertPropertyAfter / removeProperty", () => {
  const objectOf = (text: string): JsonObjectNode => parseJsonc(text) as JsonObjectNode;
  test.each([
    ['{"command": "x"}', '{"command": "x", "args": []}'],
    ['{"command":"x"}', '{"command":"x","args":[]}'],
    ['{ "type": "stdio", "command": "x" }', '{ "type": "stdio", "command": "x", "args": [] }'],
    ['{\n  "command": "x",\n  "env": {}\n}', '{\n  "command": "x",\n  "args": [],\n  "env": {}\n}'],
    ['{\r\n\t"command": "x"\r\n}', '{\r\n\t"command": "x",\r\n\t"args": []\r\n}'],
    ['{\n  // the command\n  "command": "x"\n}', '{\n  // the command\n  "command": "x",\n  "args": []\n}'],
    ['{\n  "command": "x", // note\n}', '{\n  "command": "x",\n  "args": [], // note\n}'],
  ])("%p", (source, expected) => {
    const object = objectOf(source);
    const edit = insertPropertyAfter(source, object, findProperty(object, "command")!, "args", "[]");
    const inserted = applyTextEdits(source, [edit]);
    expect(inserted).toBe(expected);
    const again = objectOf(inserted);
    expect(applyTextEdits(inserted, [removeProperty(again, findProperty(again, "args")!)])).toBe(source);
  });

  test("removing a first or only property keeps valid JSON", () => {
    const first = '{"args": [], "command": "x"}';
    const object = objectOf(first);
    expect(applyTextEdits(first, [removeProperty(object, findProperty(object, "args")!)])).toBe('{"command": "x"}');
    const only = '{"args": []}';
    const single = objectOf(only);
    expect(applyTextEdits(only, [removeProperty(single, findProperty(single, "args")!)])).toBe("{}");
  });
});
