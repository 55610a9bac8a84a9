// Black-box: the official SDK v1 client drives server-everything through the compiled proxy (handshake, tools, progress, server→client requests, injected tools, events, shutdown).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { childPids } from "./support/processes.ts";
import { cleanEnv, eventually, isAlive, tempDir } from "./support/proxy-process.ts";
import { textOf } from "./support/tool-text.ts";

const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const CLIENT_NAME = "sdk-v1-everything-test";
const INJECTED = ["baton_annotate", "baton_session_report"];

describe("SDK v1 client → baton-proxy → server-everything", () => {
  const events = join(tempDir(), "events.jsonl");
  let client: Client;
  let transport: StdioClientTransport;
  let proxyPid = 0;
  let stderr = "";
  let listChanged = 0;
  const progress: { progress: number; total?: number }[] = [];
  const samplingRequests: unknown[] = [];
  /** Calls forwarded to the server (not injected ones), in order: each must have a start and exactly one outcome. */
  const realCalls: string[] = [];

  beforeAll(async () => {
    transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--", "node", EVERYTHING, "stdio"],
      env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
      stderr: "pipe",
    });
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    client = new Client(
      { name: CLIENT_NAME, version: "0.0.1" },
      { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      samplingRequests.push(request.params);
      return {
        role: "assistant",
        model: "fake-model",
        stopReason: "endTurn",
        content: { type: "text", text: "FAKE LLM ANSWER" },
      };
    });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: [{ uri: "file:///tmp/baton-root", name: "baton-root" }],
    }));
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      listChanged++;
    });
    await client.connect(transport);
    proxyPid = transport.pid ?? 0;
  });

  afterAll(async () => {
    // Only if a test failed before the close test: never leave the proxy behind.
    if (proxyPid > 0 && isAlive(proxyPid)) await transport.close();
  });

  const names = async (): Promise<string[]> => (await client.listTools()).tools.map((t) => t.name);
  const count = (list: readonly string[], name: string): number => list.filter((n) => n === name).length;

  test("initialize: the server's instructions come first, the proxy's suffix after a blank line; serverInfo untouched", () => {
    const instructions = client.getInstructions() ?? "";
    expect(instructions.endsWith(`\n\n${INSTRUCTIONS_SUFFIX}`)).toBe(true);
    const own = instructions.slice(0, -INSTRUCTIONS_SUFFIX.length - 2);
    expect(own.trim().length).toBeGreaterThan(100); // server-everything's own (long) text, first and intact
    expect(own).not.toContain("baton");
    expect(client.getServerVersion()?.name).toBe("mcp-servers/everything");
    expect(client.getServerCapabilities()?.tools).toBeDefined();
  });

  test("tools/list: the server's tools plus baton_annotate and baton_session_report exactly once, also after list_changed", async () => {
    // server-everything registers its capability-dependent tools after `initialized` and announces them.
    await eventually(() => listChanged >= 1, 10_000, "a tools/list_changed notification");
    let listed: string[] = [];
    const deadline = Date.now() + 10_000;
    do {
      listed = await names();
    } while (!listed.includes("trigger-sampling-request") && Date.now() < deadline);
    for (const name of [
      "echo",
      "get-sum",
      "trigger-long-running-operation",
      "trigger-sampling-request",
      "trigger-elicitation-request",
      "get-roots-list",
    ]) {
      expect(listed).toContain(name);
    }
    for (const name of INJECTED) expect(count(listed, name)).toBe(1);
    expect(listed.slice(-2)).toEqual(INJECTED);
    const seen = listChanged;
    const again = await names();
    for (const name of INJECTED) expect(count(again, name)).toBe(1);
    expect(again.length).toBe(listed.length);
    expect(listChanged).toBeGreaterThanOrEqual(seen);
  });

  test("tools/list: the injected tools' schemas (annotate requires intent; report takes no arguments)", async () => {
    const { tools } = await client.listTools();
    const annotate = tools.find((t) => t.name === "baton_annotate");
    const report = tools.find((t) => t.name === "baton_session_report");
    expect(annotate?.inputSchema.required).toEqual(["intent"]);
    expect(Object.keys(annotate?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        "intent",
        "expected_outcome",
        "workflow",
        "signal_type",
        "suggested_improvement",
        "context",
        "tool_name",
      ]),
    );
    expect(annotate?.description?.length ?? 0).toBeGreaterThan(40);
    expect(report?.inputSchema.type).toBe("object");
    expect(Object.keys(report?.inputSchema.properties ?? {})).toEqual([]);
  });

  test("echo and get-sum are answered by the server", async () => {
    realCalls.push("echo");
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "hello proxy" } }))).toBe(
      "Echo: hello proxy",
    );
    realCalls.push("get-sum");
    expect(textOf(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } }))).toContain("42");
  });

  test("trigger-long-running-operation: progress notifications reach the client's onprogress", async () => {
    realCalls.push("trigger-long-running-operation");
    const result = await client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
      undefined,
      {
        onprogress: (p) => progress.push(p),
      },
    );
    expect(textOf(result)).toContain("Long running operation completed");
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ progress: 1, total: 3 });
    expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
  });

  test("trigger-sampling-request: the server's sampling/createMessage round-trips through the client's handler", async () => {
    realCalls.push("trigger-sampling-request");
    const result = await client.callTool({
      name: "trigger-sampling-request",
      arguments: { prompt: "say hi", maxTokens: 20 },
    });
    expect(samplingRequests.length).toBe(1);
    expect(JSON.stringify(samplingRequests[0])).toContain("say hi");
    expect(textOf(result)).toContain("FAKE LLM ANSWER");
  });

  test("trigger-elicitation-request: the client's decline reaches the server", async () => {
    realCalls.push("trigger-elicitation-request");
    const result = await client.callTool({ name: "trigger-elicitation-request", arguments: {} });
    expect(textOf(result)).toContain("declined");
  });

  test("get-roots-list: the server sees the client's root", async () => {
    realCalls.push("get-roots-list");
    const result = await client.callTool({ name: "get-roots-list", arguments: {} });
    expect(textOf(result)).toContain("file:///tmp/baton-root");
  });

  test("an unknown tool: the server's isError result reaches the client unchanged", async () => {
    realCalls.push("no-such-tool");
    const result = await client.callTool({ name: "no-such-tool", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("no-such-tool");
  });

  test("baton_annotate with valid arguments: acknowledged by the proxy", async () => {
    const result = await client.callTool({
      name: "baton_annotate",
      arguments: {
        intent: "sum two numbers for the user",
        expected_outcome: "the sum",
        signal_type: "parameter_confusion",
        tool_name: "get-sum",
        suggested_improvement: "say a and b are numbers",
      },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain("Annotation recorded");
  });

  test("baton_annotate without intent and with an invented label: recorded, and the result says what was normalised", async () => {
    const result = await client.callTool({
      name: "baton_annotate",
      arguments: { signal_type: "confusing_error", tool_name: "get-sum" },
    });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('recorded as "other" with your label kept in context.signal_type_given');
    expect(textOf(result)).toContain('"intent" was missing');
  });

  test("baton_session_report: Markdown naming the calls made so far and the annotation", async () => {
    const result = await client.callTool({ name: "baton_session_report", arguments: {} });
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    expect(text).toMatch(/^#/m);
    expect(text).toContain("|"); // the per-tool table
    for (const name of new Set(realCalls)) expect(text).toContain(name);
    if (realCalls.length > 0) expect(text).toContain("sum two numbers for the user");
  });

  test("close: the transport closes, the proxy and the server exit; every event validates and pairs up", async () => {
    const server = childPids(proxyPid);
    expect(server.length).toBe(1); // node running server-everything (the listing is real on every OS the suite runs on)
    await transport.close();
    await eventually(() => !isAlive(proxyPid), 5000, "the proxy to exit");
    for (const pid of server) await eventually(() => !isAlive(pid), 2000, `the server (pid ${pid}) to exit`);
    expect(stderr).not.toMatch(/panic|uncaught|TypeError/i);

    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(new Set(all.map((e) => e.session_id)).size).toBe(1);
    for (const event of all) {
      expect(event.agent_runtime).toBe(CLIENT_NAME);
      expect(
        typeof event.runtime_meta?.["baton/call_id"] === "string" ||
          event.event_type === "annotation" ||
          event.event_type === "surface_snapshot",
      ).toBe(true);
      if ("duration_ms" in event.payload) expect(Number.isInteger(event.payload.duration_ms)).toBe(true);
    }
    const starts = all.filter((e) => e.event_type === "tool_call_start");
    expect(starts.map((e) => e.payload.tool_name)).toEqual(realCalls);
    expect(starts.find((e) => e.payload.tool_name === "get-sum")?.payload.params).toEqual({ a: 2, b: 40 });
    // Injected tools never produce call events.
    expect(all.some((e) => String(e.payload.tool_name).startsWith("baton_") && e.event_type !== "annotation")).toBe(
      false,
    );
    const outcome = (tool: string) =>
      all.find((e) => e.event_type !== "tool_call_start" && e.payload.tool_name === tool);
    for (const tool of realCalls.filter((t) => t !== "no-such-tool"))
      expect(outcome(tool)?.event_type).toBe("tool_call_end");
    if (realCalls.includes("no-such-tool")) {
      expect(outcome("no-such-tool")).toMatchObject({
        event_type: "tool_call_error",
        payload: { error_type: "tool_error" },
      });
      expect(outcome("no-such-tool")?.payload.error_body).toContain("no-such-tool");
    }
    const annotations = all.filter((e) => e.event_type === "annotation");
    expect(annotations.length).toBe(2);
    expect(annotations[0]?.payload).toMatchObject({
      intent: "sum two numbers for the user",
      signal_type: "parameter_confusion",
      tool_name: "get-sum",
      intent_source: "baton_annotate",
    });
    expect(annotations[1]?.payload).toMatchObject({
      intent: null,
      signal_type: "other",
      tool_name: "get-sum",
      context: { signal_type_given: "confusing_error" },
    });
  });
});
