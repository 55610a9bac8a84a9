// `baton-proxy serve`: wires config, telemetry, the MCP and admin listeners, session expiry and the SIGTERM drain. Returns an exit code.

import type { OptionValue } from "../command-spec.ts";
import type { Config } from "../config.ts";
import { EXIT } from "../exit-codes.ts";
import { createLogger, type Logger, printable } from "../log.ts";
import { logLineWriter } from "../log-file.ts";
import { describeError } from "../errors.ts";
import { createSinks } from "../telemetry/sinks/create-sinks.ts";
import { createTelemetryHub, type TelemetryHub } from "../telemetry/telemetry-hub.ts";
import { startAdminServer } from "./admin-server.ts";
import { countingSinks, type SinkCounts } from "./counting-sink.ts";
import { consentGatedHub, createEngineExchange } from "./engine-exchange.ts";
import type { RequestContext, SessionExchange } from "./exchange.ts";
import { principalOf } from "./principal.ts";
import { createReadinessProbe } from "./readiness.ts";
import { resolveServeConfig, type ServeConfig } from "./serve-args.ts";
import { createServeMetrics } from "./serve-metrics.ts";
import { startServeServer } from "./serve-server.ts";
import { SessionTable, type SessionOrigin } from "./session-table.ts";
import { StreamRegistry } from "./stream-registry.ts";
import { closeUpstreamPools } from "./upstream-client.ts";
import { createUpstreamDownLog } from "./upstream-down-log.ts";

/** How often idle sessions are looked for. */
export const SESSION_SWEEP_INTERVAL_MS = 10_000;
/** While draining, how often we check whether requests in flight have finished. */
export const DRAIN_POLL_MS = 50;
/** After SIGTERM the listener stays open (unready) at least this long, capped by the drain timeout, while endpoints are withdrawn. */
export const DRAIN_FLOOR_MS = 5_000;
/** How long before the drain's deadline streamed answers still open are ended (a third of a shorter drain), for their errors to reach their clients. */
export const DRAIN_CUT_FLUSH_MS = 500;
/** Budget for delivering the last events at exit. */
export const EVENT_FLUSH_DEADLINE_MS = 2_000;

export interface ServeIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly writeStderrEvents: (text: string) => unknown;
  readonly now: () => number;
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/** Builds one session's exchange (tests may pass their own). */
export type ExchangeFactory = (
  origin: SessionOrigin,
  context: RequestContext,
  shared: SharedTelemetry,
) => SessionExchange;

/** What every session shares: one telemetry hub (dispatcher and sinks) per process, the logger, the config. */
export interface SharedTelemetry {
  readonly config: Config;
  readonly logger: Logger;
  readonly telemetry: TelemetryHub;
  readonly now: () => number;
}

/** The production factory: one SessionEngine per MCP session. */
export const ENGINE_EXCHANGES: ExchangeFactory = (origin, context, shared) =>
  createEngineExchange(shared, origin, context);

/**
 * Runs `serve` until SIGTERM/SIGINT, then drains and returns 0. `values` are the parsed options
 * by long name (src/command-spec.ts); configuration problems are printed all at once (exit 78).
 */
export async function runServeCommand(
  values: Readonly<Record<string, OptionValue>>,
  io: ServeIo,
  createExchange: ExchangeFactory = ENGINE_EXCHANGES,
): Promise<number> {
  const parsed = resolveServeConfig(values, io.env);
  if (parsed.kind !== "ok") {
    const problems = parsed.kind === "problems" ? parsed.problems : [];
    const list = problems.map((p) => `  - ${printable(p)}`).join("\n");
    io.stderr(
      `baton-proxy serve: refusing to start, ${problems.length} problem(s):\n${list}\nSee "baton-proxy serve --help".\n`,
    );
    return EXIT.CONFIG;
  }
  const config = parsed.config;
  // Signals are taken before anything listens: a SIGTERM that comes early still drains (exit 0).
  // The first one drains; after it the handler is gone, so a second one stops the process at once.
  let stop!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stop = resolve));
  const unregister = io.onSignal((signal) => {
    unregister();
    stop(signal);
  });
  const logger = createLogger(
    // serve's stdout carries no MCP messages (nothing at all): any path will do, /dev/stdout included.
    logLineWriter(config.baton.logFile, io.stderr),
    config.baton.secrets,
  );
  for (const warning of config.baton.warnings) logger.warn(warning);
  const counts: SinkCounts[] = [];
  const hub = createTelemetryHub({
    config: config.baton,
    logger,
    sinks: countingSinks(
      createSinks(config.baton, logger, {
        writeStderr: io.writeStderrEvents,
        transport: "http",
        upstreamOrigin: config.upstream.origin,
      }),
      counts,
    ),
  });
  const shared: SharedTelemetry = {
    config: config.baton,
    logger,
    telemetry: config.baton.consentMode === "per-request" ? consentGatedHub(hub) : hub,
    now: io.now,
  };
  let draining = false;
  const streams = new StreamRegistry();
  const answers = new StreamRegistry();
  let metricsRef: ReturnType<typeof createServeMetrics> | undefined;
  const sessions = new SessionTable({
    create: (origin, context) => createExchange(origin, context, shared),
    idleMs: config.sessionIdleMs,
    maxSessions: config.maxSessions,
    evicted: () => metricsRef?.sessionsEvicted.inc({}),
    now: io.now,
    ended: (lifetimeMs) => metricsRef?.sessionDuration.observe({}, lifetimeMs / 1000),
  });
  const metrics = createServeMetrics({
    sessionsOpen: () => sessions.size,
    draining: () => draining,
    eventsBySink: () => counts.map((c) => ({ sink: c.label, emitted: c.emitted, dropped: c.failed })),
  });
  metricsRef = metrics;

  const downLog = createUpstreamDownLog(logger);
  let server: ReturnType<typeof startServeServer>;
  let admin: ReturnType<typeof startAdminServer>;
  try {
    server = startServeServer({
      config,
      sessions,
      metrics,
      logger,
      downLog,
      streams,
      answers,
      now: io.now,
      isDraining: () => draining,
      principalOf: (headers) => principalOf(headers, config.baton),
    });
    const readiness = createReadinessProbe(
      (signal) => fetch(config.upstream, { method: "HEAD", signal, redirect: "manual" }),
      io.now,
    );
    admin = startAdminServer(config.adminListen, { readiness, registry: metrics.registry, isDraining: () => draining });
  } catch (error) {
    logger.error(`cannot listen: ${describeError(error)}`);
    unregister();
    await hub.shutdown(EVENT_FLUSH_DEADLINE_MS);
    return EXIT.FAILED;
  }
  logger.info(
    `serving MCP on http://${hostLabel(config.listen.host)}:${server.port}${config.path} -> ${config.upstream.origin}${config.upstream.pathname}; admin on http://${hostLabel(config.adminListen.host)}:${admin.port} (consent: ${config.baton.consentMode})`,
  );

  const sweep = setInterval(() => sessions.sweep(), Math.min(SESSION_SWEEP_INTERVAL_MS, config.sessionIdleMs));
  sweep.unref();
  const signal = await stopped;
  draining = true;
  // SIGTERM (an orchestrator) keeps the listener open, unready, for a short floor: load balancers
  // take a moment to stop routing here, and a refused connection in that window would be an error.
  // SIGINT (a person) does not wait for it.
  const floorMs = signal === "SIGTERM" ? Math.min(config.drainTimeoutMs, DRAIN_FLOOR_MS) : 0;
  logger.info(
    `received ${signal}: draining (no new sessions; up to ${config.drainTimeoutMs} ms for requests in flight${floorMs > 0 ? `, listening for at least ${floorMs} ms` : ""})`,
  );
  streams.closeAll();
  const start = io.now();
  const deadline = start + config.drainTimeoutMs;
  // Streamed answers still open are ended a moment before the deadline, so their last bytes go out
  // within --drain-timeout-ms (the chart's grace period allows for the drain and the event flush only).
  // A third of a drain under 1.5 s: a tenth (30 ms of a 300 ms drain) was too short for the error's last
  // bytes on a busy machine, and the forced stop at the deadline then cut the stream (ECONNRESET).
  const cutAt = deadline - Math.min(DRAIN_CUT_FLUSH_MS, config.drainTimeoutMs / 3);
  // Polled, but never past `cutAt`: with a drain under 150 ms the flush window (a third) is shorter
  // than a poll, and a cut made at the deadline would have no time left to go out.
  while (io.now() < cutAt && (server.pendingRequests > 0 || io.now() < start + floorMs))
    await Bun.sleep(Math.min(DRAIN_POLL_MS, cutAt - io.now()));
  if (server.pendingRequests > 0) {
    logger.warn(`drain timeout: ending ${server.pendingRequests} request(s) still in flight`);
    // A streamed answer cut with its connection leaves the client waiting for its calls (SDK clients try
    // to resume, then wait until their own timeout): each ends instead with an error per unanswered request.
    answers.closeAll();
  }
  while (io.now() < deadline && (server.pendingRequests > 0 || io.now() < start + floorMs))
    await Bun.sleep(DRAIN_POLL_MS);
  const unfinished = server.pendingRequests;
  if (unfinished > 0) logger.warn(`drain timeout: closing ${unfinished} request(s) still in flight`);
  clearInterval(sweep);
  // Requests still in flight end as proxy_shutdown first: cutting their connections would otherwise
  // read as the client going away (cancelled), blaming the client for the proxy's own stop.
  sessions.closeAll("the proxy is shutting down");
  await server.stop(true);
  downLog.flush(); // 502s of the last seconds, not yet told
  closeUpstreamPools();
  await hub.shutdown(EVENT_FLUSH_DEADLINE_MS);
  await admin.stop(true);
  logger.info("drained; exiting");
  return 0;
}

function hostLabel(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

export type { ServeConfig };
