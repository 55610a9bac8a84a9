// Black-box: a call of the proxy's own tool is answered by the proxy, but on a session the upstream does not know it gets the upstream's own refusal, as any other call would.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { readValidatedEvents } from "./support/events.ts";
import { startHttpFixture, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};
const ANNOTATE = (id: number, note: string) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "baton_annotate", arguments: { intent: note } },
  });

let upstream: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await startHttpFixture();
  proxy = await startServe(["--upstream", upstream.url]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

/** The annotations recorded so far, by their note. */
function annotations(): string[] {
  return readValidatedEvents(proxy.eventsFile).flatMap((e) =>
    e.event_type === "annotation" ? [String((e.payload as Record<string, unknown>).intent)] : [],
  );
}

/** Records `marker` on a session opened through the proxy and waits for it: the events before it are in the file. */
async function recordedAfter(marker: string): Promise<string[]> {
  const client = new Client({ name: "marker", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
  try {
    await client.callTool({ name: "baton_annotate", arguments: { intent: marker } });
    await waitFor(() => annotations().includes(marker), "the marker annotation");
    return annotations();
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe("a call of the proxy's own tool", () => {
  test("with a session id the upstream does not know: the upstream's 404, and no annotation recorded", async () => {
    const response = await fetch(proxy.url, {
      method: "POST",
      headers: { ...HEADERS, "mcp-session-id": "nope" },
      body: ANNOTATE(4, "made-up session"),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ jsonrpc: "2.0", error: { message: "Session not found" } });
    expect(await recordedAfter("after made-up")).not.toContain("made-up session");
  });

  test("without a session id, on an upstream that requires one: the upstream's 400, and no annotation recorded", async () => {
    const response = await fetch(proxy.url, { method: "POST", headers: HEADERS, body: ANNOTATE(5, "no session") });
    expect(response.status).toBe(400);
    await response.text();
    expect(await recordedAfter("after none")).not.toContain("no session");
  });

  test("on a session another replica opened (the upstream knows it): answered and recorded", async () => {
    // The handshake goes to the upstream directly, as it would through another replica.
    const client = new Client({ name: "elsewhere", version: "1" });
    const transport = new StreamableHTTPClientTransport(new URL(upstream.url));
    await client.connect(transport);
    try {
      for (const [id, note] of [
        [6, "adopted session"],
        [7, "adopted again"],
      ] as const) {
        const response = await fetch(proxy.url, {
          method: "POST",
          headers: { ...HEADERS, "mcp-session-id": transport.sessionId as string },
          body: ANNOTATE(id, note),
        });
        expect(response.status).toBe(200);
        expect(await response.text()).toContain("Annotation recorded");
      }
      await waitFor(() => annotations().includes("adopted again"), "the annotations");
      expect(annotations().filter((note) => note.startsWith("adopted"))).toEqual(["adopted session", "adopted again"]);
    } finally {
      await client.close().catch(() => undefined);
    }
  });

  test("on a session opened through this proxy: answered and recorded", async () => {
    const client = new Client({ name: "here", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url)));
    try {
      const result = await client.callTool({ name: "baton_annotate", arguments: { intent: "own session" } });
      expect(JSON.stringify(result)).toContain("Annotation recorded");
      await waitFor(() => annotations().includes("own session"), "the annotation");
    } finally {
      await client.close().catch(() => undefined);
    }
  });
});
