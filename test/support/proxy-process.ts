// Test harness: the compiled proxy in front of a command, talked to as text JSON-RPC (over wire-client.ts), plus one-shot runs and process checks.

import { join } from "node:path";
import { binaryPath, ROOT } from "./binary.ts";
import { isAlive } from "./processes.ts";
import { cleanEnv, tempDir } from "./temp.ts";
import { type LaunchOptions, WireClient } from "./wire-client.ts";

export { cleanEnv, isAlive, tempDir };

export const FIXTURES = join(ROOT, "test", "fixtures", "servers");
/** The command line of a purpose-named fixture server (run by the same bun that runs the tests). */
export const fixture = (name: string): string[] => [process.execPath, join(FIXTURES, `${name}-server.ts`)];

export interface ProxyProcess {
  readonly proc: import("bun").Subprocess<"pipe", "pipe", "pipe">;
  /** The byte-level client underneath (pause/resume reading, raw writes). */
  readonly wire: WireClient;
  /** Writes one message (object → JSON line) or a raw string/bytes as-is. */
  send(message: unknown): void;
  /** Waits until a line satisfying `predicate` arrives on stdout; returns it parsed (or raw text). */
  next<T = Record<string, any>>(predicate?: (message: any) => boolean, timeoutMs?: number): Promise<T>;
  /** Sends a request and waits for the response with the same id. */
  request(id: number | string, method: string, params?: unknown): Promise<Record<string, any>>;
  /** Every stdout line so far, raw text. */
  readonly lines: string[];
  /** stderr so far. */
  stderr(): string;
  /** Waits until stderr contains `text`. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Closes stdin and waits for the exit code. */
  close(): Promise<number>;
}

/** Starts dist/baton-proxy in front of `command` (a clean environment plus `env`). */
export async function startProxy(command: readonly string[], options: LaunchOptions = {}): Promise<ProxyProcess> {
  const wire = await WireClient.start(command, options);
  const lines: string[] = [];
  const decoder = new TextDecoder();
  // Text lines are all this interface offers: decode each once, keep no Buffer copy.
  wire.consume = (line) => {
    lines.push(decoder.decode(line));
    return true;
  };
  const consumed = new Set<number>();
  const handle: ProxyProcess = {
    proc: wire.proc,
    wire,
    lines,
    send(message) {
      void wire.write(
        typeof message === "string" || message instanceof Uint8Array ? message : `${JSON.stringify(message)}\n`,
      );
    },
    next<T = Record<string, any>>(predicate: (message: any) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
      return wire.until<T>(
        () => {
          for (let i = 0; i < lines.length; i++) {
            if (consumed.has(i)) continue;
            let parsed: unknown;
            try {
              parsed = JSON.parse(lines[i] as string);
            } catch {
              parsed = lines[i];
            }
            if (predicate(parsed)) {
              consumed.add(i);
              return parsed as T;
            }
          }
          return undefined;
        },
        `a matching stdout line\nstdout:\n${lines.join("\n").slice(-2000)}`,
        timeoutMs,
      );
    },
    async request(id, method, params) {
      handle.send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
      return handle.next((m) => m && typeof m === "object" && m.id === id && !("method" in m));
    },
    stderr: () => wire.stderr(),
    async waitForStderr(text, timeoutMs = 10_000) {
      const found = (): true | undefined =>
        (typeof text === "string" ? wire.stderr().includes(text) : text.test(wire.stderr())) ? true : undefined;
      await wire.until(found, `stderr ${String(text)}`, timeoutMs);
    },
    close: () => wire.close(),
  };
  return handle;
}

/**
 * Runs the compiled binary once with `args` (stdin closed) and collects its output. The
 * environment is `cleanEnv(env)`, or exactly `options.exactEnv` when a test needs to drop HOME too.
 */
export async function runBinary(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { cwd?: string; exactEnv?: Record<string, string> } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn([await binaryPath(), ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: options.cwd,
    env: options.exactEnv ?? cleanEnv(env),
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

export const INIT_PARAMS = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "raw-test-client", version: "1.0.0" },
};

/** Parses "fixture pid N" from the fixture's stderr banner. */
export function fixturePid(stderr: string): number {
  const match = stderr.match(/fixture pid (\d+)/);
  if (!match) throw new Error(`no fixture pid in stderr:\n${stderr}`);
  return Number(match[1]);
}

/** Waits (polling on an interval, bounded) until `condition` holds. For conditions with no event to wait on. */
export async function eventually(condition: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
