// Seeded: generated and mutated lines, both ways, through the session engine (fast path on): it never throws, every line it need not change is forwarded as its own bytes, and every event it emits is prepared (none dropped) and valid.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine, type WireAction } from "../src/engine/session-engine.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { assertValidEvent } from "./support/events.ts";
import { callSession, jsonRpcLine, mutate, picker, type Pick } from "./support/jsonrpc-fuzz.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { memorySink } from "./support/memory-sink.ts";

const LINES = 1500;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A handshake and listing, then generated lines from either side, some of them answers to earlier calls. */
function* session(pick: Pick): Generator<["client" | "server", Uint8Array]> {
  yield [
    "client",
    bytes('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"clientInfo":{"name":"fuzz","version":"1"}}}'),
  ];
  yield ["server", bytes('{"jsonrpc":"2.0","id":0,"result":{"capabilities":{"tools":{}},"serverInfo":{"name":"s"}}}')];
  for (let n = 0; n < LINES; n++) {
    if (pick.chance(0.3)) {
      for (const [side, text] of callSession(pick, 1, 1000 + n)) yield [side, bytes(text)];
      continue;
    }
    const text = jsonRpcLine(pick);
    const body = pick.chance(0.2) ? mutate(pick, bytes(text)) : bytes(text);
    yield [pick.chance(0.5) ? "client" : "server", body];
  }
}

describe("the session engine on seeded generated and mutated lines", () => {
  test.each([
    ["defaults", {}],
    [
      "intent params required, resources captured",
      { BATON_INTENT_PARAM: "required", BATON_CAPTURE: "tools,resources" },
    ],
  ])("%s: no throw, untouched lines forwarded as they came, every event prepared and valid", async (_name, env) => {
    const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:", BATON_CONSENT_TOKEN: "test-consent", ...env });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    const logger = createMemoryLogger();
    const sink = memorySink();
    const hub = createTelemetryHub({ config: loaded.config, logger, sinks: [sink] });
    let clock = 0;
    const engine = createSessionEngine({ config: loaded.config, logger, now: () => (clock += 1), telemetry: hub });
    const pick = picker(606);
    for (const [side, body] of session(pick)) {
      const raw = new Uint8Array([...body, 0x0a]);
      const line = classifyLine(raw.subarray(0, body.length)); // a view of the forwarded bytes, as a pump has: the fast path reads it
      const shown = new TextDecoder().decode(body);
      let wire: WireAction[] = [];
      expect(() => {
        wire = side === "client" ? engine.fromClient(raw, line) : engine.fromServer(raw, line);
      }, shown).not.toThrow();
      // Junk and batches without our tools go on untouched.
      if (line.kind === "junk")
        expect({ shown, wire }).toEqual({ shown, wire: [{ to: side === "client" ? "server" : "client", bytes: raw }] });
    }
    hub.settle();
    await hub.shutdown(1_000);
    expect(hub.dropped).toBe(0);
    for (const event of sink.events) assertValidEvent(event);
    expect(sink.events.length).toBeGreaterThan(400);
  });
});
