// Black-box differential: one scripted SDK v1 session against server-everything, run directly and through the compiled proxy, every byte recorded on both sides of the proxy by a relay; the only differences allowed are the README's "What the proxy adds" ones, and the events must match what the wire carried.

import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { cleanEnv, tempDir } from "./support/proxy-process.ts";
import {
  differingSteps,
  everythingPromptSteps,
  everythingToolSteps,
  type Outcome,
  stepsInto,
} from "./support/session-steps.ts";

const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const TAP = join(ROOT, "test", "fixtures", "wire-tap.ts");
const SERVER = ["node", EVERYTHING, "stdio"];
const INJECTED = ["baton_annotate", "baton_session_report"];
const INTENT = ["user_goal", "expected_result"];

/** What the client saw of one step: its result, or the error's code and message. */

/** The scripted session: every kind of traffic server-everything offers, each step deterministic. */
async function drive(command: string, args: string[], env: Record<string, string>): Promise<Outcome[]> {
  const transport = new StdioClientTransport({ command, args, env, stderr: "ignore" });
  const client = new Client(
    { name: "differential-client", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: "assistant",
    model: "fake-model",
    stopReason: "endTurn",
    content: { type: "text", text: "FAKE ANSWER" },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///tmp/r", name: "r" }] }));
  const outcomes: Outcome[] = [];
  const step = stepsInto(outcomes);
  const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
  await client.connect(transport);
  await step("ping", () => client.ping());
  await step("tools", async () => (await client.listTools()).tools.map((t) => t.name));
  await everythingToolSteps(step, call, () => client.setLoggingLevel("debug"), {
    message: "stripped",
    user_goal: "say it",
    expected_result: "it",
  });
  await step("sum", () => call("get-sum", { a: 1.5, b: 40 }));
  await step("resources", () => client.listResources());
  await step("templates", () => client.listResourceTemplates());
  await step("read", () => client.readResource({ uri: "demo://resource/static/document/architecture.md" }));
  await step("read-missing", () => client.readResource({ uri: "demo://nope" }));
  await step("subscribe", () => client.subscribeResource({ uri: "demo://resource/static/document/architecture.md" }));
  await step("unsubscribe", () =>
    client.unsubscribeResource({ uri: "demo://resource/static/document/architecture.md" }),
  );
  await everythingPromptSteps(step, client);
  await step("concurrent", () => Promise.all([1, 2, 3].map((n) => call("get-sum", { a: n, b: n }))));
  // Cancelled at its first progress notification (no clock involved); the server keeps running it.
  await step("cancel", async () => {
    const abort = new AbortController();
    const args = { duration: 0.3, steps: 3 };
    const options = { signal: abort.signal, onprogress: () => abort.abort("enough") };
    return client.callTool({ name: "trigger-long-running-operation", arguments: args }, undefined, options);
  });
  await step("timeout", () =>
    client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.2, steps: 1 } }, undefined, {
      timeout: 20,
    }),
  );
  // Outlasts the cancelled run above, so its late progress notifications land inside the session.
  const progress: number[] = [];
  await step("progress", () =>
    client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 0.4, steps: 2 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    }),
  );
  // The SDK drops a progress notification that arrives in the same read as the answer, with or
  // without the proxy (a client race): only the first is sure to be seen.
  outcomes.push({ step: "progress-seen", value: progress[0] });
  await step("annotate", () =>
    call("baton_annotate", { intent: "compare", signal_type: "failure", tool_name: "echo" }),
  );
  await step("ping-again", () => client.ping());
  await client.close();
  return outcomes;
}

/** The complete lines each way in a relay's log, as text. */
function recorded(log: string): { c2s: string[]; s2c: string[] } {
  const text = { c2s: "", s2c: "" };
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (line === "") continue;
    const chunk = JSON.parse(line) as { d: "c2s" | "s2c"; b: string };
    text[chunk.d] += Buffer.from(chunk.b, "base64").toString("utf8");
  }
  const lines = (t: string) => t.split("\n").filter((l) => l !== "");
  return { c2s: lines(text.c2s), s2c: lines(text.s2c) };
}

type Recorded = ReturnType<typeof recorded>;

/** Client side `c` against server side `s` of the proxy: the server got every client line but our tools' calls, stripped of intent params only. */
function checkClientToServer(c: Recorded, s: Recorded): void {
  const forwarded = c.c2s.filter((l) => !isOurCall(l));
  expect(s.c2s.length).toBe(forwarded.length);
  for (const [i, line] of forwarded.entries()) {
    const m = parse(line);
    const args = m.params?.arguments;
    if (m.method === "tools/call" && INTENT.some((k) => args !== undefined && k in args)) {
      const stripped = structuredClone(m);
      for (const k of INTENT) delete stripped.params.arguments[k];
      expect(parse(s.c2s[i] ?? "")).toEqual(stripped);
    } else expect(s.c2s[i]).toBe(line);
  }
}

/**
 * The client got every server line in order, byte for byte, plus our answers; a line that differs is
 * a handshake with our paragraph or a tool list with our additions, and nothing else in it changed.
 * Returns how many lines were rewritten.
 */
function checkServerToClient(c: Recorded, s: Recorded): number {
  const ours = new Set(c.c2s.filter(isOurCall).map((l) => parse(l).id));
  // Our answers are responses with our calls' ids; a server request may reuse an id (its own id space).
  const theirs = c.s2c.filter((l) => {
    const m = parse(l);
    return "method" in m || !ours.has(m.id);
  });
  expect(c.s2c.length - theirs.length).toBe(ours.size);
  expect(theirs.length).toBe(s.s2c.length);
  let rewritten = 0;
  for (const [i, line] of theirs.entries()) {
    const own = s.s2c[i] ?? "";
    if (line === own) continue;
    rewritten++;
    const [got, sent] = [parse(line), parse(own)];
    if (Array.isArray(sent.result?.tools)) {
      const tools = got.result.tools as Record<string, any>[];
      expect(tools.slice(sent.result.tools.length).map((t) => t.name)).toEqual(INJECTED);
      for (const tool of tools.slice(0, sent.result.tools.length))
        for (const k of INTENT) delete tool.inputSchema.properties[k];
      got.result.tools = tools.slice(0, sent.result.tools.length);
      expect(got).toEqual(sent);
    } else {
      const own = sent.result?.instructions;
      expect(got.result.instructions).toBe(
        typeof own === "string" ? `${own.trimEnd()}\n\n${INSTRUCTIONS_SUFFIX}` : INSTRUCTIONS_SUFFIX,
      );
      const unchanged: Record<string, any> = { ...got, result: { ...got.result, instructions: own } };
      expect(unchanged).toEqual(sent);
    }
  }
  return rewritten;
}

const parse = (line: string): Record<string, any> => JSON.parse(line);
const isOurCall = (line: string): boolean => {
  const m = parse(line);
  return m.method === "tools/call" && INJECTED.includes(m.params?.name);
};
/** Wall-clock times server-everything writes into resource texts: the only bytes that differ between two runs. */
const timeless = (line: string): string => line.replace(/\d{1,2}:\d\d:\d\d [AP]M/g, "<time>");

/**
 * One run's lines with the ids of the server's own requests (and of the client's answers to them) replaced
 * by the request's method: server-everything sends roots/list and elicitation/create concurrently, so which
 * gets id 1 depends on its timing in each run, not on the proxy. Its roots exchanges are left out.
 */
function serverIdsNamed(run: Recorded): Recorded {
  const methods = new Map<string, string>();
  for (const line of run.s2c) {
    const m = parse(line);
    if (typeof m.method === "string" && "id" in m) methods.set(JSON.stringify(m.id), m.method);
  }
  const named = (line: string, requests: boolean): string => {
    const m = parse(line);
    const method = methods.get(JSON.stringify(m.id));
    if (method === undefined || "method" in m !== requests) return line;
    return JSON.stringify({ ...m, id: `<${method}>` });
  };
  // How many times it asks for the roots (on the handshake, again on the client's list_changed, or once
  // for both) depends on its timing too; each exchange is still checked within the run, through the proxy.
  const rootsTalk = (line: string): boolean => line.includes('"<roots/list>"') || line.includes("Roots updated: ");
  return {
    c2s: run.c2s.map((l) => named(l, false)).filter((l) => !rootsTalk(l)),
    s2c: run.s2c.map((l) => named(l, true)).filter((l) => !rootsTalk(l)),
  };
}

describe("differential: SDK v1 client ↔ server-everything, directly and through baton-proxy", () => {
  const dir = tempDir();
  const events = join(dir, "events.jsonl");
  const direct = join(dir, "direct.jsonl");
  const clientSide = join(dir, "client-side.jsonl");
  const serverSide = join(dir, "server-side.jsonl");
  let plain: Outcome[] = [];
  let proxied: Outcome[] = [];
  let d: ReturnType<typeof recorded>;
  let c: ReturnType<typeof recorded>;
  let s: ReturnType<typeof recorded>;

  beforeAll(async () => {
    const env = cleanEnv({ BATON_EVENT_SINK: `file://${events}` });
    plain = await drive(process.execPath, [TAP, direct, "--", ...SERVER], env);
    const proxy = await binaryPath();
    proxied = await drive(
      process.execPath,
      [TAP, clientSide, "--", proxy, "--", process.execPath, TAP, serverSide, "--", ...SERVER],
      env,
    );
    d = recorded(direct);
    c = recorded(clientSide);
    s = recorded(serverSide);
  });

  test("what the client sent reaches the server unchanged, but for our tools' calls (answered by the proxy) and intent params (stripped)", () => {
    checkClientToServer(c, s);
    // And the client, seeing the proxy, sent what it sends without it (same ids, same bytes): its requests
    // in the same order; its answers to the server's requests as they came (their order follows the server's timing).
    const [proxied, plain] = [serverIdsNamed(c), serverIdsNamed(d)];
    const requests = (run: Recorded) => run.c2s.filter((l) => "method" in parse(l));
    expect(requests(proxied)).toEqual(requests(plain));
    expect(proxied.c2s.toSorted()).toEqual(plain.c2s.toSorted());
  });

  test("what the server wrote reaches the client unchanged, but for the instructions paragraph, the tools/list additions and our answers", () => {
    expect(checkServerToClient(c, s)).toBe(2); // initialize and the one tools/list
    // The server said the same things with and without the proxy (its own late progress may interleave differently).
    const ours = new Set(c.c2s.filter(isOurCall).map((l) => parse(l).id));
    const direct = d.s2c.filter((l) => {
      const m = parse(l);
      return "method" in m || !ours.has(m.id);
    });
    const named = (lines: string[]) => serverIdsNamed({ c2s: [], s2c: lines }).s2c;
    expect(named(s.s2c).map(timeless).sort()).toEqual(named(direct).map(timeless).sort());
  });

  test("the client's view differs only where the proxy adds: the tool list and our tool's answer", () => {
    const differing = differingSteps(plain, proxied, timeless);
    expect(proxied.map((o) => o.step)).toEqual(plain.map((o) => o.step));
    expect(differing.filter((step) => !["tools", "annotate"].includes(step))).toEqual([]);
    expect(proxied.find((o) => o.step === "progress-seen")?.value).toBe(1);
  });

  test("events: one start and the right outcome per forwarded tools/call, a read/get event pair per resources/read and prompts/get", () => {
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    const calls = s.c2s.map(parse).filter((m) => m.method === "tools/call");
    const cancelled = new Set(
      s.c2s
        .map(parse)
        .filter((m) => m.method === "notifications/cancelled")
        .map((m) => m.params.requestId),
    );
    const answers = new Map(
      s.s2c
        .map(parse)
        .filter((m) => !("method" in m))
        .map((m) => [m.id, m]),
    );
    const starts = all.filter((e) => e.event_type === "tool_call_start");
    expect(starts.map((e) => e.payload.tool_name)).toEqual(calls.map((m) => m.params.name));
    for (const [i, start] of starts.entries()) {
      const request = calls[i] as Record<string, any>;
      expect(start.payload.params).toEqual(request.params.arguments);
      const outcome = all.find(
        (e) =>
          (e.event_type === "tool_call_end" || e.event_type === "tool_call_error") &&
          e.runtime_meta["baton/call_id"] === start.runtime_meta["baton/call_id"],
      );
      const answer = answers.get(request.id);
      const expected = cancelled.has(request.id)
        ? ["tool_call_error", "cancelled"]
        : answer?.error !== undefined
          ? ["tool_call_error", `jsonrpc_${answer.error.code}`]
          : answer?.result?.isError === true
            ? ["tool_call_error", "tool_error"]
            : ["tool_call_end", undefined];
      expect([outcome?.event_type, outcome?.payload.error_type]).toEqual(expected);
      // Plausible: the server slept 2 × 200 ms (Node timers may fire a few ms early, hence the margin).
      if (request.params.arguments.duration === 0.4) expect(outcome?.payload.duration_ms).toBeGreaterThanOrEqual(300);
    }
    const count = (method: string) => s.c2s.map(parse).filter((m) => m.method === method).length;
    const typed = (type: string) => all.filter((e) => e.event_type === type).length;
    expect(typed("resource_read_start")).toBe(count("resources/read"));
    expect(typed("resource_read_end") + typed("resource_read_error")).toBe(count("resources/read"));
    expect(typed("resource_read_error")).toBe(1);
    expect(typed("prompt_get_start")).toBe(count("prompts/get"));
    expect(typed("prompt_get_end") + typed("prompt_get_error")).toBe(count("prompts/get"));
    expect(typed("prompt_get_error")).toBe(1);
    expect(typed("resource_list_end")).toBe(count("resources/list"));
    expect(typed("prompt_list_end")).toBe(count("prompts/list"));
    const notes = all
      .filter((e) => e.event_type === "annotation")
      .map((e) => [e.payload.intent_source, e.payload.intent]);
    expect(notes).toEqual([
      ["injected_param", "say it"],
      ["baton_annotate", "compare"],
    ]);
    expect(typed("surface_snapshot")).toBe(1);
  });
});

describe("differential: SDK v2 client (stateless era) ↔ SDK v2 multi-round server, through baton-proxy", () => {
  test("both sides of the proxy differ only by our additions; one start and one end for the multi-round call", async () => {
    const { Client: V2Client } = await import("@modelcontextprotocol/client");
    const { StdioClientTransport: V2Transport } = await import("@modelcontextprotocol/client/stdio");
    const dir = tempDir();
    const events = join(dir, "events.jsonl");
    const [clientSide, serverSide] = [join(dir, "client-side.jsonl"), join(dir, "server-side.jsonl")];
    const server = [process.execPath, join(ROOT, "test", "fixtures", "servers", "sdk-v2-mrtr-server.ts")];
    const transport = new V2Transport({
      command: process.execPath,
      args: [TAP, clientSide, "--", await binaryPath(), "--", process.execPath, TAP, serverSide, "--", ...server],
      env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
      stderr: "ignore",
    });
    const client = new V2Client(
      { name: "differential-v2", version: "2.0.0" },
      { versionNegotiation: { mode: "auto" }, capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler("elicitation/create", async () => ({ action: "accept", content: { confirm: true } }));
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["deploy", ...INJECTED]);
      const deployed = await client.callTool({ name: "deploy", arguments: { env: "prod", user_goal: "ship it" } });
      expect(deployed.content).toEqual([{ type: "text", text: "deployed to prod" }]);
      await client.getPrompt({ name: "greet", arguments: { who: "Ann" } });
      await client.callTool({ name: "baton_annotate", arguments: { intent: "compare eras", signal_type: "failure" } });
    } finally {
      await client.close();
    }
    const [c, s] = [recorded(clientSide), recorded(serverSide)];
    checkClientToServer(c, s);
    // The tools/list: the client probed server/discover on a sibling process (whose relay log this one's start emptied).
    expect(checkServerToClient(c, s)).toBe(1);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(
      all
        .filter((e) => e.event_type.startsWith("tool_call_") || e.event_type.startsWith("prompt_get"))
        .map((e) => [e.event_type, e.payload.error_type ?? null, e.runtime_meta["baton/rounds"] ?? null]),
    ).toEqual([
      ["tool_call_start", null, null],
      ["tool_call_end", null, 2],
      ["prompt_get_start", null, null],
      ["prompt_get_end", null, null],
    ]);
  });
});
