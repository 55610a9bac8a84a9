// serve out of file descriptors (ulimit -n; clients holding connections): the log names the shortage, not a refusal by a healthy upstream.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { waitFor } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const MAX_OPEN_FILES = 64;
const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
});

/** Descriptors of `pid` that count against its limit (an inherited one numbered past it does not). */
const descriptors = (pid: number): number =>
  readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) < MAX_OPEN_FILES).length;

let upstream: ReturnType<typeof Bun.serve>;
let proxy: ServeHandle;
const held: Socket[] = [];

beforeAll(async () => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => Response.json({ jsonrpc: "2.0", id: 0, result: {} }),
  });
  proxy = await startServe(
    ["--upstream", `http://127.0.0.1:${upstream.port}/mcp`],
    {},
    { maxOpenFiles: MAX_OPEN_FILES },
  );
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await proxy?.stop();
  await upstream?.stop(true);
});

describe.skipIf(process.platform !== "linux")("serve with no file descriptor left", () => {
  test("a call that cannot reach the upstream for want of a descriptor gets 502, and the log says so (Bun calls it ECONNREFUSED)", async () => {
    const pid = proxy.process.pid;
    const { hostname, port } = new URL(proxy.url);
    // Client connections with half a request head each, until the proxy holds every descriptor it may.
    while (descriptors(pid) < MAX_OPEN_FILES) {
      const before = descriptors(pid);
      const socket = connect(Number(port), hostname);
      socket.on("error", () => {});
      socket.write("POST /mcp HTTP/1.1\r\nHost: x\r\n");
      held.push(socket);
      await waitFor(() => descriptors(pid) > before, "the proxy to accept the connection");
    }
    // One back: the next client's connection takes it, and the upstream connection finds none.
    held.pop()?.destroy();
    await waitFor(() => descriptors(pid) < MAX_OPEN_FILES, "the proxy to close the connection");
    const answer = await fetch(proxy.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: INIT,
    });
    expect(answer.status).toBe(502);
    await answer.arrayBuffer();
    const line = proxy.log.find((l) => l.includes("unreachable"));
    expect(line).toContain("out of file descriptors");
    expect(line).toContain("ulimit -n");
  }, 30_000);
});
