// Unit: `--url` sends a last client line that came without its newline (the client closed its output right after it), as most stdio readers take it.

import { describe, expect, test } from "bun:test";
import { createTestUpstream } from "./support/remote-upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("--url: the client's last line without its newline", () => {
  test("is posted when the client's output ends, and its answer reaches the client", async () => {
    const posted: string[] = [];
    const fetch = (async (_url: unknown, init?: RequestInit) => {
      const headers = { "mcp-session-id": "s1" };
      if (init?.method !== "POST")
        return new Response(null, { status: init?.method === "DELETE" ? 200 : 405, headers });
      const text = decoder.decode(init?.body as Uint8Array);
      posted.push(text);
      const message = JSON.parse(text);
      if (message.id === undefined) return new Response(null, { status: 202, headers });
      const result =
        message.method === "initialize"
          ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } }
          : { content: [{ type: "text", text: "done" }] };
      return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers });
    }) as typeof globalThis.fetch;
    const upstream = createTestUpstream("http://127.0.0.1:9", fetch);
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } };
    const last = JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "echo", arguments: {} },
    });
    upstream.input.write(encoder.encode(`${JSON.stringify(initialize)}\n`));
    const output: string[] = [];
    const reader = upstream.output.getReader();
    output.push(decoder.decode((await reader.read()).value)); // the handshake is over, as a client waits for it
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    upstream.input.write(encoder.encode(last));
    upstream.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output.push(decoder.decode(value));
    }
    await upstream.release();
    expect(posted).toEqual([JSON.stringify(initialize), last]);
    const answers = output
      .join("")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l));
    expect(answers.map((m) => [m.id, m.result?.content?.[0]?.text ?? null])).toEqual([
      [1, null],
      [2, "done"],
    ]);
  });
});
