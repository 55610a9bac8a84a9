// The program behind main.ts: dispatches the invocation and returns an exit code. Never calls process.exit.

import type { FileSink } from "bun";
import { parseArgs, renderUsage } from "./cli.ts";
import type { OptionValue } from "./command-spec.ts";
import type { CommandContext } from "./command-context.ts";
import { runSubcommand, SUBCOMMANDS } from "./commands.ts";
import { closestName } from "./config-hints.ts";
import { describeConfigProblems, loadConfig } from "./config.ts";
import { LocalError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { createLogger } from "./log.ts";
import { logLineWriter } from "./log-file.ts";
import { childEnvironment, spawnChild } from "./transport/child-process.ts";
import { runStdioProxy } from "./transport/stdio-proxy.ts";
import { VERSION } from "./version.ts";

export interface RunIo extends CommandContext {
  /** Writes event lines to stderr; a returned promise means "still being written" (bounds the stderr sink's backlog). */
  readonly writeStderrEvents: (text: string) => unknown;
  readonly stdin: ReadableStream<Uint8Array>;
  readonly stdoutSink: FileSink;
  readonly now: () => number;
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** True when `path` names the file our stdout writes to (e.g. /dev/stdout when stdout is a pipe). */
  readonly isStdout: (path: string) => boolean;
}

export async function run(argv: readonly string[], io: RunIo): Promise<number> {
  const invocation = parseArgs(argv);
  switch (invocation.kind) {
    case "help":
      io.stdout(renderUsage());
      return EXIT.OK;
    case "version":
      io.stdout(`baton-proxy ${VERSION}\n`);
      return EXIT.OK;
    case "usage-error": {
      // Every problem at once: the configuration's too, so one fix-up run suffices. The usage error decides the status.
      const loaded = loadConfig(io.env);
      const also = loaded.ok ? "" : `baton-proxy: also, ${describeConfigProblems(loaded.problems)}\n`;
      io.stderr(`baton-proxy: ${invocation.reason}\n${also}\n${renderUsage()}`);
      return EXIT.USAGE;
    }
    // Subcommands load on demand (see src/commands.ts): their modules (node:crypto among them)
    // would otherwise add tens of milliseconds to every proxy start, paid on each server launch.
    case "subcommand":
      return runSubcommand(invocation.spec, invocation.args, io);
    case "proxy":
      return runProxy(invocation.command, invocation.options, io);
  }
}

async function runProxy(
  command: readonly string[],
  options: Readonly<Record<string, OptionValue>>,
  io: RunIo,
): Promise<number> {
  const remoteMode = typeof options.url === "string" || typeof options["url-env"] === "string";
  const loaded = loadConfig(io.env, { mode: remoteMode ? "url" : "stdio" });
  // --url/--url-env: the target is checked (and its ${NAME} references resolved) with the configuration, every problem at once.
  const remote = remoteMode ? (await import("./remote/remote-proxy.ts")).prepareRemote(options, io.env) : undefined;
  const problems = [
    ...(loaded.ok ? [] : loaded.problems),
    ...(remote === undefined || remote.ok ? [] : remote.problems),
  ];
  if (!loaded.ok || problems.length > 0) {
    io.stderr(
      `baton-proxy: refusing to start, ${describeConfigProblems(problems)}\nThe server was not started. See "baton-proxy --help" and the README's configuration table.\n`,
    );
    return EXIT.CONFIG;
  }
  const config = loaded.config;
  const target = remote?.ok === true ? remote.target : undefined;
  // Our stdout carries only MCP messages: a log file that is our stdout is not written at all.
  const logger = createLogger(logLineWriter(config.logFile, io.stderr, io.isStdout), [
    ...config.secrets,
    ...(target?.secrets ?? []),
  ]);
  for (const warning of config.warnings) logger.warn(warning);
  try {
    const stdio = {
      stdin: io.stdin,
      stdout: io.stdoutSink,
      writeStderr: io.writeStderrEvents,
      now: io.now,
      onSignal: io.onSignal,
    };
    if (target !== undefined) {
      const { openRemoteUpstream } = await import("./remote/remote-proxy.ts");
      return await runStdioProxy(
        config,
        logger,
        stdio,
        () => openRemoteUpstream(target, config, logger, io),
        target.origin,
      );
    }
    return await runStdioProxy(config, logger, stdio, () => spawnChild(command, childEnvironment(io.env)));
  } catch (error) {
    if (error instanceof LocalError && error.code === "E_SPAWN") {
      const cause = error.cause as { code?: string } | undefined;
      const notFound = cause?.code === "ENOENT";
      // `baton-proxy serv …`: a misspelt subcommand is taken for a server command; name the one meant.
      // `baton-proxy help` / `version`: the flags meant.
      const flag = command[0] === "help" ? "--help" : command[0] === "version" ? "--version" : undefined;
      const meant =
        notFound && command[0] !== undefined
          ? (flag ??
            closestName(
              command[0],
              SUBCOMMANDS.map((spec) => spec.name),
            ))
          : undefined;
      logger.error(meant === undefined ? error.message : `${error.message} (did you mean "baton-proxy ${meant}"?)`);
      return notFound ? EXIT.NOT_FOUND : EXIT.NOT_EXECUTABLE;
    }
    throw error;
  }
}
