// Runnable by tests (possibly inside a private network namespace): server-everything (streamableHttp) behind the binary run with given argv/env; probes, an MCP session, SIGTERM during a call; prints a JSON report.

import { spawn, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..", "..");
const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
const STEP_TIMEOUT_MS = 15_000;
const PROTOCOL_VERSION = "2025-06-18";
/** Seconds the call in flight at SIGTERM runs (well inside serve's 20 s drain). */
export const LONG_CALL_S = 2;

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
  /** The tools/call that was streaming when SIGTERM came: its status and whole body. */
  readonly inFlightStatus: number;
  readonly inFlightBody: string;
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
  const upstream = spawn("node", [EVERYTHING, "streamableHttp"], {
    env: { PATH: process.env.PATH ?? "", PORT: String(config.upstreamPort) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let proxy: ReturnType<typeof spawn> | undefined;
  let stderr = "";
  try {
    await waitFor("server-everything", async () =>
      (await fetch(`http://127.0.0.1:${config.upstreamPort}/mcp`, { method: "GET" })).status > 0 ? true : undefined,
    );
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
    // An MCP session through the listener, then a call still streaming when SIGTERM arrives.
    const mcpUrl = `${config.listenUrl}${config.mcpPath}`;
    const post = (body: unknown, session?: string): Promise<Response> =>
      fetch(mcpUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(session === undefined ? {} : { "mcp-session-id": session, "mcp-protocol-version": PROTOCOL_VERSION }),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
      });
    const init = await post({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "deploy-probe-test", version: "1.0.0" },
      },
    });
    const mcpBody = await init.text();
    const session = init.headers.get("mcp-session-id") ?? undefined;
    await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, session)).text();
    // With a progress token the upstream streams (SSE) from the first step on: fetch resolves on
    // those headers while the call still runs, and the body ends with the result.
    const longCall = await post(
      {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: {
          name: "trigger-long-running-operation",
          arguments: { duration: LONG_CALL_S, steps: LONG_CALL_S * 4 },
          _meta: { progressToken: "drain" },
        },
      },
      session,
    );

    proxy.kill("SIGTERM");
    // The kubelet's view of a draining pod: readiness leaves 200 at once, the admin listener still up.
    const readyAfterSigterm = await waitFor("readiness to leave 200 after SIGTERM", async () => {
      const status = await get(`${config.adminUrl}/readyz`)
        .then((r) => r.status)
        .catch(() => 0);
      return status === 200 ? undefined : status;
    }).catch(() => 200);
    const inFlightBody = await longCall.text().catch((error: unknown) => `(stream broken: ${String(error)})`);
    const exitCode = await Promise.race([exited, Bun.sleep(STEP_TIMEOUT_MS + 25_000).then(() => -1)]);
    return {
      probes,
      mcpStatus: init.status,
      mcpBody,
      readyAfterSigterm,
      inFlightStatus: longCall.status,
      inFlightBody,
      exitCode,
      stderr,
    };
  } catch (error) {
    return {
      probes: {},
      mcpStatus: 0,
      mcpBody: "",
      readyAfterSigterm: 0,
      inFlightStatus: 0,
      inFlightBody: "",
      exitCode: null,
      stderr,
      error: String(error),
    };
  } finally {
    if (proxy !== undefined && proxy.exitCode === null) proxy.kill("SIGKILL");
    upstream.kill("SIGKILL");
  }
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? "{}") as ProbeRunConfig;
  // Exit once the report is written: the race timers above must not keep this process alive.
  runProbes(config).then((report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
  });
}
