// serve with compressed request bodies (Content-Encoding) on the MCP path: what the upstream would accept directly, the proxy accepts too.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { brotliCompressSync, deflateSync, gzipSync, zstdCompressSync } from "node:zlib";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { waitFor } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const MAX_BODY = 4096;
const seen: { encoding: string | null; body: string }[] = [];
let upstream: ReturnType<typeof Bun.serve>;
let proxy: ServeHandle;

beforeAll(async () => {
  // A raw upstream that records what reached it and echoes the request's id.
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const body = await request.text();
      seen.push({ encoding: request.headers.get("content-encoding"), body });
      const id = (JSON.parse(body) as { id?: unknown }).id ?? null;
      return Response.json({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "ok" }] } });
    },
  });
  proxy = await startServe([
    "--upstream",
    `http://127.0.0.1:${upstream.port}/mcp`,
    "--max-body-bytes",
    String(MAX_BODY),
  ]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  upstream.stop(true);
});

const call = (id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { n: 1.0 } } });

function post(body: Uint8Array, encoding: string): Promise<Response> {
  return fetch(proxy.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "content-encoding": encoding,
    },
    body,
  });
}

describe("serve: compressed request bodies", () => {
  test("gzip, x-gzip, deflate, br and zstd bodies are decoded, answered, and reach the upstream decoded (no Content-Encoding)", async () => {
    const codings: [string, (b: Buffer) => Uint8Array][] = [
      ["gzip", gzipSync],
      ["x-gzip", gzipSync],
      ["deflate", deflateSync],
      ["br", brotliCompressSync],
      ["zstd", zstdCompressSync],
      ["gzip, br", (b) => brotliCompressSync(gzipSync(b))],
    ];
    for (const [index, [coding, encode]] of codings.entries()) {
      seen.length = 0;
      const response = await post(encode(Buffer.from(call(index + 1))), coding);
      expect({ coding, status: response.status }).toEqual({ coding, status: 200 });
      expect(((await response.json()) as { id: number }).id).toBe(index + 1);
      expect(seen).toEqual([{ encoding: null, body: call(index + 1) }]);
    }
    // Each decoded call is recorded like any other: a start and an end, schema-valid.
    let ends: Record<string, unknown>[] = [];
    await waitFor(() => {
      ends = readValidatedEvents(proxy.eventsFile).filter((e) => e.event_type === "tool_call_end");
      return ends.length === codings.length;
    }, "the calls' events");
    checkCallPairs(readValidatedEvents(proxy.eventsFile));
  });

  test("an unknown coding gets 415, a body that inflates past --max-body-bytes 413, a corrupt one 400; none reaches the upstream", async () => {
    seen.length = 0;
    expect((await post(Buffer.from(call(1)), "compress")).status).toBe(415);
    const bomb = gzipSync(Buffer.from(`${call(1).slice(0, -1)},"pad":"${" ".repeat(MAX_BODY)}"}`));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    expect((await post(bomb, "gzip")).status).toBe(413);
    const corrupt = await post(Buffer.from("not gzip"), "gzip");
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as { error: { code: number } }).error.code).toBe(-32700);
    expect(seen).toEqual([]);
  });

  test("identity passes as before", async () => {
    seen.length = 0;
    expect((await post(Buffer.from(call(9)), "identity")).status).toBe(200);
    expect(seen).toEqual([{ encoding: "identity", body: call(9) }]);
  });
});
