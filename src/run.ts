// The program behind main.ts: dispatches the invocation and returns an exit code. Never calls process.exit.

import { appendFileSync } from "node:fs";
import type { FileSink } from "bun";
import { parseArgs, USAGE } from "./cli.ts";
import type { CommandContext } from "./command-context.ts";
import { loadConfig } from "./config.ts";
import { LocalError, describeError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { childEnvironment, spawnChild } from "./transport/child-process.ts";
import { runStdioProxy } from "./transport/stdio-proxy.ts";
import { VERSION } from "./version.ts";

/** Exit codes of our own (the proxy otherwise exits with the server's status). */
export const EXIT = { OK: 0, USAGE: 2, CONFIG: 78, NOT_EXECUTABLE: 126, NOT_FOUND: 127 } as const;

export interface RunIo extends CommandContext {
  /** Writes event lines to stderr; a returned promise means "still being written" (bounds the stderr sink's backlog). */
  readonly writeStderrEvents: (text: string) => unknown;
  readonly stdin: ReadableStream<Uint8Array>;
  readonly stdoutSink: FileSink;
  readonly now: () => number;
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

export async function run(argv: readonly string[], io: RunIo): Promise<number> {
  const invocation = parseArgs(argv);
  switch (invocation.kind) {
    case "help":
      io.stdout(USAGE);
      return EXIT.OK;
    case "version":
      io.stdout(`baton-proxy ${VERSION}\n`);
      return EXIT.OK;
    case "usage-error":
      io.stderr(`baton-proxy: ${invocation.reason}\n\n${USAGE}`);
      return EXIT.USAGE;
    // Subcommands load on demand: their modules (node:crypto among them) would otherwise add
    // tens of milliseconds to every proxy start, which hosts pay on each server launch.
    case "report": {
      const { runReportCommand } = await import("./report/report-command.ts");
      return runReportCommand(invocation.args, io);
    }
    case "wrap":
    case "unwrap": {
      const { runWrapCommand } = await import("./wrap/wrap-command.ts");
      return runWrapCommand(invocation.args, io, invocation.kind);
    }
    case "proxy":
      return runProxy(invocation.command, io);
  }
}

async function runProxy(command: readonly string[], io: RunIo): Promise<number> {
  const loaded = loadConfig(io.env);
  if (!loaded.ok) {
    const list = loaded.problems.map((p) => `  - ${p}`).join("\n");
    io.stderr(`baton-proxy: refusing to start, the configuration has ${loaded.problems.length} problem(s):\n${list}\nThe server was not started. See "baton-proxy --help" and the README's configuration table.\n`);
    return EXIT.CONFIG;
  }
  const config = loaded.config;
  const logFile = config.logFile;
  let teeBroken = false;
  const logger = createLogger((line) => {
    io.stderr(line);
    if (logFile === undefined || teeBroken) return;
    try {
      appendFileSync(logFile, line, { mode: 0o600 });
    } catch (error) {
      teeBroken = true;
      io.stderr(`baton-proxy: warn: cannot write the log file ${logFile}: ${describeError(error)}; logging to stderr only\n`);
    }
  }, config.secrets);
  for (const warning of config.warnings) logger.warn(warning);
  try {
    const stdio = { stdin: io.stdin, stdout: io.stdoutSink, writeStderr: io.writeStderrEvents, now: io.now, onSignal: io.onSignal };
    return await runStdioProxy(config, logger, stdio, () => spawnChild(command, childEnvironment(io.env)));
  } catch (error) {
    if (error instanceof LocalError && error.code === "E_SPAWN") {
      logger.error(error.message);
      const cause = error.cause as { code?: string } | undefined;
      return cause?.code === "ENOENT" ? EXIT.NOT_FOUND : EXIT.NOT_EXECUTABLE;
    }
    throw error;
  }
}
