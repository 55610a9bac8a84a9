// Test helper: runs the compiled `baton-proxy serve` on loopback port 0 and reports its MCP and admin URLs, log lines, events and exit code.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { binaryPath } from "./binary.ts";
import { trackProcess } from "./live-processes.ts";

export interface ServeHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp. */
  readonly url: string;
  readonly origin: string;
  readonly adminUrl: string;
  readonly process: Subprocess;
  /** The proxy's stderr lines so far (its log). */
  readonly log: string[];
  /** The file sink's path (when BATON_EVENT_SINK was not overridden). */
  readonly eventsFile: string;
  /** Events written so far to the file sink (parsed JSON lines). */
  events(): Record<string, unknown>[];
  /** Sends SIGTERM (drain) and waits for the exit code; removes the temp dir. */
  stop(): Promise<number>;
}

/**
 * Starts `baton-proxy serve` with listeners on port 0 and a file event sink in a temp dir; the
 * environment holds only PATH plus `env`. Resolves once both listeners are up.
 */
export async function startServe(
  args: readonly string[],
  env: Record<string, string> = {},
  /** Run under `ulimit -n` of this many descriptors (through sh, which execs the binary: same pid). */
  options: { readonly maxOpenFiles?: number } = {},
): Promise<ServeHandle> {
  const dir = mkdtempSync(join(tmpdir(), "baton-serve-"));
  const eventsFile = join(dir, "events.jsonl");
  // Loopback on free ports and a short drain (its SIGTERM floor is capped by it) unless the test
  // gives its own: serve refuses a flag given twice.
  const defaults = [
    ["--listen", "127.0.0.1:0"],
    ["--admin-listen", "127.0.0.1:0"],
    ["--drain-timeout-ms", "300"],
  ].flatMap(([flag, value]) => (args.includes(flag as string) ? [] : [flag as string, value as string]));
  const command = [await binaryPath(), "serve", ...defaults, ...args];
  const limited =
    options.maxOpenFiles === undefined ? [] : ["sh", "-c", `ulimit -n ${options.maxOpenFiles} && exec "$0" "$@"`];
  const proc = Bun.spawn([...limited, ...command], {
    env: { PATH: process.env.PATH ?? "", BATON_EVENT_SINK: `file://${eventsFile}`, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stop = async (): Promise<number> => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    const code = await Promise.race([proc.exited, Bun.sleep(25_000).then(() => -1)]);
    if (code === -1) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  // Stopped after the test even when an assertion fails first (serve ignores stdin: it would outlive the run).
  trackProcess(proc, stop);
  const log: string[] = [];
  let started!: (line: string) => void;
  const ready = new Promise<string>((resolve) => (started = resolve));
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        log.push(line);
        if (line.includes("serving MCP on")) started(line);
      }
    }
  })();
  const line = await Promise.race([
    ready,
    proc.exited.then(async (code) => {
      await Bun.sleep(50);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`serve exited with ${code}: ${log.join("\n")}`);
    }),
  ]);
  const match = /serving MCP on (http:\/\/[^ ]+) -> .* admin on (http:\/\/[^ ]+) /.exec(line);
  if (match === null) throw new Error(`unexpected start line: ${line}`);
  const url = match[1] as string;
  return {
    url,
    origin: new URL(url).origin,
    adminUrl: match[2] as string,
    process: proc,
    log,
    eventsFile,
    events: () => {
      let text = "";
      try {
        text = readFileSync(eventsFile, "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    stop,
  };
}
