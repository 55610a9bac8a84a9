// Unit: the engine hashes a request's principal (RequestContext.principal, hosted mode) or BATON_PRINCIPAL (stdio) into user_id; the raw value never reaches a sink.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine, type SessionEngine } from "../src/engine/session-engine.ts";
import { hashUserId, principalFromHeaders } from "../src/identity/user-id.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import type { RequestContext } from "../src/telemetry/envelope.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { assertValidEvent } from "./support/events.ts";
import { memorySink } from "./support/memory-sink.ts";

const enc = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value)}\n`);

async function run(env: Record<string, string>, drive: (engine: SessionEngine) => void) {
  const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:", BATON_TENANT_ID: "acme", ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const logger = createMemoryLogger();
  const events: BatonEvent[] = [];
  const hub = createTelemetryHub({
    config: loaded.config,
    logger,
    sinks: [memorySink(events)],
  });
  drive(createSessionEngine({ config: loaded.config, logger, now: () => 0, telemetry: hub }));
  await hub.shutdown(1_000);
  for (const event of events) assertValidEvent(event);
  return { events, logger };
}

const send = (engine: SessionEngine, side: "client" | "server", message: unknown, context?: RequestContext) => {
  const raw = enc(message);
  const line = classifyLine(raw.subarray(0, raw.length - 1));
  return side === "client" ? engine.fromClient(raw, line, context) : engine.fromServer(raw, line);
};
const call = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "t", arguments: { user_goal: "g" } },
});
const done = (id: number) => ({ jsonrpc: "2.0", id, result: { content: [] } });
const jwt = `x.${Buffer.from(JSON.stringify({ sub: "alice", iss: "https://idp.example" })).toString("base64url")}.y`;

describe("user_id through the engine", () => {
  test("hosted: each request's principal (from its headers) is hashed; start, end and the intent annotation carry it", async () => {
    const principal = principalFromHeaders({ authorization: `Bearer ${jwt}` }, undefined);
    const { events } = await run({ BATON_USER_ID_HMAC_KEY: "k3y!" }, (engine) => {
      send(engine, "client", call(1), { principal });
      send(engine, "client", call(2));
      send(engine, "server", done(1));
      send(engine, "server", done(2));
    });
    const alice = hashUserId({ id: "alice", issuer: "https://idp.example" }, "acme", "k3y!");
    expect(events.map((e) => [e.event_type, e.user_id])).toEqual([
      ["annotation", alice],
      ["tool_call_start", alice],
      ["tool_call_start", null],
      ["tool_call_end", alice],
      ["tool_call_end", null],
    ]);
    expect(JSON.stringify(events)).not.toContain("alice");
  });

  test("stdio: BATON_PRINCIPAL is every call's principal; a request's own principal wins", async () => {
    const { events } = await run({ BATON_USER_ID_HMAC_KEY: "tenant-secret-key", BATON_PRINCIPAL: "U123" }, (engine) => {
      send(engine, "client", call(1));
      send(engine, "client", call(2), { principal: { id: "bob" } });
    });
    expect(events.filter((e) => e.event_type === "tool_call_start").map((e) => e.user_id)).toEqual([
      "h1:f2a9be1307559c65f32bc1d925d02aa4c0e8d4309c2d1f470027120502dfd64a",
      hashUserId({ id: "bob" }, "acme", "tenant-secret-key"),
    ]);
  });

  test("stdio: BATON_PRINCIPAL is hashed as upstream canonicalises it (Python strip keeps a BOM: the §6 parity vector)", async () => {
    const { events } = await run(
      {
        BATON_TENANT_ID: "tenant-parity",
        BATON_USER_ID_HMAC_KEY: "parity-corpus-key-🔑",
        BATON_PRINCIPAL: "\ufeffemployee-4417",
      },
      (engine) => send(engine, "client", call(1)),
    );
    expect(events.find((e) => e.event_type === "tool_call_start")?.user_id).toBe(
      "h1:8cd2644e70b39a343b6abd57a6a5a436292d3c41955b5a0b473a97a5e85030e0",
    );
  });

  test("stdio: a BATON_PRINCIPAL blank to upstream's Python strip() (U+0085, U+001C..U+001F) is no principal, not the empty user's hash", async () => {
    const { events } = await run({ BATON_USER_ID_HMAC_KEY: "k", BATON_PRINCIPAL: "\u0085\u001e" }, (engine) =>
      send(engine, "client", call(1)),
    );
    expect(events.find((e) => e.event_type === "tool_call_start")?.user_id).toBeNull();
  });

  test("no key: no user_id, one warning, the principal is never logged", async () => {
    const { events, logger } = await run({ BATON_PRINCIPAL: "U123" }, (engine) => {
      send(engine, "client", call(1), { principal: { id: "carol" } });
      send(engine, "client", call(2), { principal: { id: "carol" } });
    });
    expect(events.every((e) => e.user_id === null)).toBe(true);
    expect(logger.lines.filter((l) => l.includes("BATON_USER_ID_HMAC_KEY"))).toHaveLength(2); // BATON_PRINCIPAL at start, per-request principals once
    const text = logger.lines.join("\n");
    expect(text).not.toContain("carol");
    expect(text).not.toContain("U123");
  });
});

test("a resource read's end carries its request's context (consent token, principal), like a tool call's", async () => {
  const { events } = await run({ BATON_USER_ID_HMAC_KEY: "k" }, (engine) => {
    send(
      engine,
      "client",
      { jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "a://b" } },
      { consentToken: "ct-per-request", principal: { id: "zed" } },
    );
    send(engine, "server", { jsonrpc: "2.0", id: 1, result: { contents: [] } });
  });
  expect(events.map((e) => [e.event_type, e.consent_token, e.user_id])).toEqual([
    ["resource_read_start", "ct-per-request", hashUserId({ id: "zed" }, "acme", "k")],
    ["resource_read_end", "ct-per-request", hashUserId({ id: "zed" }, "acme", "k")],
  ]);
});

test("BATON_PRINCIPAL without the key its hash needs is warned of, once per session; with the key, or with no principal, nothing is", async () => {
  const warnings = async (env: Record<string, string>) =>
    (await run(env, () => {})).logger.lines.filter((line) => line.includes("BATON_USER_ID_HMAC_KEY is not"));
  expect(await warnings({ BATON_PRINCIPAL: "U123" })).toHaveLength(1);
  expect(await warnings({ BATON_PRINCIPAL: "U123", BATON_USER_ID_HMAC_KEY: "k" })).toEqual([]);
  expect(await warnings({})).toEqual([]);
  expect(await warnings({ BATON_USER_ID_HMAC_KEY: "k" })).toEqual([]);
});
