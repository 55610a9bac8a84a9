// Black-box: a client whose POST stream breaks resumes it with Last-Event-ID (server-everything keeps its events) and gets its answer there: the call ends with that answer, not as cancelled.

import { describe, expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { startEverything, waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

/** Reads `reader` until `text` holds `needle`; returns everything read. */
async function readUntil(
  reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> },
  needle: string,
): Promise<string> {
  let text = "";
  while (!text.includes(needle)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before ${needle}: ${text}`);
    text += new TextDecoder().decode(value);
  }
  return text;
}

describe("resumption", () => {
  test("a call whose stream the client drops, then resumes with Last-Event-ID to get its answer, ends with that answer (tool_call_end)", async () => {
    const upstream = await startEverything();
    const proxy = await startServe(["--upstream", upstream.url]);
    try {
      const init = await fetch(proxy.url, {
        method: "POST",
        headers: HEADERS,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "resumer", version: "1" } },
        }),
      });
      const session = { ...HEADERS, "mcp-session-id": init.headers.get("mcp-session-id") as string };
      await init.text();
      await (
        await fetch(proxy.url, {
          method: "POST",
          headers: session,
          body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
        })
      ).text();
      const dropped = new AbortController();
      const post = await fetch(proxy.url, {
        method: "POST",
        headers: session,
        signal: dropped.signal,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 5,
          method: "tools/call",
          params: {
            name: "trigger-long-running-operation",
            arguments: { duration: 1, steps: 4 },
            _meta: { progressToken: "p" },
          },
        }),
      });
      const seen = await readUntil(post.body!.getReader(), "notifications/progress");
      const lastId = [...seen.matchAll(/^id: (.+)$/gm)].at(-1)?.[1] as string;
      // The connection breaks (here: the client drops it) while the upstream goes on with the call.
      dropped.abort();
      // A resume that races the upstream's own notice of the break may be left waiting (the SDK server
      // then drops the stream's new route): the client resumes again, as SDK clients do; the answer is replayed.
      let answer = "";
      for (let attempt = 0; attempt < 10 && answer === ""; attempt++) {
        const resumed = await fetch(proxy.url, {
          headers: { ...session, accept: "text/event-stream", "last-event-id": lastId },
          signal: AbortSignal.timeout(2_000),
        });
        const reader = resumed.body!.getReader();
        answer = await readUntil(reader, '"result"').catch(() => "");
        await reader.cancel().catch(() => undefined);
      }
      expect(answer).toContain('"id":5');
      let calls: Record<string, any>[] = [];
      await waitFor(() => {
        calls = readValidatedEvents(proxy.eventsFile).filter((e) => String(e.event_type).startsWith("tool_call_"));
        return calls.length === 2;
      }, "the call's start and end");
      expect(calls.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
      // Counted once, as its event ends it, though the answer came on a GET stream (which asked nothing itself).
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^baton_tool_calls_total\{outcome="ok"\} 1$/m);
      expect(metrics).toMatch(/^mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call"\} 1$/m);
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  }, 30_000);
});
