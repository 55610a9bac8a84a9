// A serve POST's requests still owed an answer: kept by id as written, matched exact first, then by value.

import { expect, test } from "bun:test";
import { owedAnswers } from "../src/serve/owed-answers.ts";

const request = (id: number | string, idText?: string) => ({ kind: "request", id, idText });
const text = (ids: unknown[]) => JSON.stringify(ids);

test("ids one number stands for are owed apart, each answered by its exact id", () => {
  const owed = owedAnswers([request(1), request(1, "1.0"), request(2 ** 53, "9007199254740993"), request(2 ** 53)], []);
  expect(owed.size).toBe(4);
  expect(owed.answer(1, "1.0")).toBe(true);
  expect(owed.answer(2 ** 53)).toBe(true);
  expect(text(owed.written())).toBe("[1,9007199254740993]");
  expect(owed.ids()).toEqual([1, 2 ** 53]);
});

test("an answer whose id the server wrote back otherwise ends the oldest owed of its value", () => {
  const owed = owedAnswers([request(1, "1.0"), request(2 ** 53, "9007199254740993"), request(3)], []);
  expect(owed.answer(1)).toBe(true);
  expect(owed.answer(2 ** 53)).toBe(true);
  expect(owed.answer(1)).toBe(false);
  expect(text(owed.written())).toBe("[3]");
});

test("the proxy's own answers, ids as written, are not owed; notifications and responses never are", () => {
  const own = [
    { jsonrpc: "2.0", id: (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON("-0"), result: {} },
    { id: "x" },
  ];
  const owed = owedAnswers(
    [request(0, "-0"), request("x"), request(0), { kind: "notification" }, { kind: "response", id: 5 }],
    own,
  );
  expect(text(owed.written())).toBe("[0]");
});
