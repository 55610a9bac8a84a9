// Test helper for `serve`: starts upstream MCP servers on loopback (Node fixture, server-everything) and the proxy, and stops them all.

import { createServer } from "node:net";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { ROOT } from "./binary.ts";
import { trackProcess } from "./live-processes.ts";

export const HTTP_FIXTURE = resolve(ROOT, "test/fixtures/servers/http-sdk-server.mjs");
export const HTTP_V2_FIXTURE = resolve(ROOT, "test/fixtures/servers/http-v2-server.ts");
export const EVERYTHING = resolve(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");

export interface Upstream {
  readonly port: number;
  readonly url: string;
  readonly process: Subprocess;
  stop(): Promise<void>;
}

/** A free loopback port (for servers that cannot report the port they bound, like server-everything). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Reads a subprocess stream line by line until `match` returns a value. */
async function waitForLine<T>(
  stream: ReadableStream<Uint8Array>,
  match: (line: string) => T | undefined,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const found = match(line);
        if (found !== undefined) return found;
      }
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`${what} did not start (last output: ${buffer.slice(-300)})`);
}

function stopper(proc: Subprocess): () => Promise<void> {
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  // Stopped after the test even when an assertion fails first (an HTTP upstream would outlive the run).
  trackProcess(proc, stop);
  return stop;
}

/** The Node SDK v1 fixture (see http-sdk-server.mjs for its flags). */
export function startHttpFixture(args: readonly string[] = []): Promise<Upstream> {
  return startPortReportingFixture(["node", HTTP_FIXTURE, ...args], "http-sdk-server");
}

/** The SDK v2 dual-era HTTP fixture (bun), serving MCP on every path. */
export function startHttpV2Fixture(): Promise<Upstream> {
  return startPortReportingFixture(["bun", HTTP_V2_FIXTURE], "http-v2-server");
}

/** A fixture server that binds port 0 and prints `{"port": N}` on stdout once it listens. */
async function startPortReportingFixture(argv: readonly string[], name: string): Promise<Upstream> {
  const proc = Bun.spawn([...argv], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "inherit",
    env: { PATH: process.env.PATH ?? "" },
  });
  const stop = stopper(proc);
  const port = await waitForLine(
    proc.stdout as ReadableStream<Uint8Array>,
    (line) => (line.startsWith("{") ? (JSON.parse(line) as { port: number }).port : undefined),
    name,
  );
  return { port, url: `http://127.0.0.1:${port}/mcp`, process: proc, stop };
}

/** `@modelcontextprotocol/server-everything streamableHttp` on Node, on a free port. */
export async function startEverything(): Promise<Upstream> {
  const port = await freePort();
  const proc = Bun.spawn(["node", EVERYTHING, "streamableHttp"], {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", PORT: String(port) },
  });
  const stop = stopper(proc);
  await waitForLine(
    proc.stderr as ReadableStream<Uint8Array>,
    (line) => (line.includes("listening on port") ? true : undefined),
    "server-everything",
  );
  return { port, url: `http://127.0.0.1:${port}/mcp`, process: proc, stop };
}

/** Fetches fixture stats (requests seen on /mcp, aborted responses, last request headers). */
export async function fixtureStats(
  upstream: Upstream,
): Promise<{ mcpRequests: number; aborted: number; lastHeaders: Record<string, string>; lastBody: unknown }> {
  return (await (await fetch(`http://127.0.0.1:${upstream.port}/stats`)).json()) as never;
}

/**
 * Polls `check` until it returns true (conditions, never fixed sleeps). A check that throws is
 * "not yet" (e.g. the event file does not exist before the first flush); at the deadline its last
 * error is part of the failure, so a condition that can never hold still says why.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    await Bun.sleep(20);
  }
  throw new Error(
    `timed out waiting for ${what}${lastError === undefined ? "" : ` (last check failed: ${lastError instanceof Error ? lastError.message : String(lastError)})`}`,
  );
}

/**
 * POSTs `message` on an open MCP session as a 2025-11-25 client does (JSON or SSE accepted), with
 * `extra` request headers (a consent token, say) and an optional abort signal.
 */
export function postOnSession(
  url: string,
  sessionId: string,
  message: unknown,
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": sessionId,
      "mcp-protocol-version": "2025-11-25",
      ...extra,
    },
    body: JSON.stringify(message),
    signal,
  });
}
