import { describe, expect, test } from "bun:test";
import { topLevelIdSource } from "../src/wire/id-source.ts";

describe("topLevelIdSource: the top-level id of one JSON object's text, as written", () => {
  test.each([
    ["first", '{"id":1.0,"result":{}}', "1.0"],
    ["spaced", ' { "jsonrpc" : "2.0" , "id" :\t-0 }', "-0"],
    ["a string", '{"id":"a\\"b","x":1}', '"a\\"b"'],
    [
      "after nested values holding quotes, brackets and an inner id",
      '{"result":{"id":7,"s":"}]\\\\","a":[{"id":8}]},"id":1E2}',
      "1E2",
    ],
    ["beyond 2^53", '{"jsonrpc":"2.0","id":9007199254740993,"method":"m"}', "9007199254740993"],
    ["none", '{"jsonrpc":"2.0","method":"m"}', undefined],
    ["a key with an escape before it (it might spell id)", '{"\\u0069d":2,"id":1}', undefined],
    ["not an object", "[1]", undefined],
  ])("%s", (_name, text, source) => {
    expect(topLevelIdSource(text)).toBe(source);
  });
});
