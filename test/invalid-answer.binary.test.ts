// Black-box: a server answer with neither result nor error (not JSON-RPC) reaches the client unchanged and ends its call at once, as a jsonrpc_invalid error.

import { afterEach, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { FIXTURES, type ProxyProcess, startProxy, tempDir } from "./support/proxy-process.ts";

let proxy: ProxyProcess | undefined;
let listener: Server | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  listener?.close();
  listener = undefined;
});

/** A server played through socket-relay-server.ts: every request is answered with `answer(id)`. */
async function playedServer(answer: (idText: string) => string): Promise<number> {
  listener = createServer((socket: Socket) => {
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString("utf8");
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const id = /"id":(\d+)/.exec(line)?.[1];
        if (id !== undefined && line.includes('"method"')) socket.write(`${answer(id)}\n`);
      }
    });
    socket.on("end", () => socket.end());
  });
  await new Promise<void>((resolve) => listener?.listen(0, "127.0.0.1", resolve));
  return (listener.address() as { port: number }).port;
}

test("the bytes go to the client as sent, and the call ends now, not after the 15-minute eviction", async () => {
  const port = await playedServer((id) => `{"jsonrpc":"2.0","id":${id},"outcome":"done"}`);
  const events = join(tempDir(), "events.jsonl");
  proxy = await startProxy([process.execPath, join(FIXTURES, "socket-relay-server.ts"), String(port)], {
    env: { BATON_EVENT_SINK: `file://${events}` },
  });
  proxy.send('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"t","arguments":{}}}\n');
  await proxy.next((m) => m?.id === 5);
  expect(proxy.lines).toContain('{"jsonrpc":"2.0","id":5,"outcome":"done"}');
  expect(await proxy.close()).toBe(0);
  proxy = undefined;
  const calls = readValidatedEvents(events).filter((e) => e.event_type.startsWith("tool_call_"));
  expect(calls.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_error"]);
  expect(calls[1]?.payload).toMatchObject({
    tool_name: "t",
    error_type: "jsonrpc_invalid",
    error_body: "the server's answer has neither result nor error (not JSON-RPC); forwarded unchanged",
  });
});
