// Checks scripts/e2e-hosted.ts (what the kind job runs) on this machine: its event check against the events the proxy really writes to stderr, and what it reports when something is missing.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { checkEvents, E2E_MESSAGE } from "../scripts/e2e-hosted.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { cleanEnv } from "./support/proxy-process.ts";

const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

/** The proxy's stderr (log lines and stderr: events) for one session: an echo call and an annotation. */
async function stderrOfASession(): Promise<string[]> {
  const transport = new StdioClientTransport({
    command: await binaryPath(),
    args: ["--", "node", EVERYTHING, "stdio"],
    env: cleanEnv({ BATON_EVENT_SINK: "stderr:" }),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const client = new Client({ name: "e2e-script-test", version: "1.0.0" });
  await client.connect(transport);
  await client.callTool({ name: "echo", arguments: { message: E2E_MESSAGE } });
  await client.callTool({ name: "baton_annotate", arguments: { intent: "check the checker", signal_type: "other" } });
  await client.close(); // the proxy flushes its sinks before it exits
  return stderr.split("\n");
}

describe("scripts/e2e-hosted.ts events", () => {
  test("accepts the events a real proxy session writes to stderr, among its log lines", async () => {
    const lines = await stderrOfASession();
    const result = checkEvents(lines);
    expect(result.problems).toEqual([]);
    expect(result.summary.tool_call_start).toBeGreaterThanOrEqual(1);
    expect(result.summary.annotation).toBe(1);
  });

  test("names every missing piece and every invalid event", async () => {
    const lines = await stderrOfASession();
    const withoutAnnotation = lines.filter((l) => !l.includes('"event_type":"annotation"'));
    expect(checkEvents(withoutAnnotation).problems).toEqual(["no annotation event"]);
    const withoutEnd = lines.filter((l) => !l.includes('"event_type":"tool_call_end"'));
    expect(checkEvents(withoutEnd).problems).toEqual(["no tool_call_end for the echo call"]);
    const broken = lines.map((l) => l.replace('"event_type":"tool_call_start"', '"event_type":"tool_call_start","schema_version":7'));
    expect(checkEvents(broken).problems.some((p) => p.startsWith("tool_call_start does not match the schema"))).toBe(true);
    expect(checkEvents(["baton-proxy: a log line", "{not json", ""]).problems).toEqual(["no tool_call_start for echo", "no tool_call_end for the echo call", "no annotation event"]);
  });
});
