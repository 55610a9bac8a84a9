// Runnable by tests (possibly inside a private network namespace): starts server-everything (streamableHttp), runs the binary with given argv/env in front of it, hits the admin probes and the MCP path, stops both, prints a JSON report.

import { spawn, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..", "..");
const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const STEP_TIMEOUT_MS = 15_000;

export interface ProbeRunConfig {
  /** Bring `lo` up first (a fresh network namespace has it down). */
  readonly netns: boolean;
  readonly binary: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly upstreamPort: number;
  /** Base URLs the proxy's listeners are reachable at, e.g. http://127.0.0.1:8080. */
  readonly listenUrl: string;
  readonly adminUrl: string;
  /** Path to send an MCP initialize to on the listener. */
  readonly mcpPath: string;
  readonly probePaths: readonly string[];
}

export interface ProbeRunReport {
  readonly probes: Record<string, { status: number; body: string }>;
  readonly mcpStatus: number;
  readonly mcpBody: string;
  /** First /readyz status other than 200 after SIGTERM (0: the admin listener was already closed). */
  readonly readyAfterSigterm: number;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly error?: string;
}

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const get = async (url: string): Promise<{ status: number; body: string }> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: response.status, body: await response.text() };
};

export async function runProbes(config: ProbeRunConfig): Promise<ProbeRunReport> {
  if (config.netns) {
    const up = spawnSync("ip", ["link", "set", "lo", "up"], { stdio: "pipe" });
    if (up.status !== 0) throw new Error(`ip link set lo up failed: ${up.stderr.toString()}`);
  }
  const upstream = spawn("node", [EVERYTHING, "streamableHttp"], { env: { PATH: process.env.PATH ?? "", PORT: String(config.upstreamPort) }, stdio: ["ignore", "ignore", "pipe"] });
  let proxy: ReturnType<typeof spawn> | undefined;
  let stderr = "";
  try {
    await waitFor("server-everything", async () => ((await fetch(`http://127.0.0.1:${config.upstreamPort}/mcp`, { method: "GET" })).status > 0 ? true : undefined));
    proxy = spawn(config.binary, [...config.argv], { env: { ...config.env }, stdio: ["ignore", "ignore", "pipe"] });
    proxy.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((done) => proxy?.once("exit", (code) => done(code)));

    const probes: Record<string, { status: number; body: string }> = {};
    for (const path of config.probePaths) {
      // Readiness needs the upstream to have answered once: wait for 200 like a kubelet would.
      probes[path] = await waitFor(`${path} = 200`, async () => {
        const result = await get(`${config.adminUrl}${path}`);
        return result.status === 200 ? result : undefined;
      });
    }
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "deploy-probe-test", version: "1.0.0" } } };
    const mcp = await fetch(`${config.listenUrl}${config.mcpPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(init),
      signal: AbortSignal.timeout(5000),
    });
    const mcpBody = await mcp.text();

    proxy.kill("SIGTERM");
    // The kubelet's view of a draining pod: readiness leaves 200 (503 while the admin listener is up).
    const readyAfterSigterm = await waitFor("readiness to leave 200 after SIGTERM", async () => {
      const status = await get(`${config.adminUrl}/readyz`).then((r) => r.status).catch(() => 0);
      return status === 200 ? undefined : status;
    }).catch(() => 200);
    const exitCode = await Promise.race([exited, Bun.sleep(STEP_TIMEOUT_MS + 25_000).then(() => -1)]);
    return { probes, mcpStatus: mcp.status, mcpBody, readyAfterSigterm, exitCode, stderr };
  } catch (error) {
    return { probes: {}, mcpStatus: 0, mcpBody: "", readyAfterSigterm: 0, exitCode: null, stderr, error: String(error) };
  } finally {
    if (proxy !== undefined && proxy.exitCode === null) proxy.kill("SIGKILL");
    upstream.kill("SIGKILL");
  }
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? "{}") as ProbeRunConfig;
  runProbes(config).then((report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });
}
