// Unit: the request context kept for each tools/list in flight (the surface snapshot its answer completes is stamped with it).

import { describe, expect, test } from "bun:test";
import { createListingContexts } from "../src/engine/listing-contexts.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";

const line = (value: unknown) => classifyLine(new TextEncoder().encode(JSON.stringify(value)));
const list = (id: number | string) => ({ jsonrpc: "2.0", id, method: "tools/list", params: {} });
const listed = (id: number | string) => ({ jsonrpc: "2.0", id, result: { tools: [] } });
const token = (n: number | string) => ({ consentToken: `ct_${n}` });

describe("listing contexts", () => {
  test("a listing's answer takes the context its request was noted with, once", () => {
    const listings = createListingContexts();
    listings.note(line(list(1)), token(1));
    listings.note(line(list("b")), token("b"));
    expect(listings.take(line(listed("b")))).toEqual(token("b"));
    expect(listings.take(line(listed(1)))).toEqual(token(1));
    expect(listings.take(line(listed(1)))).toBeUndefined();
  });

  test("only tools/list requests are noted: a call, a notification or an answer named like one keeps no context", () => {
    const listings = createListingContexts();
    listings.note(line({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "x" } }), token(2));
    listings.note(line({ jsonrpc: "2.0", method: "tools/list" }), token("n"));
    listings.note(line({ jsonrpc: "2.0", id: 3, result: {} }), token(3));
    expect(listings.take(line(listed(2)))).toBeUndefined();
    expect(listings.take(line(listed(3)))).toBeUndefined();
  });

  test("in a batch: each tools/list member is noted, and a batch of answers takes the first listing's it holds", () => {
    const listings = createListingContexts();
    listings.note(line([list(1), { jsonrpc: "2.0", id: 2, method: "ping" }, list(3)]), token("batch"));
    expect(listings.take(line([{ jsonrpc: "2.0", id: 2, result: {} }, listed(3)]))).toEqual(token("batch"));
    expect(listings.take(line([listed(1)]))).toEqual(token("batch"));
    expect(listings.take(line([listed(1)]))).toBeUndefined();
  });

  test("an error answer also ends a listing; an answer of null id, or junk, takes nothing", () => {
    const listings = createListingContexts();
    listings.note(line(list(1)), token(1));
    expect(listings.take(line({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "bad" } }))).toBeUndefined();
    expect(listings.take(classifyLine(new TextEncoder().encode("not json")))).toBeUndefined();
    expect(listings.take(line({ jsonrpc: "2.0", id: 1, error: { code: -32603, message: "x" } }))).toEqual(token(1));
  });

  test("a server request of a listing's id (sampling, elicitation) takes nothing; the listing's answer still does", () => {
    const listings = createListingContexts();
    listings.note(line(list(1)), token(1));
    expect(
      listings.take(line({ jsonrpc: "2.0", id: 1, method: "sampling/createMessage", params: {} })),
    ).toBeUndefined();
    expect(listings.take(line(listed(1)))).toEqual(token(1));
  });

  test("in a batch from the server, a notification, a request or an answer to another request before the listing's answer is passed over", () => {
    const listings = createListingContexts();
    listings.note(line(list(5)), token(5));
    const batch = [
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } },
      { jsonrpc: "2.0", id: 5, method: "roots/list" },
      { jsonrpc: "2.0", id: 6, result: {} },
      listed(5),
    ];
    expect(listings.take(line(batch))).toEqual(token(5));
  });

  test("64 unanswered listings keep their contexts; a 65th lets the oldest go", () => {
    const listings = createListingContexts();
    for (let id = 1; id <= 64; id++) listings.note(line(list(id)), token(id));
    expect(listings.take(line(listed(1)))).toEqual(token(1));
    for (let id = 65; id <= 66; id++) listings.note(line(list(id)), token(id));
    // 2..66 were noted: 65 of them; the oldest, 2, is gone, 3 is kept.
    expect(listings.take(line(listed(2)))).toBeUndefined();
    expect(listings.take(line(listed(3)))).toEqual(token(3));
    expect(listings.take(line(listed(66)))).toEqual(token(66));
  });

  test("a listing's id noted again is the newest: the bound lets older ones go first", () => {
    const listings = createListingContexts();
    for (let id = 1; id <= 64; id++) listings.note(line(list(id)), token(id));
    listings.note(line(list(1)), token("again"));
    listings.note(line(list(65)), token(65));
    expect(listings.take(line(listed(2)))).toBeUndefined();
    expect(listings.take(line(listed(1)))).toEqual(token("again"));
  });
});
