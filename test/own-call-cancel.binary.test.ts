// Black-box: a client's notifications/cancelled for a call of the proxy's own tool (answered by the proxy, never forwarded) does not reach the upstream, which never saw that id, through `serve` and `--url`; a cancellation of the upstream's own call still does.

import { afterEach, expect, test } from "bun:test";
import { startProxy } from "./support/proxy-process.ts";
import { waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

const VERSION = "2025-06-18";
const annotate = {
  jsonrpc: "2.0",
  id: 5,
  method: "tools/call",
  params: { name: "baton_annotate", arguments: { intent: "x" } },
};
const cancel = (id: number) => ({
  jsonrpc: "2.0",
  method: "notifications/cancelled",
  params: { requestId: id, reason: "stop" },
});

/** An upstream recording every message it is sent; a tools/call is answered at once. */
function upstream(seen: unknown[]): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      const body = (await request.json()) as { id?: number; method?: string };
      seen.push(body);
      if (body.id === undefined) return new Response(null, { status: 202 });
      const result =
        body.method === "initialize"
          ? { protocolVersion: VERSION, capabilities: { tools: {} }, serverInfo: { name: "u", version: "1" } }
          : { content: [] };
      return Response.json({ jsonrpc: "2.0", id: body.id, result }, { headers: { "mcp-session-id": "s1" } });
    },
  });
}

const cancels = (seen: unknown[]) =>
  seen
    .filter((m) => (m as { method?: string }).method === "notifications/cancelled")
    .map((m) => (m as any).params.requestId);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

test("serve: the cancellation of a baton_annotate call is accepted (202) and not forwarded", async () => {
  const seen: unknown[] = [];
  const server = upstream(seen);
  cleanup.push(async () => void server.stop(true));
  const proxy = await startServe(["--upstream", `http://127.0.0.1:${server.port}/mcp`]);
  cleanup.push(async () => void (await proxy.stop()));
  const post = (message: unknown, session?: string) =>
    fetch(proxy.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": VERSION,
        ...(session === undefined ? {} : { "mcp-session-id": session }),
      },
      body: JSON.stringify(message),
    });
  const params = { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: "raw", version: "1" } };
  const opened = await post({ jsonrpc: "2.0", id: 0, method: "initialize", params });
  const session = opened.headers.get("mcp-session-id") ?? undefined;
  await opened.text();
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).text();
  const answered = await post(annotate, session);
  expect(((await answered.json()) as any).result.content[0].text).toContain("Annotation recorded");
  const cancelled = await post(cancel(5), session);
  expect(cancelled.status).toBe(202);
  expect(await cancelled.text()).toBe("");
  // The upstream's own call: its cancellation goes on.
  await (
    await post({ jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "echo", arguments: {} } }, session)
  ).text();
  expect((await post(cancel(6), session)).status).toBe(202);
  await waitFor(() => cancels(seen).length > 0, "the upstream's cancellation");
  expect(cancels(seen)).toEqual([6]);
}, 30_000);

test("--url: the cancellation of a baton_annotate call is not POSTed", async () => {
  const seen: unknown[] = [];
  const server = upstream(seen);
  cleanup.push(async () => void server.stop(true));
  const proxy = await startProxy([], { args: ["--url", `http://127.0.0.1:${server.port}/mcp`] });
  cleanup.push(async () => {
    proxy.proc.kill();
    await proxy.proc.exited;
  });
  await proxy.request(0, "initialize", {
    protocolVersion: VERSION,
    capabilities: {},
    clientInfo: { name: "c", version: "1" },
  });
  proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  expect((await proxy.request(5, "tools/call", annotate.params)).result.content[0].text).toContain(
    "Annotation recorded",
  );
  proxy.send(cancel(5));
  await proxy.request(6, "tools/call", { name: "echo", arguments: {} });
  proxy.send(cancel(6));
  expect(await proxy.close()).toBe(0);
  expect(cancels(seen)).toEqual([6]);
}, 30_000);
