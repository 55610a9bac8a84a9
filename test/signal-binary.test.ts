// Black-box: intent params, surface snapshots, resource/prompt events, user_id and multi-round calls through the compiled proxy, with real SDK clients and servers.

import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { hashUserId } from "../src/identity/user-id.ts";
import { canonicalHash, parseKeepingNumbers } from "../src/proxy/canonical-json.ts";
import { INTENT_PARAM_DESCRIPTIONS } from "../src/proxy/intent-params.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { cleanEnv, fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const dirs: string[] = [];
const eventsFile = (): string => {
  const dir = tempDir();
  dirs.push(dir);
  return join(dir, "events.jsonl");
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const textOf = (result: unknown): string =>
  ((result as { content?: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("\n");

describe("SDK v1 client → proxy → server-everything", () => {
  test("intent params listed and stripped, resources and prompts timed, one surface snapshot, hashed user_id; every event validates", async () => {
    const events = eventsFile();
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--", "node", EVERYTHING, "stdio"],
      env: cleanEnv({
        BATON_EVENT_SINK: `file://${events}`,
        BATON_TENANT_ID: "acme",
        BATON_PRINCIPAL: "U123",
        BATON_USER_ID_HMAC_KEY: "tenant-secret-key",
      }),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "signal-test", version: "1.0.0" }, { capabilities: {} });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      const echo = tools.find((t) => t.name === "echo");
      expect(echo?.inputSchema.properties?.user_goal).toEqual({
        type: "string",
        description: INTENT_PARAM_DESCRIPTIONS.user_goal,
      });
      expect(echo?.inputSchema.properties?.expected_result).toEqual({
        type: "string",
        description: INTENT_PARAM_DESCRIPTIONS.expected_result,
      });
      expect(echo?.inputSchema.required ?? []).not.toContain("user_goal");
      expect(tools.find((t) => t.name === "baton_annotate")?.inputSchema.properties?.user_goal).toBeUndefined();

      const said = await client.callTool({
        name: "echo",
        arguments: { message: "hi", user_goal: "greet the user", expected_result: "the greeting echoed" },
      });
      expect(textOf(said)).toContain("hi");

      const { resources } = await client.listResources();
      expect(resources.length).toBeGreaterThan(0);
      const first = resources[0]!;
      await client.readResource({ uri: first.uri });
      await expect(client.readResource({ uri: "demo://no/such/resource" })).rejects.toThrow();
      const { prompts } = await client.listPrompts();
      const simple = prompts.find((p) => (p.arguments ?? []).every((a) => !a.required))!;
      await client.getPrompt({ name: simple.name });
      await expect(client.getPrompt({ name: "no-such-prompt" })).rejects.toThrow();
    } finally {
      await client.close(); // never leave the proxy or server-everything running, even when an assertion failed
    }

    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(stderr).not.toContain("U123");
    const start = all.find((e) => e.event_type === "tool_call_start")!;
    expect(start.payload).toEqual({
      tool_name: "echo",
      params: { message: "hi" },
      call_intent: "greet the user",
      call_expected: "the greeting echoed",
      intent_source: "injected_param",
    });
    const note = all.find((e) => e.event_type === "annotation")!;
    expect(note.payload).toMatchObject({
      intent: "greet the user",
      expected_outcome: "the greeting echoed",
      intent_source: "injected_param",
      tool_name: "echo",
    });
    expect(note.sequence_number).toBeLessThan(start.sequence_number);
    const expectedUser = hashUserId({ id: "U123" }, "acme", "tenant-secret-key");
    for (const e of all.filter((e) => e.event_type.startsWith("tool_call_") || e.event_type === "annotation"))
      expect(e.user_id).toBe(expectedUser);

    const types = all.map((e) => e.event_type);
    for (const type of [
      "resource_list_start",
      "resource_list_end",
      "resource_read_start",
      "resource_read_end",
      "resource_read_error",
      "prompt_list_start",
      "prompt_list_end",
      "prompt_get_start",
      "prompt_get_end",
      "prompt_get_error",
    ])
      expect(types).toContain(type);
    const readError = all.find((e) => e.event_type === "resource_read_error")!;
    expect(readError.payload).toMatchObject({
      uri: "demo://no/such/resource",
      error_type: expect.stringMatching(/^jsonrpc_-?\d+$/),
    });
    expect(JSON.stringify(all.filter((e) => e.event_type.startsWith("resource_read_end")))).not.toContain("contents");

    const snapshots = all.filter((e) => e.event_type === "surface_snapshot");
    expect(snapshots.length).toBeGreaterThanOrEqual(1); // server-everything re-lists after list_changed: one per distinct surface
    expect(new Set(snapshots.map((s) => s.payload.surface_hash)).size).toBe(snapshots.length);
    const last = snapshots.at(-1)!.payload;
    expect(last.server_info.name).toBe("mcp-servers/everything");
    expect(last.tools.some((t: any) => t.inputSchema?.properties?.user_goal !== undefined)).toBe(false);
    // The stored event still hashes to its surface_hash (re-read from the file's text).
    const stored = (await Bun.file(events).text())
      .split("\n")
      .filter((l) => l.includes('"surface_snapshot"'))
      .map((l) => parseKeepingNumbers(l) as { payload: Record<string, unknown> });
    for (const { payload } of stored)
      expect(
        canonicalHash({
          server_info: payload.server_info,
          capabilities: payload.capabilities,
          instructions: payload.instructions,
          tools: payload.tools,
        }),
      ).toBe(payload.surface_hash as string);
  });
});

describe("raw wire against the fixture server", () => {
  test("stripping reaches the server; a tool's own user_goal is the tool's; without a key no user_id and one log line", async () => {
    const events = eventsFile();
    const p = await startProxy(fixture("echo"), {
      env: { BATON_EVENT_SINK: `file://${events}`, BATON_PRINCIPAL: "someone" },
    });
    await p.request(0, "initialize", INIT_PARAMS);
    const listed = await p.request(1, "tools/list", {});
    expect(listed.result.tools.find((t: any) => t.name === "goal").inputSchema.properties.user_goal).toEqual({
      type: "string",
    });
    const args = await p.request(2, "tools/call", {
      name: "args",
      arguments: { q: "x", user_goal: "see what arrives", expected_result: "only q" },
    });
    expect(JSON.parse(args.result.content[0].text)).toEqual({ q: "x" });
    const own = await p.request(3, "tools/call", { name: "goal", arguments: { user_goal: "vendor data" } });
    expect(own.result.content[0].text).toBe("goal=vendor data");
    expect(await p.close()).toBe(0);
    expect(p.stderr().match(/BATON_USER_ID_HMAC_KEY/g)).toHaveLength(1);
    expect(p.stderr()).not.toContain("someone");
    const all = readValidatedEvents(events);
    expect(all.every((e) => e.user_id === null)).toBe(true);
    const starts = all.filter((e) => e.event_type === "tool_call_start").map((e) => e.payload);
    expect(starts).toEqual([
      {
        tool_name: "args",
        params: { q: "x" },
        call_intent: "see what arrives",
        call_expected: "only q",
        intent_source: "injected_param",
      },
      { tool_name: "goal", params: { user_goal: "vendor data" } },
    ]);
  });

  test("BATON_INTENT_PARAM=off: the tool list and the call reach each side unchanged", async () => {
    const events = eventsFile();
    const p = await startProxy(fixture("echo"), {
      env: { BATON_EVENT_SINK: `file://${events}`, BATON_INTENT_PARAM: "off" },
    });
    await p.request(0, "initialize", INIT_PARAMS);
    const listed = await p.request(1, "tools/list", {});
    expect(
      listed.result.tools.some((t: any) => t.inputSchema?.properties?.user_goal !== undefined && t.name !== "goal"),
    ).toBe(false);
    const args = await p.request(2, "tools/call", { name: "args", arguments: { user_goal: "kept" } });
    expect(JSON.parse(args.result.content[0].text)).toEqual({ user_goal: "kept" });
    expect(await p.close()).toBe(0);
    const all = readValidatedEvents(events);
    expect(all.filter((e) => e.event_type === "annotation")).toHaveLength(0);
    expect(all.find((e) => e.event_type === "surface_snapshot")?.payload.seam_augmentations.intent_param).toBeNull();
  });

  test("multi-round and task calls: one start, one end from the completing round, rounds counted", async () => {
    const events = eventsFile();
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    let round = await p.request(1, "tools/call", { name: "book", arguments: {} });
    expect(round.result.resultType).toBe("input_required");
    round = await p.request(2, "tools/call", {
      name: "book",
      arguments: {},
      inputResponses: { seat: { action: "accept", content: { seat: "12A" } } },
      requestState: round.result.requestState,
    });
    round = await p.request(3, "tools/call", {
      name: "book",
      arguments: {},
      inputResponses: { meal: { action: "accept", content: {} } },
      requestState: round.result.requestState,
    });
    expect(round.result.content[0].text).toBe("booked after round-2");
    const task = await p.request(4, "tools/call", { name: "research", arguments: {}, task: { ttl: 60_000 } });
    await p.request(5, "tasks/get", { taskId: task.result.task.taskId });
    await p.request(6, "tasks/result", { taskId: task.result.task.taskId });
    expect(await p.close()).toBe(0);
    const all = readValidatedEvents(events).filter((e) => e.event_type.startsWith("tool_call_"));
    checkCallPairs(all);
    expect(all.map((e) => [e.event_type, e.payload.tool_name, e.runtime_meta["baton/rounds"] ?? null])).toEqual([
      ["tool_call_start", "book", null],
      ["tool_call_end", "book", 3],
      ["tool_call_start", "research", null],
      ["tool_call_end", "research", null],
    ]);
    expect(all[1]?.payload.result).toEqual([{ type: "text", text: "booked after round-2" }]);
    expect(all[3]?.payload.result).toEqual([{ type: "text", text: "result of task-4" }]);
  });
});

describe("SDK v2 client (2026-07-28) → proxy → SDK v2 server: multi-round calls", () => {
  test("input_required rounds driven by the SDK are one call: one start, the end from the completing round, rounds counted; prompts timed", async () => {
    const { Client } = await import("@modelcontextprotocol/client");
    const { StdioClientTransport: V2Transport } = await import("@modelcontextprotocol/client/stdio");
    const events = eventsFile();
    const transport = new V2Transport({
      command: await binaryPath(),
      args: ["--", ...fixture("sdk-v2-mrtr")],
      env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
      stderr: "pipe",
    });
    const client = new Client(
      { name: "sdk-v2-mrtr-client", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } }, capabilities: { elicitation: { form: {} } } },
    );
    let asked = 0;
    client.setRequestHandler("elicitation/create", async () => {
      asked++;
      return { action: "accept", content: { confirm: true } };
    });
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe("modern");
      const result = await client.callTool({
        name: "deploy",
        arguments: { env: "staging", user_goal: "ship the fix to staging" },
      });
      expect(textOf(result)).toBe("deployed to staging");
      expect(asked).toBe(1);
      const prompt = await client.getPrompt({ name: "greet", arguments: { who: "Ann" } });
      expect(prompt.messages).toHaveLength(1);
    } finally {
      await client.close();
    }

    const all = readValidatedEvents(events);
    const calls = all.filter((e) => e.event_type.startsWith("tool_call_"));
    checkCallPairs(calls);
    expect(calls.map((e) => [e.event_type, e.payload.tool_name, e.runtime_meta["baton/rounds"] ?? null])).toEqual([
      ["tool_call_start", "deploy", null],
      ["tool_call_end", "deploy", 2],
    ]);
    expect(calls[0]?.payload).toMatchObject({ params: { env: "staging" }, call_intent: "ship the fix to staging" });
    expect(
      all.filter((e) => e.event_type.startsWith("prompt_get_")).map((e) => [e.event_type, e.payload.name]),
    ).toEqual([
      ["prompt_get_start", "greet"],
      ["prompt_get_end", "greet"],
    ]);
  });
});
