// The stdio proxy's composition (runStdioProxy) at its edges: a stop signal may come at any moment of the run, from the server's start to the last event.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { runStdioProxy, type StdioProxyIo } from "../src/transport/stdio-proxy.ts";
import type { ByteSink, Upstream } from "../src/transport/upstream.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

const encoder = new TextEncoder();
const CALL = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {} } })}\n`;

/**
 * The process's signal table as the proxy sees it: `deliver` runs the registered handlers, and
 * says whether there were any (with none, the kernel's default action would have killed the proxy).
 */
function signalTable() {
  const handlers = new Set<(signal: NodeJS.Signals) => void>();
  return {
    onSignal(handler: (signal: NodeJS.Signals) => void): () => void {
      handlers.add(handler);
      return () => void handlers.delete(handler);
    },
    deliver(signal: NodeJS.Signals): boolean {
      for (const handler of [...handlers]) handler(signal);
      return handlers.size > 0;
    },
  };
}

/** A server that answers nothing and exits with 0 once its input is closed; it records the signals it gets. */
function silentServer() {
  const signals: NodeJS.Signals[] = [];
  let exit!: (code: number) => void;
  const sink: ByteSink = { write: (bytes) => bytes.length, flush: () => 0 };
  const upstream: Upstream = {
    input: sink,
    output: new ReadableStream<Uint8Array>({ start: () => undefined }),
    exited: new Promise<number>((resolve) => (exit = resolve)),
    describeExit: () => "exit code 0",
    close: () => exit(0),
    signal: (signal) => void signals.push(signal),
    release: async () => undefined,
  };
  return { upstream, signals };
}

function clientSending(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (text !== "") controller.enqueue(encoder.encode(text));
      controller.close();
    },
  });
}

function config() {
  const loaded = loadConfig({ BATON_EVENT_SINK: "file:/dev/null" });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  return loaded.config;
}

describe("stop signals at the edges of the run", () => {
  test("a signal right after the server is started is passed on to it (with no handler yet, it would kill the proxy and leave the server running)", async () => {
    const table = signalTable();
    const { upstream, signals } = silentServer();
    let handled: boolean | undefined;
    const io: StdioProxyIo = {
      stdin: clientSending(""),
      stdout: { write: (bytes) => bytes.length, flush: () => 0 },
      writeStderr: () => undefined,
      now: () => performance.now(),
      onSignal: table.onSignal,
    };
    const code = await runStdioProxy(config(), createMemoryLogger(), io, () => {
      // The server is running from here on (spawn returned): the host's SIGTERM lands now.
      handled = table.deliver("SIGTERM");
      return upstream;
    });
    expect(handled).toBe(true);
    expect(signals).toEqual(["SIGTERM"]);
    expect(code).toBe(0);
  });

  test("a signal while the last answers go to the client is logged, not fatal: the exit status stays the server's", async () => {
    const table = signalTable();
    const { upstream } = silentServer();
    const logger = createMemoryLogger();
    const handled: boolean[] = [];
    const written: string[] = [];
    const io: StdioProxyIo = {
      stdin: clientSending(CALL),
      stdout: {
        write: (bytes) => {
          written.push(new TextDecoder().decode(bytes));
          return bytes.length;
        },
        flush: () => {
          // The only answer the client gets is the -32603 for the call the server never answered:
          // it goes out once the server has exited, as the host's follow-up SIGTERM comes.
          handled.push(table.deliver("SIGTERM"));
          return 0;
        },
      },
      writeStderr: () => undefined,
      now: () => performance.now(),
      onSignal: table.onSignal,
    };
    const code = await runStdioProxy(config(), logger, io, () => upstream);
    expect(written.join("")).toContain('"code":-32603');
    expect(handled.length).toBeGreaterThan(0);
    expect(handled.every((any) => any)).toBe(true);
    expect(logger.lines.some((line) => line.includes("received SIGTERM while delivering the last events"))).toBe(true);
    expect(code).toBe(0);
  });
});
