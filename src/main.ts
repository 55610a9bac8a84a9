// Entry point of the baton-proxy binary: the only place that reads process.env/argv, touches real stdio, or exits.

import { fstatSync, statSync } from "node:fs";
import type { FileSink } from "bun";
import { resolveHomeDir } from "./command-context.ts";
import { EXIT } from "./exit-codes.ts";
import { run } from "./run.ts";

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** How long exit waits for stdout/stderr to take what was written (a reader that stopped reading cannot hold us). */
const EXIT_FLUSH_DEADLINE_MS = 1_000;

/**
 * Bun's FileSink over fd 1 or 2, created on first use: node's process.stdout/stderr streams cost
 * ~10 ms to set up, paid on every server launch. Writes never block; `write` returns a promise
 * while the pipe is full, which the stderr event sink uses to bound its backlog.
 */
function lazyOutput(open: () => FileSink) {
  let sink: FileSink | undefined;
  let pending: Promise<unknown> | undefined;
  return {
    sink: () => (sink ??= open()),
    /** Creates the writer now if it can (a failure is tried again at the first write). */
    open(): void {
      try {
        sink ??= open();
      } catch {
        // stderr closed or no descriptor left: the first write tries again
      }
    },
    write(text: string): Promise<unknown> | undefined {
      try {
        const out = (sink ??= open());
        const written = out.write(text);
        // A write the pipe takes later may fail later (EPIPE): handled, never an uncaught rejection.
        if (typeof written !== "number") written.catch(() => undefined);
        const flushed = out.flush();
        if (typeof flushed === "number") return undefined;
        pending = flushed.catch(() => undefined);
        return pending;
      } catch {
        return undefined; // the reader is gone (EPIPE): nothing useful to do with diagnostics
      }
    },
    settled: () => pending,
  };
}

async function main(): Promise<void> {
  const env = { ...process.env };
  const stdout = lazyOutput(() => Bun.stdout.writer());
  const stderr = lazyOutput(() => Bun.stderr.writer());
  // Made now, not at the first line: the writer takes a descriptor of its own, and a session that
  // runs out of them (ulimit -n, every socket of a burst kept alive) could then never say so.
  stderr.open();
  const code = await run(process.argv.slice(2), {
    env,
    stdout: (text) => void stdout.write(text),
    stderr: (text) => void stderr.write(text),
    writeStderrEvents: (text) => stderr.write(text),
    execPath: process.execPath,
    cwd: process.cwd(),
    platform: process.platform,
    // node:os costs milliseconds to load; only `wrap` needs a home directory, and HOME is nearly always set.
    get homeDir() {
      return resolveHomeDir(env, process.platform, () => (require("node:os") as typeof import("node:os")).homedir());
    },
    // Getters: only the proxy mode touches the real stdin stream.
    get stdin() {
      return Bun.stdin.stream();
    },
    get stdoutSink() {
      return stdout.sink();
    },
    now: () => performance.now(),
    isStdout(path) {
      try {
        const out = fstatSync(1);
        const file = statSync(path);
        return out.dev === file.dev && out.ino === file.ino;
      } catch {
        return false; // no such file (yet), or no stdout: not the same
      }
    },
    onSignal(handler) {
      for (const signal of SIGNALS) process.on(signal, handler);
      return () => {
        for (const signal of SIGNALS) process.off(signal, handler);
      };
    },
  });
  const outputs = [stdout.settled(), stderr.settled()].filter((p) => p !== undefined);
  if (outputs.length > 0) await Promise.race([Promise.all(outputs), Bun.sleep(EXIT_FLUSH_DEADLINE_MS)]);
  process.exit(code);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    // A bug of ours: say so on stderr (never stdout) and fail.
    process.stderr.write(
      `baton-proxy: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(EXIT.INTERNAL);
  });
}
