// Black-box: both protocol eras through the compiled proxy — the SDK v2 client (legacy and auto modes) against an SDK v2 dual-era server, the raw modern wire, and a Claude-Code-like same-connection probe.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { pidsWithArgument } from "./support/processes.ts";
import {
  cleanEnv,
  eventually,
  fixture,
  INIT_PARAMS,
  isAlive,
  startProxy,
  tempDir,
  type ProxyProcess,
} from "./support/proxy-process.ts";
import { textOf } from "./support/tool-text.ts";

const MODERN_VERSION = "2026-07-28";
const INJECTED = ["baton_annotate", "baton_session_report"];
const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const withSuffix = (own: string): string => `${own}\n\n${INSTRUCTIONS_SUFFIX}`;

/** The per-request `_meta` envelope a modern (2026-07-28) client attaches to every request. */
const modernMeta = (clientName: string, extra: Record<string, unknown> = {}) => ({
  "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
  "io.modelcontextprotocol/clientInfo": { name: clientName, version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
  ...extra,
});

/** The raw stdout line that carried the response with this id (to check what the SDK would normalise away). */
const rawResponse = (p: ProxyProcess, id: string | number): string => {
  const line = p.lines.find((l) => {
    try {
      const m = JSON.parse(l);
      return m.id === id && !("method" in m);
    } catch {
      return false;
    }
  });
  if (line === undefined) throw new Error(`no response with id ${JSON.stringify(id)}`);
  return line;
};

describe("SDK v2 client → baton-proxy → SDK v2 dual-era server", () => {
  for (const mode of ["legacy", "auto"] as const) {
    test(`versionNegotiation ${mode}: era ${mode === "auto" ? "modern" : "legacy"}, instructions suffixed, injected tools listed and answered, events from clientInfo`, async () => {
      const events = join(tempDir(), "events.jsonl");
      // A unique argument on the server command line finds every server process this test started (the auto probe spawns a sibling proxy).
      const marker = `--test-marker=${crypto.randomUUID()}`;
      const clientName = `sdk-v2-${mode}-client`;
      const transport = new StdioClientTransport({
        command: await binaryPath(),
        args: ["--", ...fixture("sdk-v2"), marker],
        env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
        stderr: "pipe",
      });
      let stderr = "";
      transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const client = new Client(
        { name: clientName, version: "2.0.0" },
        mode === "auto" ? { versionNegotiation: { mode: "auto" } } : {},
      );
      await client.connect(transport);
      const proxyPid = transport.pid ?? 0;
      try {
        expect(client.getProtocolEra()).toBe(mode === "auto" ? "modern" : "legacy");
        expect(pidsWithArgument(marker).length).toBeGreaterThanOrEqual(1); // the marker check below is live
        expect(client.getInstructions()).toBe(withSuffix("demo instructions"));
        if (mode === "auto") {
          const discover = client.getDiscoverResult();
          expect(discover?.supportedVersions).toContain(MODERN_VERSION);
          expect(discover?.instructions).toBe(withSuffix("demo instructions"));
          expect(discover?.capabilities.tools).toBeDefined();
        }
        // Watch the wire under the SDK: it strips resultType from what callTool returns.
        const wire: Record<string, any>[] = [];
        const deliver = transport.onmessage;
        transport.onmessage = (message, ...rest) => {
          wire.push(message as Record<string, any>);
          (deliver as (...args: unknown[]) => void)(message, ...rest);
        };

        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(["add", "fail", ...INJECTED]);
        const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
        expect(textOf(sum)).toBe("5");
        expect(sum.structuredContent).toEqual({ sum: 5 });
        const failed = await client.callTool({ name: "fail", arguments: {} });
        expect(failed.isError).toBe(true);
        const ack = await client.callTool({
          name: "baton_annotate",
          arguments: { intent: `check the ${mode} era`, signal_type: "other" },
        });
        expect(ack.isError).toBeFalsy();
        expect(textOf(ack)).toContain("Annotation recorded");
        const refused = await client.callTool({ name: "baton_annotate", arguments: {} });
        expect(refused.isError).toBe(true);

        const results = wire.filter((m) => m.result !== undefined);
        const listed = results.find((m) => Array.isArray(m.result.tools));
        const annotateAnswers = results.filter(
          (m) =>
            textOf(m.result).includes("baton_annotate was not recorded") ||
            textOf(m.result).includes("Annotation recorded"),
        );
        expect(annotateAnswers.length).toBe(2);
        if (mode === "auto") {
          // Modern era: every result carries resultType, including the ones the proxy writes itself; list results keep their cache fields.
          for (const m of results) expect(m.result.resultType).toBe("complete");
          expect(listed?.result).toMatchObject({ ttlMs: 0, cacheScope: "private" });
        } else {
          for (const m of annotateAnswers) expect(m.result.resultType).toBeUndefined();
        }
      } finally {
        await client.close();
      }
      await eventually(() => !isAlive(proxyPid), 5000, "the proxy to exit");
      // Neither the session's server nor the probe sibling's is left running.
      await eventually(() => pidsWithArgument(marker).length === 0, 5000, "every server process of this test to exit");
      expect(stderr).not.toMatch(/panic|uncaught/i);

      const everything = readValidatedEvents(events);
      expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
      const all = everything.filter((e) => e.event_type !== "surface_snapshot");
      checkCallPairs(all);
      expect(new Set(all.map((e) => e.session_id)).size).toBe(1); // the probe sibling saw no calls
      expect(all.map((e) => [e.event_type, e.payload.tool_name])).toEqual([
        ["tool_call_start", "add"],
        ["tool_call_end", "add"],
        ["tool_call_start", "fail"],
        ["tool_call_error", "fail"],
        ["annotation", null],
      ]);
      for (const event of all) expect(event.agent_runtime).toBe(clientName);
      expect(all[3]?.payload).toMatchObject({ error_type: "tool_error", error_body: "fail failed on purpose" });
      expect(all[4]?.payload).toMatchObject({ intent: `check the ${mode} era`, signal_type: "other" });
      if (mode === "auto") {
        // The request's _meta block rides along for correlation.
        expect(all[0]?.runtime_meta?.["io.modelcontextprotocol/clientInfo"]).toMatchObject({ name: clientName });
      }
    });
  }
});

describe("raw modern wire (2026-07-28)", () => {
  test("modern fixture: server/discover gets the suffix and keeps its fields; tools/list and injected calls keep the modern shape; events from _meta", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("modern"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    const discover = await p.request("d-1", "server/discover", { _meta: modernMeta("modern-raw-client") });
    expect(discover.result).toEqual({
      supportedVersions: [MODERN_VERSION],
      capabilities: { tools: { listChanged: true } },
      instructions: withSuffix("Fixture modern instructions."),
      resultType: "complete",
      ttlMs: 0,
      cacheScope: "private",
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "fixture", version: "1.2.3" } },
    });

    const listed = await p.request(1, "tools/list", { _meta: modernMeta("modern-raw-client") });
    const names = listed.result.tools.map((t: { name: string }) => t.name);
    expect(names.slice(-2)).toEqual(INJECTED);
    expect(names.filter((n: string) => INJECTED.includes(n)).length).toBe(2);
    expect(names).toContain("echo");

    const echo = await p.request(2, "tools/call", {
      name: "echo",
      arguments: { text: "modern hello" },
      _meta: modernMeta("modern-raw-client", {
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      }),
    });
    expect(echo.result.content).toEqual([{ type: "text", text: "modern hello" }]);
    expect(rawResponse(p, 2)).toBe(
      JSON.stringify({ jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "modern hello" }] } }),
    ); // untouched bytes

    const ack = await p.request(3, "tools/call", {
      name: "baton_annotate",
      arguments: { intent: "try the modern era" },
      _meta: modernMeta("modern-raw-client"),
    });
    expect(ack.result.resultType).toBe("complete");
    expect(ack.result.isError).toBeUndefined();
    const refused = await p.request(4, "tools/call", {
      name: "baton_annotate",
      arguments: {},
      _meta: modernMeta("modern-raw-client"),
    });
    expect(refused.result).toMatchObject({ isError: true, resultType: "complete" });
    const report = await p.request(5, "tools/call", {
      name: "baton_session_report",
      arguments: {},
      _meta: modernMeta("modern-raw-client"),
    });
    expect(report.result.resultType).toBe("complete");
    expect(textOf(report.result)).toContain("echo");

    expect(await p.close()).toBe(0);
    const everything = readValidatedEvents(events);
    expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
    const all = everything.filter((e) => e.event_type !== "surface_snapshot");
    checkCallPairs(all);
    expect(all.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end", "annotation"]);
    for (const event of all) expect(event.agent_runtime).toBe("modern-raw-client");
    expect(all[0]?.runtime_meta).toMatchObject({
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    });
  });

  test("modern server without tools: the discover result gains capabilities.tools and instructions; tools/list is answered by the proxy with only its tools", async () => {
    const p = await startProxy(fixture("modern-toolless"), { env: { BATON_EVENT_SINK: "stderr:" } });
    const discover = await p.request("d-1", "server/discover", { _meta: modernMeta("modern-raw-client") });
    expect(discover.result.capabilities.tools).toEqual({});
    expect(discover.result.instructions).toBe(withSuffix("Fixture modern instructions."));
    expect(discover.result.resultType).toBe("complete");
    const listed = await p.request(1, "tools/list", { _meta: modernMeta("modern-raw-client") });
    expect(listed.error).toBeUndefined();
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual(INJECTED);
    expect(listed.result).toMatchObject({
      resultType: "complete",
      ttlMs: expect.any(Number),
      cacheScope: expect.any(String),
    });
    const ack = await p.request(2, "tools/call", {
      name: "baton_annotate",
      arguments: { intent: "annotate a toolless server" },
      _meta: modernMeta("modern-raw-client"),
    });
    expect(ack.result.resultType).toBe("complete");
    expect(await p.close()).toBe(0);
  });

  test("modern server without tools, SDK v2 client in auto mode (server/discover on a sibling process): tools/list on the session gets the proxy's tools, not the server's -32601", async () => {
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--", ...fixture("modern-toolless")],
      env: cleanEnv({ BATON_EVENT_SINK: "stderr:" }),
      stderr: "pipe",
    });
    const client = new Client(
      { name: "sdk-v2-auto-client", version: "2.0.0" },
      { versionNegotiation: { mode: "auto" } },
    );
    await client.connect(transport);
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getDiscoverResult()?.capabilities.tools).toBeDefined(); // what the probe's proxy advertised
      const listed = await client.listTools();
      expect(listed.tools.map((t) => t.name)).toEqual(INJECTED);
      const ack = await client.callTool({
        name: "baton_annotate",
        arguments: { intent: "annotate a toolless server" },
      });
      expect(ack.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  test("modern tools/list as a connection's first message, server without tools: answered with the proxy's tools in the modern shape; a later page's error passes", async () => {
    const p = await startProxy(fixture("modern-toolless"), { env: { BATON_EVENT_SINK: "stderr:" } });
    const listed = await p.request(1, "tools/list", { _meta: modernMeta("modern-raw-client") });
    expect(listed.error).toBeUndefined();
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual(INJECTED);
    expect(listed.result).toMatchObject({ resultType: "complete", ttlMs: 0, cacheScope: "private" });
    const paged = await p.request(2, "tools/list", { cursor: "c2", _meta: modernMeta("modern-raw-client") });
    expect(paged.error.code).toBe(-32601); // not the start of a listing: the server's answer stands
    expect(await p.close()).toBe(0);
  });

  test("legacy server without tools: initialize gains capabilities.tools and the suffix as its only instructions; tools/list answered by the proxy", async () => {
    const p = await startProxy(fixture("toolless"), { env: { BATON_EVENT_SINK: "stderr:" } });
    const init = await p.request(0, "initialize", INIT_PARAMS);
    expect(init.result.capabilities).toEqual({ logging: {}, tools: {} });
    expect(init.result.instructions).toBe(INSTRUCTIONS_SUFFIX);
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const listed = await p.request(1, "tools/list", {});
    expect(listed.error).toBeUndefined();
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual(INJECTED);
    expect(listed.result.resultType).toBeUndefined(); // legacy shape
    // The proxy's list has one page and hands out no cursor: a request with one is not the start of a listing,
    // and gets the server's answer (as in the modern era), not the first page again.
    const paged = await p.request(2, "tools/list", { cursor: "c2" });
    expect(paged.error.code).toBe(-32601);
    expect(await p.close()).toBe(0);
    await p.waitForStderr("declares no tools");
  });
});

describe("Claude-Code-like probe on the same connection", () => {
  const probe = {
    jsonrpc: "2.0",
    id: "server-discover-probe-1",
    method: "server/discover",
    params: {
      _meta: {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientInfo": { name: "claude-code", title: "Claude Code", version: "2.1.330" },
        "io.modelcontextprotocol/clientCapabilities": { roots: {}, elicitation: { form: {}, url: {} } },
      },
    },
  };
  const initParams = {
    protocolVersion: "2025-11-25",
    capabilities: { elicitation: { form: {}, url: {} } },
    clientInfo: { name: "claude-code", title: "Claude Code", version: "2.1.330" },
  };

  test("legacy fixture: the -32601 error comes back byte-for-byte, then initialize/tools/call work and events name claude-code", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    const error = await p.request(probe.id, probe.method, probe.params);
    expect(error.error.code).toBe(-32601);
    expect(rawResponse(p, probe.id)).toBe(
      JSON.stringify({ jsonrpc: "2.0", id: probe.id, error: { code: -32601, message: "Method not found" } }),
    );
    const init = await p.request(0, "initialize", initParams);
    expect(init.result.instructions).toBe(withSuffix("Fixture server instructions."));
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const listed = await p.request(1, "tools/list", {});
    expect(listed.result.tools.slice(-2).map((t: { name: string }) => t.name)).toEqual(INJECTED);
    const echo = await p.request(2, "tools/call", { name: "echo", arguments: { text: "after the probe" } });
    expect(echo.result.content[0].text).toBe("after the probe");
    expect(await p.close()).toBe(0);
    const everything = readValidatedEvents(events);
    expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
    const all = everything.filter((e) => e.event_type !== "surface_snapshot");
    checkCallPairs(all);
    expect(all.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
    for (const event of all) expect(event.agent_runtime).toBe("claude-code");
  });

  test("server-everything (a real SDK v1 server): the probe's error is relayed untouched, then the legacy session works", async () => {
    const p = await startProxy(["node", EVERYTHING, "stdio"], { env: { BATON_EVENT_SINK: "stderr:" } });
    const error = await p.request(probe.id, probe.method, probe.params);
    expect(error.error.code).toBe(-32601);
    expect(error.error.message).not.toContain("baton-proxy");
    const init = await p.request(0, "initialize", initParams);
    expect(init.result.serverInfo.name).toBe("mcp-servers/everything");
    expect(init.result.instructions.endsWith(`\n\n${INSTRUCTIONS_SUFFIX}`)).toBe(true);
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const sum = await p.request(1, "tools/call", { name: "get-sum", arguments: { a: 2, b: 40 } });
    expect(sum.result.content[0].text).toContain("42");
    expect(await p.close()).toBe(0);
  });
});
