// Composition of the stdio proxy: one telemetry hub, one engine, an upstream (the child by default) and the stdio session loop; returns the exit status.

import type { Config } from "../config.ts";
import { createSessionEngine } from "../engine/session-engine.ts";
import type { Logger } from "../log.ts";
import { createKeyMatcher } from "../telemetry/scrub-keys.ts";
import { createConfiguredHub } from "../telemetry/telemetry-hub.ts";
import { runStdioSession } from "./stdio-session.ts";
import type { ByteSink, Upstream } from "./upstream.ts";

/** Budget for delivering the last events after the server has exited (SPEC §8: exit within a few seconds). */
export const EVENT_FLUSH_DEADLINE_MS = 2_000;

export interface StdioProxyIo {
  readonly stdin: ReadableStream<Uint8Array>;
  readonly stdout: ByteSink;
  /** Event lines for the `stderr:` sink; a returned promise means the text is still being written. */
  readonly writeStderr: (text: string) => unknown;
  /** Monotonic milliseconds (performance.now in production). */
  readonly now: () => number;
  /** Registers a handler for SIGINT/SIGTERM/SIGHUP; returns an unregister function. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/**
 * Runs the proxy until the server has ended and events are flushed; returns the exit code (the
 * server's status). `openUpstream` starts the server (e.g. `spawnChild`); what it throws
 * (LocalError E_SPAWN) propagates before anything else is started. `serverLabel` names the server
 * in events whatever it calls itself (`--url`: the remote origin).
 */
export async function runStdioProxy(
  config: Config,
  logger: Logger,
  io: StdioProxyIo,
  openUpstream: () => Upstream,
  serverLabel?: string,
): Promise<number> {
  // One handler from before the server starts to the last event: with none registered (between the
  // spawn and the session's own, or while the last answers go out) a stop signal's default action
  // kills the proxy, leaving the server (its own process group) running and the last events unsent.
  const early: NodeJS.Signals[] = [];
  let onStop = (signal: NodeJS.Signals): void => void early.push(signal);
  const finalStop = (signal: NodeJS.Signals): void =>
    logger.info(`received ${signal} while delivering the last events (at most ${EVENT_FLUSH_DEADLINE_MS} ms)`);
  const unregister = io.onSignal((signal) => onStop(signal));
  try {
    return await runSession(config, logger, io, openUpstream, serverLabel, (handler) => {
      onStop = handler;
      for (const signal of early.splice(0)) handler(signal); // came while the server was starting
      return () => {
        onStop = finalStop;
      };
    });
  } finally {
    unregister();
  }
}

/** The run itself; `onSignal` hands the session the signals runStdioProxy holds for it. */
async function runSession(
  config: Config,
  logger: Logger,
  io: StdioProxyIo,
  openUpstream: () => Upstream,
  serverLabel: string | undefined,
  onSignal: StdioProxyIo["onSignal"],
): Promise<number> {
  const upstream = openUpstream();
  // Paced: its background work goes on one step per message the pumps handle (see background-turns.ts).
  // A `--url` session (the only one with a serverLabel) reaches its server over HTTP: its CLIENT spans say so.
  const reach = serverLabel === undefined ? "stdio" : "http";
  const telemetry = createConfiguredHub(
    config,
    logger,
    { writeStderr: io.writeStderr, upstream: reach, upstreamOrigin: serverLabel },
    true,
  );
  const engine = createSessionEngine({ config, logger, now: io.now, telemetry, serverLabel });
  const code = await runStdioSession({
    engine,
    upstream,
    client: { input: io.stdin, output: io.stdout },
    logger,
    secretKeys: createKeyMatcher(config.scrubKeys),
    onSignal,
    telemetryNeedsTurn: () => telemetry.needsTurn,
    telemetryPoke: () => telemetry.poke(),
    now: io.now,
  });
  // The server is gone and the flush is bounded: a host's stop signal now (MCP SDK 1.x sends SIGTERM 2 s
  // after EOF) is only logged (the session's unregistering handed it to finalStop), never fatal.
  await telemetry.shutdown(EVENT_FLUSH_DEADLINE_MS);
  return code;
}
