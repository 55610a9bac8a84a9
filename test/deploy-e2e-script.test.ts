// Checks scripts/e2e-hosted.ts (what the kind job runs) on this machine: the kind job's two steps against the real serve on loopback, its event check on a real session's stderr, and what it reports when something is missing.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { checkEvents, E2E_MESSAGE } from "../scripts/e2e-hosted.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { cleanEnv } from "./support/proxy-process.ts";
import { startEverything } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

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
    const broken = lines.map((l) =>
      l.replace('"event_type":"tool_call_start"', '"event_type":"tool_call_start","schema_version":7'),
    );
    expect(checkEvents(broken).problems.some((p) => p.startsWith("tool_call_start does not match the schema"))).toBe(
      true,
    );
    expect(checkEvents(["baton-proxy: a log line", "{not json", ""]).problems).toEqual([
      "no tool_call_start for echo",
      "no tool_call_end for the echo call",
      "no annotation event",
    ]);
  });
});

test("the kind job's steps against serve on loopback: client through the proxy, then events from its stderr", async () => {
  const upstream = await startEverything();
  const serve = await startServe(["--upstream", upstream.url], { BATON_EVENT_SINK: "stderr:" });
  const dir = mkdtempSync(join(tmpdir(), "baton-e2e-hosted-"));
  try {
    const script = join(ROOT, "scripts", "e2e-hosted.ts");
    const client = Bun.spawnSync([process.execPath, script, "client", "--url", serve.url], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(client.exitCode, client.stdout.toString() + client.stderr.toString()).toBe(0);
    expect(client.stdout.toString()).toContain(`echo -> Echo: ${E2E_MESSAGE}`);
    expect(await serve.stop()).toBe(0); // the drain flushes the stderr sink before exit
    const log = join(dir, "proxy.log");
    writeFileSync(log, `${serve.log.join("\n")}\n`);
    const events = Bun.spawnSync([process.execPath, script, "events", log], { stdout: "pipe", stderr: "pipe" });
    expect(events.exitCode, events.stdout.toString() + events.stderr.toString()).toBe(0);
    expect(events.stdout.toString()).toMatch(/events: \{.*"annotation":1/);
  } finally {
    if (serve.process.exitCode === null) serve.process.kill("SIGKILL");
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
