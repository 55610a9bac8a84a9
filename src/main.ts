// Entry point of the baton-proxy binary: the only place that reads process.env/argv, touches real stdio, or exits.

import { homedir } from "node:os";
import { run } from "./run.ts";

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

async function main(): Promise<void> {
  const env = { ...process.env };
  const code = await run(process.argv.slice(2), {
    env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    execPath: process.execPath,
    cwd: process.cwd(),
    platform: process.platform,
    homeDir: env.HOME ?? env.USERPROFILE ?? homedir(),
    // Getters: only the proxy mode touches the real stdin/stdout streams.
    get stdin() {
      return Bun.stdin.stream();
    },
    get stdoutSink() {
      return Bun.stdout.writer();
    },
    now: () => performance.now(),
    onSignal(handler) {
      for (const signal of SIGNALS) process.on(signal, handler);
      return () => {
        for (const signal of SIGNALS) process.off(signal, handler);
      };
    },
  });
  process.exit(code);
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    // A bug of ours: say so on stderr (never stdout) and fail.
    process.stderr.write(`baton-proxy: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(70);
  });
}
