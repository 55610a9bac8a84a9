// Black-box: `--url` passes a tool result far over the inspection cap to stdout as one line, unchanged, while its memory stays bounded; the call still gets its end event and no error.

import { expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

const MiB = 1024 * 1024;
const PIECE = new Uint8Array(256 * 1024).fill(0x78); // "x"
const PIECES = 256; // 64 MiB of result text
const encode = (text: string) => new TextEncoder().encode(text);

function bigAnswer(id: number, sse: boolean): Response {
  const json = `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"`;
  const first = encode(sse ? `event: message\nid: ev-1\ndata: ${json}` : json);
  const last = encode(sse ? '"}]}}\n\n' : '"}]}}');
  let sent = -1;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const piece = sent === -1 ? first : sent < PIECES ? PIECE : sent === PIECES ? last : undefined;
        sent++;
        if (piece === undefined) controller.close();
        else controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
}

/** The proxy's peak resident memory so far (Linux: VmHWM). */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return Number(line?.[1]) * 1024;
}

test.each([
  ["JSON", "dump"],
  ["an SSE event", "dump-sse"],
])(
  "a 64 MiB tools/call answer as %s: one stdout line, every byte of it, the proxy's peak memory far below it, the call ended by it",
  async (_name, tool) => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id?: number; method: string; params?: { name?: string } };
        if (body.id === undefined) return new Response(null, { status: 202 });
        if (body.method === "tools/call") return bigAnswer(body.id, body.params?.name === "dump-sse");
        const result = {
          protocolVersion: "2025-06-18",
          capabilities: { tools: {} },
          serverInfo: { name: "big", version: "1" },
        };
        return Response.json({ jsonrpc: "2.0", id: body.id, result });
      },
    });
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    try {
      await proxy.request(0, "initialize", INIT_PARAMS);
      proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      const before = peakRss(proxy.proc.pid);
      const answer = await proxy.request(5, "tools/call", { name: tool, arguments: {} });
      expect(answer.result.content[0].text.length).toBe(PIECES * PIECE.length);
      // Held whole, the answer and its copies (body, line, parse) took several times its size; relayed ~35 MiB.
      expect(peakRss(proxy.proc.pid) - before).toBeLessThan(96 * MiB); // held whole: +455 MiB
      expect(proxy.lines.filter((line) => line.includes('"id":5')).length).toBe(1); // no error answer after it
      expect(await proxy.close()).toBe(0);
      const all = readValidatedEvents(events);
      checkCallPairs(all);
      const end = all.find((e) => e.event_type === "tool_call_end" && e.payload.tool_name === tool);
      expect(JSON.stringify(end?.payload.result)).toContain(
        "over the inspection limit; forwarded unchanged, not inspected",
      );
      expect(end?.runtime_meta["baton/truncated"]).toBe(1); // the placeholder is a cut, as in stdio and serve
      expect(all.some((e) => e.event_type === "tool_call_error")).toBe(false);
    } finally {
      proxy.proc.kill();
      await proxy.proc.exited;
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test.each([
  ["a JSON answer", false],
  ["an SSE event (no event id: no resuming)", true],
])(
  "%s over the cap that breaks midway: the call is recorded as failed with the connection's failure, not ended by the partial line",
  async (_name, sse) => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const body = (await request.json()) as { id?: number; method: string };
        if (body.id === undefined) return new Response(null, { status: 202 });
        if (body.method !== "tools/call") {
          const result = {
            protocolVersion: "2025-06-18",
            capabilities: { tools: {} },
            serverInfo: { name: "b", version: "1" },
          };
          return Response.json({ jsonrpc: "2.0", id: body.id, result });
        }
        // 12 MiB of the answer (past the 8 MiB cap: it is going out as its line), then the connection breaks.
        let sent = -1;
        const stream = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              sent++;
              if (sent === 0)
                controller.enqueue(
                  encode(
                    `${sse ? "event: message\ndata: " : ""}{"jsonrpc":"2.0","id":${body.id},"result":{"content":[{"type":"text","text":"`,
                  ),
                );
              else if (sent <= 48) controller.enqueue(PIECE);
              else controller.error(new Error("the server fell over"));
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(stream, { headers: { "content-type": sse ? "text/event-stream" : "application/json" } });
      },
    });
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const proxy = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    try {
      await proxy.request(0, "initialize", INIT_PARAMS);
      proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      const answer = await proxy.request(5, "tools/call", { name: "dump", arguments: {} });
      expect(answer.error.code).toBe(-32603);
      const failure = answer.error.data["baton/error_type"];
      expect(await proxy.close()).toBe(0);
      const all = readValidatedEvents(events);
      checkCallPairs(all);
      const ends = all.filter((e) => e.event_type === "tool_call_end" || e.event_type === "tool_call_error");
      expect(ends.map((e) => [e.event_type, e.payload.error_type])).toEqual([["tool_call_error", failure]]);
    } finally {
      proxy.proc.kill();
      await proxy.proc.exited;
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
