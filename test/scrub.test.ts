// Tests for the privacy stage: walking, key-name redaction, size bounds, event markers, purity and schema validity.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { META_SCRUBBED, META_TRUNCATED, type BatonEvent, type EventType } from "../src/telemetry/event-types.ts";
import {
  createEventScrubber,
  MAX_DEPTH,
  MAX_EVENT_BYTES,
  MAX_FIELD_BYTES,
  MAX_IDENTIFIER_BYTES,
  MAX_ITEMS,
  scrubValue,
  type ScrubOptions,
  type ScrubStats,
} from "../src/telemetry/scrub.ts";
import { secretSafeCut } from "../src/telemetry/scrub-cut.ts";
import { assertValidEvent } from "./support/events.ts";

const ON: ScrubOptions = { mode: "on", extraKeys: [] };
const OFF: ScrubOptions = { mode: "off", extraKeys: [] };
const VECTORS = join(import.meta.dir, "fixtures", "baton-spec", "vectors");

/** A spec example event of the given type (a fresh copy each time). */
function vector<T extends EventType>(type: T): Extract<BatonEvent, { event_type: T }> {
  return JSON.parse(readFileSync(join(VECTORS, `${type}.json`), "utf8"));
}

function scrub(value: unknown, options: ScrubOptions = ON): { out: any; stats: ScrubStats } {
  const stats: ScrubStats = { redactions: {}, truncated: 0 };
  return { out: scrubValue(value, options, stats), stats };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe("scrubValue: structure", () => {
  test("redacts inside nested objects and arrays, keeping the shape", () => {
    const input = { a: [{ b: "mail bob@x.com" }, "call +44 20 7946 0958", 7], c: { d: { e: "ok" } } };
    const { out, stats } = scrub(input);
    expect(out).toEqual({ a: [{ b: "mail [email]" }, "call [phone]", 7], c: { d: { e: "ok" } } });
    expect(stats).toEqual({ redactions: { email: 1, phone: 1 }, truncated: 0 });
  });

  test.each([
    [{ password: "hunter2" }, { password: "[redacted:password]" }],
    [{ deep: [{ x: { X_Api_Key: 12345 } }] }, { deep: [{ x: { X_Api_Key: "[redacted:api_key]" } }] }],
    [{ auth: { user: "u", pass: "p" } }, { auth: "[redacted:auth]" }],
    [{ cookies: ["a=1", "b=2"] }, { cookies: "[redacted:cookies]" }],
    [{ sessionToken: null }, { sessionToken: "[redacted:token]" }],
    [
      { tokenizer_name: "cl100k", max_tokens: 512 },
      { tokenizer_name: "cl100k", max_tokens: 512 },
    ],
  ])("key-name rule at any depth, any value type: %j", (input, expected) => {
    expect(scrub(input).out).toEqual(expected);
  });

  test("extra keys from the options are redacted, matched on the normalised name", () => {
    const { out, stats } = scrub(
      { meta: { "Customer-Ref": "C-991", customer_reference: "kept" } },
      { mode: "on", extraKeys: ["customer_ref"] },
    );
    expect(out).toEqual({ meta: { "Customer-Ref": "[redacted:customer_ref]", customer_reference: "kept" } });
    expect(stats.redactions).toEqual({ key: 1 });
  });

  test.each([
    [42, 42],
    [3.5, 3.5],
    [true, true],
    [null, null],
    [1732406400000, 1732406400000], // epoch ms is not a card
    [4111111111111111, "[card]"], // a Luhn-valid card number as a JSON number
    ["4111111111111111", "[card]"],
    [4111111111111112, 4111111111111112],
  ])("leaf %p becomes %p", (input, expected) => {
    expect(scrub(input).out).toEqual(expected);
  });

  test("numbers kept as written (JSON.rawJSON) stay numbers: written as sent, a card's digits redacted", () => {
    const raw = (text: string): unknown => (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON(text);
    const input = { id: raw("12345678901234567890"), price: raw("1.10"), card: raw("4000000000000000006") };
    const { out, stats } = scrub(input);
    expect(JSON.stringify(out)).toBe('{"id":12345678901234567890,"price":1.10,"card":"[card]"}');
    expect(stats.redactions).toEqual({ card: 1 });
    const kept = { id: input.id };
    expect(scrub(kept).out).toBe(kept); // nothing changed: the same object back
  });

  test("object keys are scrubbed by pattern too, and collisions stay distinct", () => {
    expect(scrub({ "a@x.com": 1, "b@y.com": 2 }).out).toEqual({ "[email]": 1, "[email]#2": 2 });
  });

  test("never mutates its input, and returns new containers", () => {
    const input = deepFreeze({
      password: "x",
      list: ["bob@x.com", { token: "t" }],
      big: "y".repeat(MAX_FIELD_BYTES + 10),
    });
    const before = structuredClone(input);
    const { out } = scrub(input);
    expect(input).toEqual(before);
    expect(out).not.toBe(input);
    expect(out.list).not.toBe(input.list);
  });

  test("off mode: no redaction, but sizes are still bounded", () => {
    const { out, stats } = scrub({ password: "hunter2", mail: "bob@x.com", big: "z".repeat(MAX_FIELD_BYTES * 2) }, OFF);
    expect(out.password).toBe("hunter2");
    expect(out.mail).toBe("bob@x.com");
    expect(out.big).toEndWith(`...[truncated ${MAX_FIELD_BYTES} bytes]`);
    expect(stats).toEqual({ redactions: {}, truncated: 1 });
  });
});

describe("scrubValue: bounds", () => {
  test("a 1 MiB string keeps a 64 KiB prefix plus a marker, is scrubbed, and only the prefix is redacted", () => {
    const huge = `bob@x.com ${"lorem ipsum 42 dolor ".repeat(60_000)}`.slice(0, 1024 * 1024);
    const { out, stats } = scrub(huge);
    expect(out.startsWith("[email] lorem")).toBe(true);
    expect(out).toEndWith(`...[truncated ${1024 * 1024 - MAX_FIELD_BYTES} bytes]`);
    expect(stats.truncated).toBe(1);
    // The regex work is bounded by the cut, not the input (shown by what was redacted, not by a clock:
    // no timing asserts): an address every 64 characters, and only the kept prefix's are counted.
    const spaced = "alice@example.com lorem ipsum dolor sit amet consectetur adipis ".repeat(16_384);
    const prefixed = scrub(spaced);
    const kept = prefixed.out.slice(0, prefixed.out.lastIndexOf("...[truncated"));
    expect(kept.match(/\[email\]/g)?.length).toBe(MAX_FIELD_BYTES / 64);
    expect(prefixed.stats.redactions).toEqual({ email: MAX_FIELD_BYTES / 64 });
  });

  test("a key cut to 256 characters never ends in half a surrogate pair (JSON would carry a lone \\ud83d)", () => {
    const out = scrubValue({ [`${"k".repeat(255)}😀tail`]: 1 }, ON) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual([`${"k".repeat(255)}...`]);
  });

  test("cuts on a whole code point, counting UTF-8 bytes", () => {
    const cut = scrubValue("é".repeat(40), { ...OFF, maxFieldBytes: 65 }) as string;
    expect(cut).toBe(`${"é".repeat(32)}...[truncated 16 bytes]`);
  });

  test("past the per-event budget, later strings become [truncated]", () => {
    const chunk = "a".repeat(MAX_FIELD_BYTES);
    const { out, stats } = scrub(Array.from({ length: 6 }, () => chunk));
    expect(out.slice(0, 4)).toEqual([chunk, chunk, chunk, chunk]);
    expect(out.slice(4)).toEqual(["[truncated]", "[truncated]"]);
    expect(stats.truncated).toBe(2);
    expect(MAX_EVENT_BYTES).toBe(4 * MAX_FIELD_BYTES);
  });

  test("a string straddling the budget keeps what fits", () => {
    const out = scrubValue(["a".repeat(100), "b".repeat(100), "c"], { ...ON, maxEventBytes: 180 }) as string[];
    expect(out).toEqual(["a".repeat(100), `${"b".repeat(80)}...[truncated 20 bytes]`, "[truncated]"]);
  });

  test(`nesting deeper than ${MAX_DEPTH} levels becomes a marker`, () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < MAX_DEPTH + 5; i++) deep = { d: deep };
    const { out, stats } = scrub(deep);
    let node = out;
    for (let i = 0; i < MAX_DEPTH; i++) node = node.d;
    expect(node).toBe("[truncated: depth]");
    expect(stats.truncated).toBe(1);
  });

  test(`arrays and objects keep ${MAX_ITEMS} entries plus a marker`, () => {
    const arr = scrub(Array.from({ length: MAX_ITEMS + 5 }, (_, i) => i)).out;
    expect(arr).toHaveLength(MAX_ITEMS + 1);
    expect(arr[MAX_ITEMS]).toBe("[truncated: 5 more items]");
    const obj = scrub(Object.fromEntries(Array.from({ length: MAX_ITEMS + 3 }, (_, i) => [`k${i}`, i]))).out;
    expect(Object.keys(obj)).toHaveLength(MAX_ITEMS + 1);
    expect(obj["[truncated]"]).toBe("3 more keys");
  });
});

describe("scrubValue: never throws", () => {
  test.each([
    [
      "a cycle",
      (() => {
        const a: any = { x: 1 };
        a.self = a;
        return a;
      })(),
      { x: 1, self: "[truncated: cycle]" },
    ],
    [
      "a throwing getter",
      Object.defineProperty({}, "boom", {
        enumerable: true,
        get: () => {
          throw new Error("no");
        },
      }),
      "[unscrubbable]",
    ],
    ["a bigint", 4111111111111111n, "[card]"],
    ["a function and a symbol", { f: () => 1, s: Symbol("s") }, { f: undefined, s: undefined }],
    ["a Date", new Date("2026-11-24T10:30:00Z"), "2026-11-24T10:30:00.000Z"],
    ["a Map", new Map([["a", 1]]), {}],
    ["undefined", undefined, undefined],
  ])("%s", (_, input, expected) => {
    expect(() => scrubValue(input, ON)).not.toThrow();
    expect(scrubValue(input, ON)).toEqual(expected);
  });

  test("a `__proto__` key stays an own property and does not touch prototypes", () => {
    const out = scrubValue(JSON.parse('{"__proto__": {"polluted": "bob@x.com"}}'), ON) as Record<string, unknown>;
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"[email]"}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("createEventScrubber", () => {
  const scrubEvent = createEventScrubber(ON);

  test("tool_call_start: params scrubbed, markers in runtime_meta, schema still valid", () => {
    const event = vector("tool_call_start");
    event.payload.params = { email: "bob@x.com", password: "pw", nested: { ip: "10.2.3.4" } };
    event.payload.call_intent = "email alice@example.org";
    const out = scrubEvent(deepFreeze(event)) as typeof event;
    expect(out.payload.params).toEqual({ email: "[email]", password: "[redacted:password]", nested: { ip: "[ip]" } });
    expect(out.payload.call_intent).toBe("email [email]");
    expect(out.runtime_meta).toEqual({ [META_SCRUBBED]: { email: 2, key: 1, ip: 1 } }); // was null: created
    expect(out.event_id).toBe(event.event_id);
    assertValidEvent(out);
  });

  test("runtime_meta: a client key named __proto__ survives the scrub of the other client keys", () => {
    const event = vector("tool_call_start");
    event.runtime_meta = JSON.parse('{"__proto__":{"a":1},"email":"bob@x.com","baton/call_id":"c1"}');
    const out = scrubEvent(event) as typeof event;
    expect(Object.keys(out.runtime_meta ?? {})).toContain("__proto__");
    expect(Object.getPrototypeOf(out.runtime_meta)).toBe(Object.prototype);
  });

  test("tool_call_end: a huge result is truncated and marked; envelope fields are untouched", () => {
    const event = vector("tool_call_end");
    event.payload.result = [{ type: "text", text: "x".repeat(2 * 1024 * 1024) }];
    event.runtime_meta = { "baton/call_id": "c1", "baton/server": "srv@1.2.3.4" };
    const out = scrubEvent(event) as typeof event;
    expect((out.payload.result as any)[0].text.length).toBeLessThan(MAX_FIELD_BYTES + 64);
    expect(out.runtime_meta).toEqual({ "baton/call_id": "c1", "baton/server": "srv@1.2.3.4", [META_TRUNCATED]: 1 });
    expect(out.consent_token).toBe(event.consent_token);
    assertValidEvent(out);
  });

  test("identifiers a peer chose (client name, server name, tool name, progress token) are kept as they are, never redacted, but cut past 1 KiB", () => {
    // A client named with 2 MB (clientInfo.name), or calling a tool of a 2 MB name, made every event
    // of the session 2 MB: 100 events, 200 MB in the event file, past the 256 KiB an event may hold.
    const huge = (c: string) => `${c}@example.com ${c.repeat(2 * 1024 * 1024)}`;
    const event = vector("tool_call_start");
    event.agent_runtime = huge("c");
    event.payload.tool_name = huge("t");
    event.runtime_meta = { progressToken: huge("p"), "baton/server": huge("s"), "baton/call_id": "c1" };
    const out = scrubEvent(deepFreeze(event)) as typeof event;
    const kept = [
      out.agent_runtime,
      out.payload.tool_name,
      out.runtime_meta?.progressToken,
      out.runtime_meta?.["baton/server"],
    ];
    for (const [i, text] of kept.entries()) {
      expect(typeof text).toBe("string");
      expect((text as string).length).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES + 64);
      const first = "ctps"[i] as string;
      expect(text as string).toStartWith(`${first}@example.com ${first}${first}`); // never redacted
      expect(text as string).toMatch(/\.\.\.\[truncated \d+ bytes\]$/);
    }
    expect(out.runtime_meta?.[META_TRUNCATED]).toBe(4);
    expect(out.runtime_meta?.["baton/call_id"]).toBe("c1");
    assertValidEvent(out);

    const short = vector("tool_call_start");
    short.agent_runtime = "c".repeat(MAX_IDENTIFIER_BYTES);
    short.payload.tool_name = "bob@example.com";
    expect(scrubEvent(short)).toBe(short);
  });

  test("tool_call_error: error_body is scrubbed", () => {
    const event = vector("tool_call_error");
    event.payload.error_body = "auth failed for bob@x.com with Bearer abc123def456ghi789";
    const out = scrubEvent(event) as typeof event;
    expect(out.payload.error_body).toBe("auth failed for [email] with Bearer [token]");
    expect(out.payload.error_type).toBe(event.payload.error_type);
    assertValidEvent(out);
  });

  test("annotation: every text field and the context are scrubbed", () => {
    const event = vector("annotation");
    event.payload.intent = "reach +1 (555) 234-5678";
    event.payload.suggested_improvement = "do not echo AKIAIOSFODNN7EXAMPLE";
    event.payload.context = { user: "bob@x.com", api_key: "k" };
    const out = scrubEvent(event) as typeof event;
    expect(out.payload.intent).toBe("reach [phone]");
    expect(out.payload.suggested_improvement).toBe("do not echo [token]");
    expect(out.payload.context).toEqual({ user: "[email]", api_key: "[redacted:api_key]" });
    assertValidEvent(out);
  });

  test("runtime_meta: the client's _meta is scrubbed; baton/ keys and trace handles are kept", () => {
    const event = vector("tool_call_start");
    event.runtime_meta = {
      progressToken: "tok-1",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      token: "secret",
      note: "bob@x.com",
      "baton/call_id": "c9",
    };
    const out = scrubEvent(event) as typeof event;
    expect(out.runtime_meta).toEqual({
      progressToken: "tok-1",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "baton/call_id": "c9",
      token: "[redacted:token]",
      note: "[email]",
      [META_SCRUBBED]: { key: 1, email: 1 },
    });
    assertValidEvent(out);
  });

  test("an event with nothing to remove is returned as it is (copy on write: no allocation), runtime_meta null stays null", () => {
    const event = vector("tool_call_start");
    const snapshot = structuredClone(event);
    const out = scrubEvent(event);
    expect(out).toBe(event);
    expect(out).toEqual(snapshot);
  });

  test("copy on write: only the changed branches are new objects, the input is never modified", () => {
    const event = vector("tool_call_start");
    event.payload.params = { keep: { deep: [1, "two"] }, mail: "x@example.com" };
    const snapshot = structuredClone(event);
    const out = scrubEvent(event) as typeof event;
    expect(event).toEqual(snapshot);
    expect(out).not.toBe(event);
    expect(out.payload.params.mail).toBe("[email]");
    expect(out.payload.params.keep).toBe(event.payload.params.keep);
  });

  test("surface_snapshot: vendor text is only size-bounded, never pattern-scrubbed", () => {
    const event = vector("surface_snapshot");
    event.payload.instructions = "contact support@vendor.example";
    const out = scrubEvent(event) as typeof event;
    expect(out.payload.instructions).toBe("contact support@vendor.example");
    assertValidEvent(out);
  });

  test("off mode still truncates and marks, and never redacts", () => {
    const event = vector("tool_call_start");
    event.payload.params = { password: "pw", blob: "b".repeat(MAX_FIELD_BYTES + 1) };
    const out = createEventScrubber(OFF)(event) as typeof event;
    expect(out.payload.params.password).toBe("pw");
    expect(out.runtime_meta).toEqual({ [META_TRUNCATED]: 1 });
    assertValidEvent(out);
  });

  test("each event gets the whole byte and node budget again, however much the one before used", () => {
    const scrubSmall = createEventScrubber({ ...ON, maxEventBytes: 1000 });
    const text = "t".repeat(700); // over half the byte budget: a second event on what is left would lose it
    const rows = Array.from({ length: 70 }, (_, i) => Array.from({ length: 999 }, (_, j) => i + j)); // ~70k of 100k nodes
    for (let round = 0; round < 2; round++) {
      const event = vector("tool_call_start");
      event.payload.params = { text, rows };
      const out = scrubSmall(event) as typeof event;
      expect(out).toBe(event); // nothing cut, nothing marked
    }
  });

  test("counts never carry over: an event after a cut one, or after one that threw midway, is marked with nothing", () => {
    const scrubAgain = createEventScrubber(ON);
    const cut = vector("tool_call_start");
    cut.payload.params = { blob: "b".repeat(MAX_FIELD_BYTES + 1) };
    expect((scrubAgain(cut) as typeof cut).runtime_meta).toEqual({ [META_TRUNCATED]: 1 });
    const clean = vector("tool_call_start");
    expect(scrubAgain(clean)).toBe(clean);
    const throwing = vector("tool_call_start");
    // A payload getter that throws after an email was counted: the dispatcher drops that event.
    throwing.payload = Object.defineProperty({ mail: "bob@x.com" }, "boom", {
      enumerable: true,
      get: () => {
        throw new Error("unreadable");
      },
    }) as unknown as typeof throwing.payload;
    expect(() => scrubAgain(throwing)).toThrow("unreadable");
    expect(scrubAgain(clean)).toBe(clean);
  });

  test("short texts are scrubbed before containers: params past the byte budget never cost the call intent its text", () => {
    const scrubSmall = createEventScrubber({ ...ON, maxEventBytes: 1000 });
    const event = vector("tool_call_start");
    event.payload = {
      tool_name: "t",
      params: { a: "x".repeat(600), b: "y".repeat(600) },
      call_intent: "find bob@x.com",
    };
    const out = scrubSmall(event) as typeof event;
    expect(out.payload.call_intent).toBe("find [email]");
    expect(out.payload.params.b).toStartWith("yyy"); // cut to what the budget had left
    expect(out.payload.params.b).not.toBe(event.payload.params.b);
  });

  test("surface_snapshot: its runtime_meta is still scrubbed (only the vendor's payload is left unredacted)", () => {
    const event = vector("surface_snapshot");
    event.runtime_meta = { note: "bob@x.com", "baton/call_id": "c1" };
    const out = scrubEvent(event) as typeof event;
    expect(out.runtime_meta).toEqual({ "baton/call_id": "c1", note: "[email]", [META_SCRUBBED]: { email: 1 } });
  });

  test.each(["tool_call_start", "tool_call_end", "tool_call_error", "annotation", "surface_snapshot"] as const)(
    "the %s spec vector stays valid",
    (type) => {
      assertValidEvent(scrubEvent(vector(type)));
    },
  );
});

describe("scrubValue: idempotent truncation", () => {
  test("an array or object cut once (hot path) keeps its marker's true count when scrubbed again", () => {
    const list = Array.from({ length: MAX_ITEMS + 4000 }, (_, i) => i);
    const keys = Object.fromEntries(Array.from({ length: MAX_ITEMS + 2000 }, (_, i) => [`k${i}`, i]));
    const once = scrubValue({ list, keys }, OFF) as { list: unknown[]; keys: Record<string, unknown> };
    expect(once.list.at(-1)).toBe("[truncated: 4000 more items]");
    expect(once.keys["[truncated]"]).toBe("2000 more keys");
    const stats = { redactions: {}, truncated: 0 };
    const twice = scrubValue(once, ON, stats);
    expect(twice).toEqual(once);
    expect(stats.truncated).toBe(0);
  });

  test("a value cut once (hot path) keeps its marker and true count when scrubbed again (background)", () => {
    const once = scrubValue("x".repeat(1024 * 1024), OFF) as string;
    expect(once).toEndWith(`...[truncated ${1024 * 1024 - MAX_FIELD_BYTES} bytes]`);
    const stats = { redactions: {}, truncated: 0 };
    const twice = scrubValue(once, ON, stats);
    expect(twice).toBe(once);
    expect(stats.truncated).toBe(0);
  });
});

describe("scrubValue: a cut never keeps part of a secret", () => {
  // A secret crossing the size cut loses its tail; what is left no longer matches its pattern, so
  // the cut must fall before it (or after all of it), whether the walk that cuts redacts or not.
  const SECRETS = [
    ["a token", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"],
    ["a JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZUBleGFtcGxlLmNvbSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"],
    ["an email", "alice.smith@example.com"],
    ["a card", "4111 1111 1111 1111"],
    ["a phone", "+1 415 555 0100"],
    ["an IBAN", "DE89 3704 0044 0532 0130 00"],
  ] as const;
  const LIMIT = 200;

  test.each(SECRETS)("%s crossing the cut, at every offset, in one walk or two", (_, secret) => {
    for (let inside = 1; inside < secret.length; inside++) {
      const head = `${"x".repeat(LIMIT - inside - 1)} `;
      const text = `${head}${secret} ${"tail ".repeat(100)}`;
      const once = scrubValue(text, { ...ON, maxFieldBytes: LIMIT }) as string;
      const hotPath = scrubValue(text, { ...OFF, maxFieldBytes: LIMIT });
      const twice = scrubValue(hotPath, { ...ON, maxFieldBytes: LIMIT }) as string;
      for (const out of [once, twice]) {
        expect(out).toContain("...[truncated ");
        expect({ inside, kept: out.slice(head.length - 2) }).not.toMatchObject({
          kept: expect.stringContaining(secret.slice(0, 6)),
        });
      }
    }
  });

  test("a cut that falls back a whole window never splits a surrogate pair", () => {
    const token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    const text = `b${"😀".repeat(3000)}=${token} tail`; // no whitespace before the token for 6 000 units
    const at = secretSafeCut(text, text.indexOf(token) + 10);
    expect(at).toBeLessThan(text.indexOf(token));
    expect(text.charCodeAt(at) >= 0xdc00 && text.charCodeAt(at) <= 0xdfff).toBe(false);
  });

  test("a cut with no secret near it stays where the byte limit puts it", () => {
    const out = scrubValue(`${"word ".repeat(100)}`, { ...ON, maxFieldBytes: LIMIT }) as string;
    expect(out).toBe(`${"word ".repeat(40)}...[truncated 300 bytes]`);
  });
});
