// Black-box differential of `--url`: one scripted SDK v1 session against server-everything (streamableHttp), once as an HTTP client straight to the server and once as a stdio client of `baton-proxy --url`, a recording relay in front of the server; only the README's documented differences are allowed.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { binaryPath } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { cleanEnv, tempDir } from "./support/proxy-process.ts";
import { type RemoteServer, startEverythingHttp } from "./support/remote-server.ts";
import {
  differingSteps,
  everythingPromptSteps,
  everythingToolSteps,
  type Outcome,
  stepsInto,
} from "./support/session-steps.ts";

const INJECTED = ["baton_annotate", "baton_session_report"];
const DOC = "demo://resource/static/document/architecture.md";

/** One HTTP request as the server received it: the MCP headers that matter, and the body. */
type Received = { method: string; headers: Record<string, string>; body: string };

/** A relay in front of server-everything that records every request it passes on. */
function recordingRelay(upstream: string, received: Received[]) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: async (request) => {
      const body = request.method === "POST" ? await request.text() : "";
      const headers: Record<string, string> = {};
      for (const [k, v] of request.headers)
        if (/^(mcp-|accept$|content-type|user-agent|last-event-id)/.test(k)) headers[k] = v;
      received.push({ method: request.method, headers, body });
      const answer = await fetch(upstream, {
        method: request.method,
        headers: request.headers,
        body: body || undefined,
      });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  });
}

/** The scripted session; `seen` gets every notification and server request, as the client saw them. */
async function drive(
  transport: Transport,
  terminate: () => Promise<void>,
): Promise<{ out: Outcome[]; seen: string[] }> {
  const client = new Client(
    { name: "differential-url", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  const seen: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (r) => {
    seen.push(JSON.stringify(r));
    return { role: "assistant", model: "fake", stopReason: "endTurn", content: { type: "text", text: "FAKE" } };
  });
  client.setRequestHandler(ElicitRequestSchema, async (r) => {
    seen.push(JSON.stringify(r));
    return { action: "decline" };
  });
  client.setRequestHandler(ListRootsRequestSchema, async (r) => {
    seen.push(JSON.stringify(r));
    return { roots: [{ uri: "file:///tmp/r", name: "r" }] };
  });
  // A simulated log message has a random level: only its method is compared.
  client.fallbackNotificationHandler = async (n) => {
    seen.push(n.method === "notifications/message" ? n.method : JSON.stringify(n));
  };
  const arrived = async (what: string): Promise<void> => {
    while (!seen.some((s) => s.includes(what))) await Bun.sleep(10);
  };
  const out: Outcome[] = [];
  const step = stepsInto(out);
  const call = (name: string, args: Record<string, unknown>, options?: Record<string, unknown>) =>
    client.callTool({ name, arguments: args }, undefined, options);
  await client.connect(transport);
  await step("init", async () => ({ v: client.getServerVersion(), caps: client.getServerCapabilities() }));
  await step("ping", () => client.ping());
  await step("tools", async () => (await client.listTools()).tools.map((t) => t.name));
  await everythingToolSteps(step, call, () => client.setLoggingLevel("debug"), {
    message: "x",
    user_goal: "g",
    expected_result: "r",
  });
  await step("reference", () => call("get-resource-reference", { resourceType: "Text", resourceId: 1 }));
  // Both simulations send one notification at once, on the GET stream (no request to relate it to).
  await step("log-on", () => call("toggle-simulated-logging", {}));
  await arrived("notifications/message");
  await step("log-off", () => call("toggle-simulated-logging", {}));
  await step("subscribe", () => client.subscribeResource({ uri: DOC }));
  await step("updates-on", () => call("toggle-subscriber-updates", {}));
  await arrived("notifications/resources/updated");
  await step("updates-off", () => call("toggle-subscriber-updates", {}));
  await step("unsubscribe", () => client.unsubscribeResource({ uri: DOC }));
  await step("resources", () => client.listResources());
  await step("templates", () => client.listResourceTemplates());
  await step("read", () => client.readResource({ uri: DOC }));
  await step("read-missing", () => client.readResource({ uri: "demo://nope" }));
  await everythingPromptSteps(step, client);
  await step("concurrent", () => Promise.all([1, 2, 3, 4, 5].map((n) => call("get-sum", { a: n, b: n }))));
  await step("cancel", async () => {
    const abort = new AbortController();
    const options = { signal: abort.signal, onprogress: () => abort.abort("enough") };
    return call("trigger-long-running-operation", { duration: 0.3, steps: 3 }, options);
  });
  const progress: number[] = [];
  await step("progress", () =>
    call(
      "trigger-long-running-operation",
      { duration: 0.2, steps: 2 },
      { onprogress: (p: any) => progress.push(p.progress) },
    ),
  );
  // The SDK's stdio client drops a progress notification read together with the answer (a client race).
  out.push({ step: "progress-seen", value: progress[0] });
  await step("ping-again", () => client.ping());
  await terminate();
  await client.close();
  return { out, seen };
}

/** The server's view of a session, comparable across runs: session ids and the client's name and version masked. */
function normalised(received: Received[]): string[] {
  return received.map(({ method, headers, body }) => {
    const h = { ...headers, "user-agent": undefined, "mcp-session-id": headers["mcp-session-id"] && "SID" };
    return `${method} ${JSON.stringify(h)} ${body}`;
  });
}

const timeless = (text: string): string =>
  text.replace(/\d{1,2}:\d\d:\d\d [AP]M/g, "<time>").replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, "<uuid>");

describe("differential: SDK v1 client ↔ server-everything over HTTP, directly and through baton-proxy --url", () => {
  const dir = tempDir();
  const events = join(dir, "events.jsonl");
  let everything: RemoteServer;
  const direct: Received[] = [];
  const proxied: Received[] = [];
  let plain: Awaited<ReturnType<typeof drive>>;
  let through: Awaited<ReturnType<typeof drive>>;
  let origin = "";

  beforeAll(async () => {
    everything = await startEverythingHttp();
    const relayDirect = recordingRelay(everything.url, direct);
    const relayProxied = recordingRelay(everything.url, proxied);
    origin = `http://127.0.0.1:${relayProxied.port}`;
    try {
      const http = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${relayDirect.port}/mcp`));
      plain = await drive(http, () => http.terminateSession());
      const stdio = new StdioClientTransport({
        command: await binaryPath(),
        args: ["--url", `${origin}/mcp`],
        env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
        stderr: "ignore",
      });
      through = await drive(stdio, async () => {});
      // The proxy DELETEs the session as it exits, after the client closed its stdin.
      while (!proxied.some((r) => r.method === "DELETE")) await Bun.sleep(10);
    } finally {
      relayDirect.stop(true);
      relayProxied.stop(true);
    }
  });
  afterAll(async () => {
    await everything.stop();
  });

  test("the client's view differs only where the proxy adds: our tools in the list", () => {
    expect(through.out.map((o) => o.step)).toEqual(plain.out.map((o) => o.step));
    const differing = differingSteps(plain.out, through.out, timeless);
    expect(differing).toEqual(["tools"]);
    const [tools, ownTools] = [through.out[2]?.value, plain.out[2]?.value] as string[][];
    expect(tools).toEqual([...(ownTools ?? []), ...INJECTED]);
    expect(through.out.find((o) => o.step === "progress-seen")?.value).toBe(1);
  });

  test("the same notifications and server requests reach the client (log messages and resource updates from the GET stream too)", () => {
    expect(through.seen.map(timeless).sort()).toEqual(plain.seen.map(timeless).sort());
    expect(through.seen).toContain("notifications/message");
    expect(through.seen.some((s) => s.includes("notifications/resources/updated"))).toBe(true);
  });

  test("the server receives the same requests, headers and answers, intent params stripped, and a DELETE at the end", () => {
    const own = normalised(direct);
    const ours = normalised(proxied);
    const stripped = own.map((line) => line.replace(',"user_goal":"g","expected_result":"r"', ""));
    expect(ours.slice().sort()).toEqual(stripped.slice().sort());
    expect(ours[0]).toContain('"method":"initialize"');
    expect(ours.at(-1)).toStartWith("DELETE");
    expect(proxied.filter((r) => r.method === "GET")).toHaveLength(1);
    // Every request after the handshake names the session the server made, and the version it chose.
    const session = proxied[1]?.headers["mcp-session-id"];
    expect(session).toBeString();
    for (const r of proxied.slice(1)) {
      expect(r.headers["mcp-session-id"]).toBe(session as string);
      expect(r.headers["mcp-protocol-version"]).toBe("2025-11-25");
    }
    expect(new Set(proxied.map((r) => r.headers["user-agent"]))).toEqual(
      new Set([expect.stringMatching(/^baton-proxy\//)]),
    );
  });

  test("events: valid, one start and one end per forwarded call, every one naming the server by origin", () => {
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    const calls = proxied.filter((r) => r.body.includes('"method":"tools/call"'));
    expect(all.filter((e) => e.event_type === "tool_call_start")).toHaveLength(calls.length);
    expect(new Set(all.map((e) => e.runtime_meta["baton/server"]))).toEqual(new Set([origin]));
  });
});
