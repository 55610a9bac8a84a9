// Unit: `--url` at the client's EOF: lines that waited for the handshake's answer are still sent, as a server reading the same pipe would still read them (`baton-proxy --url … < requests.jsonl`).

import { describe, expect, test } from "bun:test";
import { createTestUpstream } from "./support/remote-upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("--url: the client leaves while its lines wait for the handshake", () => {
  test("they are posted once the handshake is answered, and their answers reach the client", async () => {
    const posted: string[] = [];
    const fetch = (async (_url: unknown, init?: RequestInit) => {
      const headers = { "mcp-session-id": "s1" };
      if (init?.method !== "POST")
        return new Response(null, { status: init?.method === "DELETE" ? 200 : 405, headers });
      const message = JSON.parse(decoder.decode(init?.body as Uint8Array));
      posted.push(message.method);
      if (message.id === undefined) return new Response(null, { status: 202, headers });
      if (message.method === "initialize") await new Promise((resolve) => setTimeout(resolve, 50)); // a real round trip
      const result =
        message.method === "initialize"
          ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } }
          : { content: [{ type: "text", text: "done" }] };
      return Response.json({ jsonrpc: "2.0", id: message.id, result }, { headers });
    }) as typeof globalThis.fetch;
    const upstream = createTestUpstream("http://127.0.0.1:9", fetch);
    const lines = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {} } },
    ];
    upstream.input.write(encoder.encode(lines.map((l) => `${JSON.stringify(l)}\n`).join("")));
    upstream.close(); // the client's EOF came right after its lines
    const output: string[] = [];
    const reader = upstream.output.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      output.push(decoder.decode(value));
    }
    await upstream.release();
    expect(posted).toEqual(["initialize", "notifications/initialized", "tools/call"]);
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
