// Test helper: runs the compiled proxy in front of a command and talks raw newline-delimited JSON-RPC to it.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryPath, ROOT } from "./binary.ts";

export const FIXTURES = join(ROOT, "test", "fixtures", "servers");
/** The command line of a purpose-named fixture server (run by the same bun that runs the tests). */
export const fixture = (name: string): string[] => [process.execPath, join(FIXTURES, `${name}-server.ts`)];

/** A fresh temp directory for one test's event file and logs. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), "baton-test-"));

/** A clean environment: PATH and HOME only, plus what the test sets. Never the developer's BATON_* vars. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra };
}

export interface ProxyProcess {
  readonly proc: import("bun").Subprocess<"pipe", "pipe", "pipe">;
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

/** `separator: false` launches as hosts whose parsers eat `--` do: `baton-proxy [args] <command>`. */
export async function startProxy(command: readonly string[], options: { env?: Record<string, string>; args?: string[]; separator?: boolean } = {}): Promise<ProxyProcess> {
  const binary = await binaryPath();
  const proc = Bun.spawn([binary, ...(options.args ?? []), ...(options.separator === false ? [] : ["--"]), ...command], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: cleanEnv(options.env) });
  const lines: string[] = [];
  let stderrText = "";
  const waiters = new Set<() => void>();
  const wake = () => { for (const w of [...waiters]) w(); };
  (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) !== -1) {
        lines.push(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
      wake();
    }
    if (buffered !== "") lines.push(buffered);
    wake();
  })();
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      stderrText += decoder.decode(chunk, { stream: true });
      wake();
    }
  })();
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          waiters.delete(attempt);
          clearTimeout(timer);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(attempt);
        reject(new Error(`timed out waiting for ${what}\nstdout:\n${lines.join("\n").slice(-2000)}\nstderr:\n${stderrText.slice(-2000)}`));
      }, timeoutMs);
      waiters.add(attempt);
      attempt();
    });
  const consumed = new Set<number>();
  const handle: ProxyProcess = {
    proc,
    lines,
    send(message) {
      proc.stdin.write(typeof message === "string" || message instanceof Uint8Array ? message : `${JSON.stringify(message)}\n`);
      proc.stdin.flush();
    },
    next<T = Record<string, any>>(predicate: (message: any) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
      return until<T>(() => {
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
      }, timeoutMs, "a matching stdout line");
    },
    async request(id, method, params) {
      handle.send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
      return handle.next((m) => m && typeof m === "object" && m.id === id && !("method" in m));
    },
    stderr: () => stderrText,
    async waitForStderr(text, timeoutMs = 10_000) {
      await until(() => ((typeof text === "string" ? stderrText.includes(text) : text.test(stderrText)) ? true : undefined), timeoutMs, `stderr ${String(text)}`);
    },
    async close() {
      proc.stdin.end();
      return proc.exited;
    },
  };
  return handle;
}

export const INIT_PARAMS = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw-test-client", version: "1.0.0" } };

/** True while a process with this pid exists (and is not a zombie we could still reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); /proc tells it apart on Linux.
  try {
    const stat = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8") as string;
    return !/\) Z /.test(stat);
  } catch {
    return process.platform !== "linux";
  }
}

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
