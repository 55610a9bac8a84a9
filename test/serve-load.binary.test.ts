// Black-box load: 200 concurrent MCP sessions x 50 calls through one `serve`: every answer right and to the right session, every session's events complete and schema-valid, RSS stated and flat.

import { describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { startHttpFixture, waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const SESSIONS = 200;
const CALLS = 50;

/** Resident set size of a process in MiB (`ps`, so it works on Linux and macOS alike). */
function rssMiB(pid: number): number {
  const kb = Number(
    Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)])
      .stdout.toString()
      .trim(),
  );
  return Math.round((kb / 1024) * 10) / 10;
}

async function round(url: string, tag: string): Promise<string[]> {
  const wrong: string[] = [];
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const client = new Client({ name: `${tag}-${s}`, version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      for (let c = 0; c < CALLS; c++) {
        const message = `${tag} session ${s} call ${c}`;
        const result = (await client.callTool({ name: "echo", arguments: { message } })) as {
          content: { text: string }[];
        };
        if (result.content[0]?.text !== `Echo: ${message}`) wrong.push(`${message} -> ${JSON.stringify(result)}`);
      }
      await client.close();
    }),
  );
  return wrong;
}

describe("load", () => {
  test(`${SESSIONS} concurrent sessions x ${CALLS} calls, twice`, async () => {
    const upstream = await startHttpFixture();
    const proxy = await startServe(["--upstream", upstream.url]);
    const pid = proxy.process.pid;
    try {
      const idle = rssMiB(pid);
      const started = performance.now();
      expect(await round(proxy.url, "first")).toEqual([]);
      const firstSeconds = (performance.now() - started) / 1000;
      const afterFirst = rssMiB(pid);
      expect(await round(proxy.url, "second")).toEqual([]);
      const afterSecond = rssMiB(pid);
      const expected = 2 * SESSIONS * CALLS * 2;
      let events: Record<string, any>[] = [];
      await waitFor(
        () => {
          events = proxy.events();
          return events.length >= expected;
        },
        `${expected} events`,
        30_000,
      );
      events = readValidatedEvents(proxy.eventsFile);
      expect(events.length).toBe(expected);
      const bySession = new Map<string, Record<string, any>[]>();
      for (const event of events) bySession.set(event.session_id, [...(bySession.get(event.session_id) ?? []), event]);
      expect(bySession.size).toBe(2 * SESSIONS);
      for (const sessionEvents of bySession.values()) {
        expect(sessionEvents.length).toBe(CALLS * 2);
        expect(new Set(sessionEvents.map((e) => e.agent_runtime)).size).toBe(1);
        expect(sessionEvents.map((e) => e.sequence_number)).toEqual(Array.from({ length: CALLS * 2 }, (_, i) => i + 1));
        // Each session's events carry only its own client's messages.
        const agent = sessionEvents[0]?.agent_runtime as string;
        const [tag, index] = agent.split("-");
        for (const e of sessionEvents.filter((x) => x.event_type === "tool_call_start"))
          expect(e.payload.params.message).toStartWith(`${tag} session ${index} call`);
        checkCallPairs(sessionEvents);
      }
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      const open = Number(/baton_sessions_open (\d+)/.exec(metrics)?.[1]);
      process.stderr.write(
        `serve load: ${SESSIONS} sessions x ${CALLS} calls in ${firstSeconds.toFixed(1)} s (${Math.round((SESSIONS * CALLS) / firstSeconds)} calls/s on this machine); RSS idle ${idle} MiB, after round 1 ${afterFirst} MiB, after round 2 ${afterSecond} MiB, ${open} sessions held (idle, not yet expired): ~${Math.round(((afterSecond - idle) * 1024) / Math.max(open, 1))} KiB per held session\n`,
      );
      // Flat: the second round (as many new sessions again) grows RSS far less than the first did from idle.
      expect(afterSecond - afterFirst).toBeLessThan(Math.max(afterFirst - idle, 20));
    } finally {
      expect(await proxy.stop()).toBe(0);
      await upstream.stop();
    }
  }, 180_000);
});
