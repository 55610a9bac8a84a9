// Unit tests for src/wire/line-scan.ts: the method scan against tricky JSON, cross-checked with JSON.parse; the byte search.

import { describe, expect, test } from "bun:test";
import { containsBytes, MAX_SCANNED_LINE_BYTES, scanMethod } from "../src/wire/line-scan.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** What a full parse says the top-level method is (undefined for anything that is not one object with a string method). */
function parsedMethod(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const method = (value as Record<string, unknown>).method;
    return typeof method === "string" ? method : undefined;
  } catch {
    return undefined;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("scanMethod", () => {
  test.each<[string, string, string | undefined]>([
    ["a plain request", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`, "tools/call"],
    ["method first", `{"method":"ping","id":"a"}`, "ping"],
    [
      "method last, after nested objects",
      `{"params":{"a":[1,{"b":"}"}],"c":"]"},"id":3,"method":"tools/list"}`,
      "tools/list",
    ],
    ["a notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, "notifications/initialized"],
    ["whitespace everywhere", ` \t{ "method" \r\n :\t"initialize" , "id" : 0 } \r`, "initialize"],
    [
      "a key inside a string value is not a key",
      `{"params":{"text":"\\"method\\":\\"evil\\""},"method":"tools/call"}`,
      "tools/call",
    ],
    ["method nested in params is not the top level", `{"params":{"method":"inner"},"method":"outer"}`, "outer"],
    ["only a nested method", `{"id":1,"params":{"method":"inner"}}`, undefined],
    ["escaped quotes and backslashes in other strings", `{"a":"x\\\\\\"y","b":"\\\\","method":"m"}`, "m"],
    ["unicode around it", `{"name":"héllo ☃ 😀","method":"tools/call","x":"日本"}`, "tools/call"],
    [
      "numbers, literals and empty containers",
      `{"a":-1.5e3,"b":true,"c":null,"d":[],"e":{},"method":"m","f":false}`,
      "m",
    ],
    ["a response has no method", `{"jsonrpc":"2.0","id":1,"result":{"method":"x"}}`, undefined],
    ["an escape in the method: unsure", `{"method":"tools\\/call"}`, undefined],
    ["a unicode escape in the method: unsure", `{"method":"tools/\\u0063all"}`, undefined],
    ["an escaped key could spell method: unsure", `{"m\\u0065thod":"tools/list","method":"ping"}`, undefined],
    ["method twice: JSON.parse keeps the last, we do not guess", `{"method":"ping","method":"tools/list"}`, undefined],
    ["a non-string method", `{"method":5}`, undefined],
    ["a null method", `{"method":null}`, undefined],
    ["an object method", `{"method":{"name":"x"}}`, undefined],
    ["a batch", `[{"method":"ping","id":1}]`, undefined],
    ["not JSON", `method: ping`, undefined],
    ["empty object", `{}`, undefined],
    ["blank", `   `, undefined],
    ["a BOM first", `\uFEFF{"method":"ping"}`, undefined],
    ["two objects on one line", `{"method":"ping"}{"method":"x"}`, undefined],
    ["bytes after the object", `{"method":"ping"} x`, undefined],
    ["unterminated string", `{"method":"ping`, undefined],
    ["unterminated object", `{"method":"ping","id":1`, undefined],
    ["mismatched brackets in a value", `{"a":[1,2},"method":"m"}`, undefined],
    ["mismatched brackets deeper", `{"a":{"b":[{"c":1]}},"method":"m"}`, undefined],
    ["deep but balanced nesting", `{"a":${"[".repeat(20)}1${"]".repeat(20)},"method":"m"}`, "m"],
    ["nesting past the scan depth", `{"a":${"[".repeat(40)}1${"]".repeat(40)},"method":"m"}`, undefined],
    ["trailing comma", `{"method":"ping",}`, undefined],
    ["a key without a colon", `{"method" "ping"}`, undefined],
    ["a single-quoted key", `{'method':'ping'}`, undefined],
    ["a control byte in the method", `{"method":"pi\tng"}`, undefined],
    ["a non-ASCII method", `{"method":"pïng"}`, undefined],
    ["not an object: a byte before the method key", `x"method":"m"}`, undefined],
    ["a key followed by a value, not a colon", `{"a"x"b","method":"m"}`, undefined],
    ["a method value that is no string but holds one", `{"method":[","x":1}`, undefined],
    ["an object closed by a bracket", `{"method":"m"]`, undefined],
  ])("%s", (_name, text, expected) => {
    expect(scanMethod(bytes(text))).toBe(expected);
    // Whenever the scan answers, a full parse agrees.
    if (expected !== undefined) expect(parsedMethod(text)).toBe(expected);
  });

  test("a line over the scan limit (64 KiB) is not scanned; one of exactly the limit is", () => {
    const text = `{"method":"ping","pad":"${"x".repeat(MAX_SCANNED_LINE_BYTES)}"}`;
    expect(parsedMethod(text)).toBe("ping");
    expect(scanMethod(bytes(text))).toBeUndefined();
    expect(MAX_SCANNED_LINE_BYTES).toBe(64 * 1024);
    const frame = `{"method":"ping","pad":""}`;
    const atLimit = `{"method":"ping","pad":"${"x".repeat(MAX_SCANNED_LINE_BYTES - frame.length)}"}`;
    expect(atLimit.length).toBe(MAX_SCANNED_LINE_BYTES);
    expect(scanMethod(bytes(atLimit))).toBe("ping");
    expect(scanMethod(bytes(`${atLimit} `))).toBeUndefined();
  });

  test("a very long method is left to the parser: 256 bytes are read, 257 are not", () => {
    expect(scanMethod(bytes(`{"method":"${"m".repeat(300)}"}`))).toBeUndefined();
    expect(scanMethod(bytes(`{"method":"${"m".repeat(256)}"}`))).toBe("m".repeat(256));
    expect(scanMethod(bytes(`{"method":"${"m".repeat(257)}"}`))).toBeUndefined();
  });

  test("randomised lines: the scan never disagrees with JSON.parse", () => {
    // Deterministic generator: JSON-RPC-like objects with nested values, odd strings and spacing.
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ["method", "id", "params", "a", '"', "\\", "{", "}", "[", "]", ":", ",", "é", "😀", "\n", "x"];
    const str = (): string => Array.from({ length: rand(6) }, () => pieces[rand(pieces.length)]).join("");
    // Keys and method names are mostly plain (an escape anywhere in a key makes the scan step back).
    const plain = ["method", "id", "params", "jsonrpc", "x", "tools/call", "ping", "é"];
    const key = (): string => (rand(8) === 0 ? str() : (plain[rand(plain.length)] ?? "x"));
    const value = (depth: number): unknown => {
      switch (rand(depth > 2 ? 4 : 6)) {
        case 0:
          return rand(1000) - 500;
        case 1:
          return str();
        case 2:
          return rand(2) === 0;
        case 3:
          return null;
        case 4:
          return Array.from({ length: rand(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(
            Array.from({ length: rand(4) }, () => [rand(2) === 0 ? str() : key(), value(depth + 1)]),
          );
      }
    };
    const spaces = [" ", "", "\t", "  "];
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const entries: [string, unknown][] = Array.from({ length: rand(4) }, () => [key(), value(0)]);
      if (rand(4) > 0) entries.splice(rand(entries.length + 1), 0, ["method", rand(4) === 0 ? value(0) : key()]);
      let text = JSON.stringify(Object.fromEntries(entries));
      if (rand(3) === 0)
        text = text.replaceAll(",", `${spaces[rand(4)]},${spaces[rand(4)]}`).replaceAll(":", `${spaces[rand(4)]}:`);
      if (rand(10) === 0) text = text.slice(0, rand(text.length)); // cut short: junk
      if (rand(20) === 0) text = text.replace("]", "}"); // mismatched brackets: junk
      const scanned = scanMethod(bytes(text));
      if (scanned === undefined) continue;
      answered++;
      // The scan does not validate (a raw tab in a string, a cut literal): such a line is junk for
      // the parser, which the proxy forwards unchanged either way. Any line that parses must agree.
      if (isJson(text)) expect({ text, method: parsedMethod(text) }).toEqual({ text, method: scanned });
    }
    expect(answered).toBeGreaterThan(500); // the scan does answer plenty of plain lines
  });
});

describe("containsBytes", () => {
  test.each<[string, string, boolean]>([
    ["abc baton_x", "baton_", true],
    ["baton", "baton_", false],
    ["bbaton_", "baton_", true],
    ["xx\\u0062", "\\u", true],
    ["", "a", false],
    ["abc", "", true],
    ["user_goa", "user_goal", false],
  ])("%p contains %p: %p", (haystack, needle, expected) => {
    expect(containsBytes(bytes(haystack), bytes(needle))).toBe(expected);
  });
});
