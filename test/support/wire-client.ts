// Test harness core: spawns the compiled proxy (or any command) and talks newline-delimited JSON-RPC to it at the byte level.

import { binaryPath } from "./binary.ts";
import { cleanEnv } from "./temp.ts";
import { trackProcess } from "./live-processes.ts";

const NEWLINE = 0x0a;
/** Lines longer than this are never JSON-parsed when searching for a response (huge results). */
const MAX_PARSED_LINE_BYTES = 4 * 1024 * 1024;

export interface LaunchOptions {
  /** Variables on top of a clean environment (PATH and HOME only). */
  readonly env?: Record<string, string>;
  /** Proxy options before the server command. */
  readonly args?: readonly string[];
  /** `false` launches as hosts whose parsers eat `--` do: `baton-proxy [args] <command>`. */
  readonly separator?: boolean;
  readonly cwd?: string;
  /** Starts the proxy under `ulimit -n` this low (through bash, which execs it). */
  readonly fdLimit?: number;
}

/**
 * A raw client with byte-level control of reading: stdout is split into lines as Buffers (no
 * decoding, no quadratic re-scanning), reading can be paused to leave the proxy's stdout pipe
 * full, and a `consume` hook can check and discard lines as they arrive.
 */
export class WireClient {
  readonly proc: import("bun").Subprocess<"pipe", "pipe", "pipe">;
  /** Complete stdout lines (without their newline) not taken by `consume`. */
  readonly lines: Buffer[] = [];
  /** Called for each complete line; returning true drops it instead of keeping it in `lines`. */
  consume: (line: Buffer) => boolean = () => false;
  private stderrText = "";
  private partial: Buffer[] = [];
  private paused = false;
  private resumeReading: (() => void) | undefined;
  private readonly waiters = new Set<() => void>();
  readonly stdoutEnded: Promise<void>;

  constructor(proc: import("bun").Subprocess<"pipe", "pipe", "pipe">) {
    this.proc = proc;
    this.stdoutEnded = this.readStdout();
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stderr) {
        this.stderrText += decoder.decode(chunk, { stream: true });
        this.wake();
      }
    })();
  }

  /** Starts the compiled proxy in front of `command`. */
  static async start(command: readonly string[], options: LaunchOptions = {}): Promise<WireClient> {
    const argv = [
      await binaryPath(),
      ...(options.args ?? []),
      ...(options.separator === false ? [] : ["--"]),
      ...command,
    ];
    const limited =
      options.fdLimit === undefined
        ? argv
        : ["bash", "-c", `ulimit -n ${options.fdLimit} && exec "$@"`, "bash", ...argv];
    const proc = Bun.spawn(limited, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: cleanEnv(options.env),
      cwd: options.cwd,
    });
    // Stopped after the test even when an assertion fails before the test's own close (see live-processes.ts).
    trackProcess(proc, () => stopLeftBehind(proc));
    return new WireClient(proc);
  }

  private async readStdout(): Promise<void> {
    const reader = this.proc.stdout.getReader();
    for (;;) {
      if (this.paused) await new Promise<void>((resolve) => (this.resumeReading = resolve));
      const { value, done } = await reader.read();
      if (done) break;
      let start = 0;
      for (let nl = value.indexOf(NEWLINE); nl !== -1; nl = value.indexOf(NEWLINE, start)) {
        this.partial.push(Buffer.from(value.buffer, value.byteOffset + start, nl - start));
        const line = this.partial.length === 1 ? (this.partial[0] as Buffer) : Buffer.concat(this.partial);
        this.partial = [];
        if (!this.consume(line)) this.lines.push(line);
        start = nl + 1;
      }
      if (start < value.length)
        this.partial.push(Buffer.from(value.buffer, value.byteOffset + start, value.length - start));
      this.wake();
    }
    if (this.partial.length > 0) {
      const last = Buffer.concat(this.partial);
      if (!this.consume(last)) this.lines.push(last);
    }
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Bytes of a stdout line that has begun to arrive but not ended yet. */
  get partialBytes(): number {
    return this.partial.reduce((sum, piece) => sum + piece.length, 0);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeReading?.();
    this.resumeReading = undefined;
  }

  async write(data: string | Uint8Array): Promise<void> {
    this.proc.stdin.write(data);
    await this.proc.stdin.flush();
  }

  send(message: unknown): Promise<void> {
    return this.write(`${JSON.stringify(message)}\n`);
  }

  stderr(): string {
    return this.stderrText;
  }

  /** Waits until `check` returns a value (re-checked whenever output arrives). */
  until<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value === undefined) return;
        this.waiters.delete(attempt);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(attempt);
        reject(new Error(`timed out waiting for ${what}\nstderr:\n${this.stderrText.slice(-2000)}`));
      }, timeoutMs);
      this.waiters.add(attempt);
      attempt();
    });
  }

  /** The parsed response with this id, once it has arrived (kept lines only). */
  response(id: string | number, timeoutMs?: number): Promise<Record<string, any>> {
    return this.until(
      () => {
        for (const line of this.lines) {
          if (line.length > MAX_PARSED_LINE_BYTES) continue;
          try {
            const m = JSON.parse(line.toString("utf8"));
            if (m && m.id === id && !("method" in m)) return m as Record<string, any>;
          } catch {
            // not JSON
          }
        }
        return undefined;
      },
      `the response to ${JSON.stringify(id)}`,
      timeoutMs,
    );
  }

  async request(id: string | number, method: string, params?: unknown): Promise<Record<string, any>> {
    await this.send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    return this.response(id);
  }

  /** Closes stdin (resuming reading first) and waits for the exit code. */
  async close(): Promise<number> {
    this.resume();
    this.proc.stdin.end();
    return this.proc.exited;
  }
}

/**
 * Stops a proxy a test left running as a client leaving does (stdin closed: it stops its server
 * first), then with SIGTERM, then SIGKILL, a few seconds apart.
 */
async function stopLeftBehind(proc: import("bun").Subprocess<"pipe", "pipe", "pipe">): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    proc.stdin.end();
  } catch {
    // already closed by the test
  }
  for (const signal of [undefined, "SIGTERM", "SIGKILL"] as const) {
    if (signal !== undefined) proc.kill(signal);
    if (await Promise.race([proc.exited.then(() => true), Bun.sleep(3_000).then(() => false)])) return;
  }
}
