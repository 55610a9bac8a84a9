// Black-box: SIGTERM while 60 calls are in flight on 10 sessions of real SDK clients (server-everything): long calls streaming progress, calls waiting on an elicitation, GET streams open.

import { describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { readValidatedEvents } from "./support/events.ts";
import { startEverything, waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const SESSIONS = 10;
const LONG_CALLS = 5;

describe("SIGTERM drain under load", () => {
  test("calls still in flight at the drain timeout (streaming, or waiting on an elicitation) each fail at once with the proxy's shutdown error; no new session; every call's events once; exit 0", async () => {
    const upstream = await startEverything();
    const proxy = await startServe(["--upstream", upstream.url, "--drain-timeout-ms", "1000"]);
    const clients: Client[] = [];
    try {
      const elicited: number[] = [];
      const outcomes: Promise<string>[] = [];
      for (let s = 0; s < SESSIONS; s++) {
        const client = new Client({ name: `load-${s}`, version: "1" }, { capabilities: { elicitation: {} } });
        // The person never answers: the call waits on the elicitation when the drain ends.
        client.setRequestHandler(ElicitRequestSchema, () => {
          elicited.push(s);
          return new Promise(() => undefined);
        });
        await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
        clients.push(client);
        await client.listTools();
        // The SDK's own timeout stands for "waited on": a call the proxy leaves hanging fails with it, not with the proxy's error.
        const options = { timeout: 20_000, onprogress: () => undefined };
        const outcome = (call: Promise<unknown>) =>
          call.then(
            () => "answered",
            (error: unknown) => String(error),
          );
        for (let c = 0; c < LONG_CALLS; c++)
          outcomes.push(
            outcome(
              client.callTool(
                { name: "trigger-long-running-operation", arguments: { duration: 30, steps: 30 } },
                undefined,
                options,
              ),
            ),
          );
        outcomes.push(
          outcome(client.callTool({ name: "trigger-elicitation-request", arguments: {} }, undefined, options)),
        );
      }
      await waitFor(() => elicited.length === SESSIONS, "every elicitation to reach its client");
      proxy.process.kill("SIGTERM");
      await waitFor(async () => (await fetch(`${proxy.adminUrl}/readyz`)).status === 503, "readiness to turn 503");
      const late = await fetch(proxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "late", version: "1" } },
        }),
      });
      expect(late.status).toBe(503);
      const settled = await Promise.all(outcomes);
      expect(settled).toHaveLength(SESSIONS * (LONG_CALLS + 1));
      for (const outcome of settled) expect(outcome).toContain("the proxy is shutting down");
      expect(await proxy.process.exited).toBe(0);
      const events = readValidatedEvents(proxy.eventsFile);
      const ends = new Map<string, string[]>();
      for (const event of events.filter((e) => String(e.event_type).startsWith("tool_call"))) {
        const call = `${event.session_id}/${event.runtime_meta?.["baton/call_id"]}`;
        ends.set(call, [...(ends.get(call) ?? []), `${event.event_type} ${event.payload.error_type ?? ""}`.trim()]);
      }
      expect(ends.size).toBe(SESSIONS * (LONG_CALLS + 1));
      for (const calls of ends.values()) expect(calls).toEqual(["tool_call_start", "tool_call_error proxy_shutdown"]);
    } finally {
      for (const client of clients) await client.close().catch(() => undefined);
      await proxy.stop();
      await upstream.stop();
    }
  }, 60_000);
});
