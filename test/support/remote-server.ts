// Test helper: starts HTTP MCP servers on loopback (the SDK fixture, server-everything in streamableHttp mode) and stops them.

import { join } from "node:path";
import { ROOT } from "./binary.ts";
import { trackProcess } from "./live-processes.ts";
import { FIXTURES } from "./proxy-process.ts";

export interface RemoteServer {
  readonly url: string;
  readonly port: number;
  /** GET /control/stats of the SDK fixture. */
  stats(): Promise<Record<string, any>>;
  /** POST /control/<name> of the SDK fixture. */
  control(name: string): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/**
 * An HTTP fixture that prints {"port":N} once listening: by default the SDK v1 one
 * (remote-http-server.ts, `args` --oauth, --legacy-sse, --token-ttl N, --no-get, --json, --stateless);
 * `fixture` names another (modern-http: the SDK v2 dual-era handler, no control endpoints).
 */
export async function startRemoteFixture(args: readonly string[] = [], fixture = "remote-http"): Promise<RemoteServer> {
  const proc = Bun.spawn([process.execPath, join(FIXTURES, `${fixture}-server.ts`), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const stop = async (): Promise<void> => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  // Stopped after the test even when an assertion fails first (it ignores stdin: it would outlive the run).
  trackProcess(proc, stop);
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = setTimeout(() => proc.kill(), 15_000);
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the fixture exited before listening: ${await new Response(proc.stderr).text()}`);
    text += new TextDecoder().decode(value);
  }
  clearTimeout(deadline);
  reader.releaseLock();
  void proc.stdout.pipeTo(new WritableStream()).catch(() => undefined);
  void proc.stderr.pipeTo(new WritableStream()).catch(() => undefined);
  const port = (JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/mcp`,
    port,
    stats: async () => (await fetch(`${base}/control/stats`)).json() as Promise<Record<string, any>>,
    control: async (name) =>
      (await fetch(`${base}/control/${name}`, { method: "POST" })).json() as Promise<Record<string, any>>,
    stop,
  };
}

/** A port that was free a moment ago (server-everything takes its port from PORT, not 0). */
export function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port as number;
  server.stop(true);
  return port;
}

/** `@modelcontextprotocol/server-everything streamableHttp` under node, listening on 127.0.0.1 (it binds every interface; we only connect to loopback). */
export async function startEverythingHttp(): Promise<RemoteServer> {
  const port = freePort();
  const script = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
  const proc = Bun.spawn(["node", script, "streamableHttp"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", PORT: String(port) },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const stop = async (): Promise<void> => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  trackProcess(proc, stop);
  void proc.stdout.pipeTo(new WritableStream()).catch(() => undefined);
  const reader = proc.stderr.getReader();
  let text = "";
  while (!text.includes("listening on port")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server-everything exited: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  void proc.stderr.pipeTo(new WritableStream()).catch(() => undefined);
  const unsupported = () => Promise.reject(new Error("server-everything has no control endpoints"));
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    stats: unsupported,
    control: unsupported,
    stop,
  };
}
