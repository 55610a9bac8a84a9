// bench:http's floors relay HTTP byte for byte: the C TCP relay and the Bun sockets relay, with keep-alive, concurrent connections and bodies larger than a socket takes at once. No timing asserts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { compileC } from "../scripts/bench-c.ts";
import { portOf, start } from "../scripts/bench-http.ts";
import { ROOT } from "./support/binary.ts";
import { tempDir } from "./support/temp.ts";

const dir = tempDir("baton-bench-floors-");
const BIG = 3 * 1024 * 1024;
const BIG_GET = 32 * 1024 * 1024;
let upstream: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  // Echoes the body back (its length and path in headers), and serves a large body on GET /big.
  upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      if (request.method === "GET") return new Response(new Uint8Array(BIG_GET).fill(0x61));
      const body = await request.bytes();
      return new Response(body, {
        headers: { "x-length": String(body.length), "x-path": new URL(request.url).pathname },
      });
    },
  });
});

afterAll(() => {
  upstream.stop(true);
});

/** Starts a floor as bench:http does; returns its base URL and a stop function. */
async function startRelay(command: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  const { proc, found } = await start(command, {}, "stdout", portOf);
  return {
    url: `http://127.0.0.1:${found}`,
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

async function expectRelays(url: string): Promise<void> {
  // Sequential requests on fetch's keep-alive connection.
  for (let i = 0; i < 20; i++) {
    const response = await fetch(`${url}/mcp/${i}`, { method: "POST", body: `request ${i}` });
    expect([await response.text(), response.headers.get("x-path")]).toEqual([`request ${i}`, `/mcp/${i}`]);
  }
  // Concurrent connections, and bodies both ways larger than a socket buffer.
  const large = new Uint8Array(BIG).map((_, i) => i % 251);
  const answers = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const response = await fetch(`${url}/mcp`, { method: "POST", body: i === 0 ? large : `concurrent ${i}` });
      return i === 0 ? Buffer.compare(Buffer.from(await response.bytes()), Buffer.from(large)) : await response.text();
    }),
  );
  expect(answers).toEqual([0, ...Array.from({ length: 7 }, (_, i) => `concurrent ${i + 1}`)]);
  // A reader slower than the upstream: the relay's socket to it fills, writes are partial.
  const reader = ((await fetch(`${url}/big`)).body as ReadableStream<Uint8Array>).getReader();
  let length = 0;
  let intact = true;
  for (let reads = 0; ; reads++) {
    const { value, done } = await reader.read();
    if (done) break;
    length += value.length;
    intact &&= value.every((b) => b === 0x61);
    if (reads < 20) await Bun.sleep(10);
  }
  expect([length, intact]).toEqual([BIG_GET, true]);
}

describe("bench:http floors relay HTTP unchanged", () => {
  test("the Bun sockets relay (scripts/bench-http-tcp.ts)", async () => {
    const relay = await startRelay([
      process.execPath,
      join(ROOT, "scripts", "bench-http-tcp.ts"),
      String(upstream.port),
    ]);
    try {
      await expectRelays(relay.url);
    } finally {
      await relay.stop();
    }
  });

  test.skipIf(Bun.which("cc") === null && Bun.which("gcc") === null && Bun.which("clang") === null)(
    "the C TCP relay (scripts/bench-tcp-relay.c, needs cc)",
    async () => {
      const built = await compileC(dir, "bench-tcp-relay.c", "C TCP relay");
      expect(built.note).toBeUndefined();
      const relay = await startRelay([built.path as string, String(upstream.port)]);
      try {
        await expectRelays(relay.url);
      } finally {
        await relay.stop();
      }
    },
  );

  test("without a C compiler the floor is skipped with a note, not an error", async () => {
    expect(await compileC(dir, "bench-tcp-relay.c", "C TCP relay", dir)).toEqual({
      note: "C TCP relay skipped: no C compiler (cc) on this machine",
    });
  });
});
