// Black-box: with a short --drain-timeout-ms, a call whose answer is still streaming at the drain's deadline still gets its -32603 on a stream that ends cleanly (README, Hosted mode: SIGTERM), not a cut connection.

import { expect, test } from "bun:test";
import { readValidatedEvents } from "./support/events.ts";
import { startServe } from "./support/serve-process.ts";

const encoder = new TextEncoder();

test.each(["300", "400"])(
  "--drain-timeout-ms %s: a streaming call gets the shutdown error and a clean end",
  async (drainMs) => {
    // The upstream opens the call's event stream with a progress notification and never answers.
    const upstream = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      async fetch(request) {
        await request.text();
        const progress =
          '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}';
        return new Response(
          new ReadableStream<Uint8Array>({
            start: (controller) => controller.enqueue(encoder.encode(`event: message\ndata: ${progress}\n\n`)),
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      },
    });
    const proxy = await startServe([
      "--upstream",
      `http://127.0.0.1:${upstream.port}/mcp`,
      "--drain-timeout-ms",
      drainMs,
    ]);
    try {
      const response = await fetch(proxy.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-06-18",
        },
        body: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":1}}}',
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      proxy.process.kill("SIGTERM");
      const rest = await (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return "clean";
          text += new TextDecoder().decode(value);
        }
      })().catch((error: unknown) => `cut: ${error}`);
      expect(rest).toBe("clean");
      const answer = text
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => JSON.parse(line.slice(6)))
        .find((m) => m.id === 7);
      expect(answer?.error?.code).toBe(-32603);
      expect(await proxy.process.exited).toBe(0);
      const errors = readValidatedEvents(proxy.eventsFile).filter((e) => e.event_type === "tool_call_error");
      expect(errors.map((e) => e.payload.error_type)).toEqual(["proxy_shutdown"]);
    } finally {
      await proxy.stop();
      upstream.stop(true);
    }
  },
);
