// One proxy run: spawns the server, runs both pumps, carries out transform actions, and shuts everything down in order.

import type { FileSink } from "bun";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { classifyLine, decodeUtf8, wireResult } from "../wire/jsonrpc.ts";
import { LineSplitter, MAX_LINE_BYTES, type Frame } from "../wire/framing.ts";
import { createReportState, foldEvent } from "../report/report-state.ts";
import { renderReport } from "../report/render-markdown.ts";
import { createDispatcher } from "../telemetry/dispatcher.ts";
import { createSinks } from "../telemetry/sinks/create-sinks.ts";
import { createEventScrubber, scrubValue } from "../telemetry/scrub.ts";
import { createEnvelope } from "../telemetry/envelope.ts";
import { META_DROPPED_EVENTS } from "../telemetry/event-types.ts";
import { RANDOM_HEX } from "../telemetry/otlp/trace-context.ts";
import { SDK_VERSION } from "../version.ts";
import { childEnvironment, spawnChild, type Child } from "./child.ts";
import { JunkReporter } from "./junk-reporter.ts";
import { createProxyState, failPending, fromClient, fromServer, fromServerLongLine, injectedResult, serverLinesPassUnchanged, sweepPending, type Action, type ProxyState } from "./transform.ts";
import { WireWriter } from "./wire-writer.ts";

/** How long the in-flight sweep waits between passes. */
export const SWEEP_INTERVAL_MS = 30_000;
/** How long shutdown waits for the client to take our last bytes before giving up on them. */
export const FINAL_WRITE_DEADLINE_MS = 500;
/** Budget for delivering the last events after the server has exited (SPEC §8: exit within a few seconds). */
export const EVENT_FLUSH_DEADLINE_MS = 2_000;

export interface SessionIo {
  readonly stdin: ReadableStream<Uint8Array>;
  readonly stdout: FileSink;
  /** Event lines for the `stderr:` sink; a returned promise means the text is still being written. */
  readonly writeStderr: (text: string) => unknown;
  /** Monotonic milliseconds (performance.now in production). */
  readonly now: () => number;
  /** Registers a handler for SIGINT/SIGTERM/SIGHUP; returns an unregister function. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

/**
 * Runs the proxy until the server has exited and events are flushed; returns the exit code
 * (the child's status). Throws LocalError(E_SPAWN) if the server cannot be started.
 */
export async function runProxySession(config: Config, command: readonly string[], env: Readonly<Record<string, string | undefined>>, logger: Logger, io: SessionIo): Promise<number> {
  const child = spawnChild(command, childEnvironment(env));
  const bound = (value: unknown) => {
    const stats = { redactions: {}, truncated: 0 };
    return { value: scrubValue(value, { mode: "off", extraKeys: [] }, stats), truncated: stats.truncated };
  };
  // With an otlp: sink, tool-call events carry trace facts (and BATON_OTEL_PROPAGATE=on rewrites forwarded calls' _meta).
  const trace = config.otlp === undefined ? undefined : { propagate: config.otlp.propagate, randomHex: RANDOM_HEX };
  const state = createProxyState({ includeReportTool: config.allSinksLocal, boundValue: bound, trace });
  const report = createReportState();
  const dispatcher = createDispatcher({
    sinks: createSinks(config, logger, { writeStderr: io.writeStderr }),
    logger,
    prepare: createEventScrubber({ mode: config.scrub, extraKeys: config.scrubKeys }),
    // Only the live report reads the fold, and it exists only when every sink is local.
    observe: config.allSinksLocal ? (event) => foldEvent(report, event) : undefined,
  });
  const envelope = createEnvelope({ tenantId: config.tenantId, vendorId: config.vendorId, consentToken: config.consentToken, sdkVersion: SDK_VERSION });
  const toClient = new WireWriter(io.stdout, "client", logger);
  const toServer = new WireWriter(child.stdin, "server", logger);
  const fileSink = config.sinks.find((s) => s.kind === "file");
  const eventsLocation = fileSink?.kind === "file" ? fileSink.path : config.sinks.map((s) => s.kind).join(", ");

  const answerReport = (id: JsonRpcId, modern: boolean): void => {
    dispatcher.settle();
    const text = renderReport(report, { slowCallMs: config.slowCallMs, eventsLocation, droppedEvents: dispatcher.dropped });
    toClient.send(wireResult(id, injectedResult(text, modern, false)));
  };
  const perform = (actions: readonly Action[]): void => {
    for (const action of actions) {
      switch (action.type) {
        case "forward":
          (action.to === "client" ? toClient : toServer).write(action.bytes);
          break;
        case "send":
          (action.to === "client" ? toClient : toServer).send(action.message);
          break;
        case "emit": {
          // Later events carry the running drop count, so an offline report can say events are missing.
          const dropped = dispatcher.dropped;
          if (dropped > 0 && action.draft.runtime_meta !== null) action.draft.runtime_meta[META_DROPPED_EVENTS] = dropped;
          dispatcher.enqueue(envelope.stamp(action.draft));
          break;
        }
        case "log":
          logger[action.level](action.text);
          break;
        case "report":
          answerReport(action.id, action.modern);
          break;
      }
    }
  };

  let shutdownBy: string | undefined;
  const beginShutdown = (why: string, signal?: NodeJS.Signals): void => {
    if (shutdownBy === undefined) shutdownBy = why;
    else if (signal) child.stop("SIGKILL"); // a second signal: the user means it
    child.stop(signal);
  };
  const unregister = io.onSignal((signal) => beginShutdown(`received ${signal}`, signal));
  const sweep = setInterval(() => perform(sweepPending(state, io.now())), SWEEP_INTERVAL_MS);
  sweep.unref();

  const clientJunk = new JunkReporter("client", logger);
  const serverJunk = new JunkReporter("server", logger);
  // Between chunks, give telemetry a turn of the event loop when it has a full batch waiting.
  const yieldToTelemetry = (): Promise<void> | undefined => (dispatcher.needsTurn ? new Promise((resolve) => setImmediate(resolve)) : undefined);
  const clientPump = pump(io.stdin, undefined, yieldToTelemetry, (frame) => onFrame(frame, "server", clientJunk, (raw, line) => fromClient(state, raw, line, io.now())), [toServer, toClient])
    .catch((error) => logger.warn(`reading from the client failed: ${String(error)}`))
    .finally(() => beginShutdown("the client closed stdin"));
  const serverPump = pump(child.stdout, () => serverLinesPassUnchanged(state), yieldToTelemetry, (frame) => onFrame(frame, "client", serverJunk, (raw, line) => fromServer(state, raw, line, io.now())), [toClient])
    .catch((error) => logger.warn(`reading from the server failed: ${String(error)}`));

  function onFrame(frame: Frame, to: "client" | "server", junk: JunkReporter, transform: (raw: Uint8Array, line: ReturnType<typeof classifyLine>) => Action[]): void {
    const writer = to === "client" ? toClient : toServer;
    if (frame.kind === "partial") {
      writer.write(frame.raw);
    } else if (frame.kind === "line") {
      const line = classifyLine(frame.body);
      if (line.kind === "junk") junk.report(line.reason, frame.body);
      const actions = transform(frame.raw, line);
      // A streamed line is already out: only its observations (events, logs) remain to do.
      perform(frame.streamed ? actions.filter((a) => a.type !== "forward" && a.type !== "send") : actions);
    } else {
      junk.frame(frame);
      writer.write(frame.raw);
      if (frame.kind === "overflow" && frame.edges !== undefined && to === "client") {
        const { head, tail, size } = frame.edges;
        perform(fromServerLongLine(state, decodeUtf8(head), decodeUtf8(tail), size, io.now()));
      }
    }
  }

  const code = await finish(child, serverPump, state, perform, () => shutdownBy, logger, io);
  clearInterval(sweep);
  unregister();
  clientJunk.summarise();
  serverJunk.summarise();
  await withDeadline(toClient.drain() ?? Promise.resolve(), FINAL_WRITE_DEADLINE_MS);
  await dispatcher.shutdown(EVENT_FLUSH_DEADLINE_MS);
  // The client pump may still wait on stdin (a server that exited by itself): main exits the process.
  void clientPump;
  return code;
}

async function finish(child: Child, serverPump: Promise<unknown>, state: ProxyState, perform: (a: readonly Action[]) => void, shutdownBy: () => string | undefined, logger: Logger, io: SessionIo): Promise<number> {
  await serverPump;
  const initiated = shutdownBy();
  // The server closed its stdout: whatever it does next, it can no longer answer us.
  if (initiated === undefined) child.stop();
  const code = await child.exited;
  if (initiated === undefined) {
    logger.warn(`the MCP server exited by itself (${child.describeExit()})`);
    perform(failPending(state, "upstream_exit", `the MCP server exited (${child.describeExit()}) before answering`, io.now()));
  } else {
    perform(failPending(state, "proxy_shutdown", `the proxy is shutting down (${initiated}) before the server answered`, io.now()));
  }
  return code;
}

/**
 * Reads a byte stream to its end, feeding frames to `onFrame`; after each chunk waits for
 * `writers` to drain (backpressure) and for `afterChunk` (a yield to the event loop, when asked).
 */
async function pump(
  source: ReadableStream<Uint8Array>,
  cutThrough: (() => boolean) | undefined,
  afterChunk: () => Promise<void> | undefined,
  onFrame: (frame: Frame) => void,
  writers: readonly WireWriter[],
): Promise<void> {
  const splitter = new LineSplitter(MAX_LINE_BYTES, cutThrough);
  const frames: Frame[] = [];
  const reader = source.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    splitter.push(value, frames);
    for (const frame of frames) onFrame(frame);
    frames.length = 0;
    for (const writer of writers) {
      const pending = writer.drain();
      if (pending !== undefined) await pending;
    }
    const turn = afterChunk();
    if (turn !== undefined) await turn;
  }
  splitter.end(frames);
  for (const frame of frames) onFrame(frame);
  for (const writer of writers) await writer.drain();
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
