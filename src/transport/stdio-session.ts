// The stdio session loop, written once against the Upstream seam: both pumps, backpressure, signals, and the shutdown order.

import type { SessionEngine, WireAction } from "../engine/session-engine.ts";
import { SWEEP_INTERVAL_MS } from "../engine/session-engine.ts";
import type { Logger } from "../log.ts";
import type { KeyMatcher } from "../telemetry/scrub-keys.ts";
import { LINE_EDGE_BYTES, type Frame } from "../wire/framing.ts";
import { classifyLine, type Classified } from "../wire/jsonrpc.ts";
import { JunkReporter } from "./junk-reporter.ts";
import { ExitDrain } from "./exit-drain.ts";
import { pump, withDeadline } from "./pump.ts";
import type { ByteSink, Upstream } from "./upstream.ts";
import { WireWriter } from "./wire-writer.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/**
 * How long shutdown waits for the client to take our last bytes before giving up on them (also
 * while the server's last output is still being passed on: see exit-drain.ts).
 */
export const FINAL_WRITE_DEADLINE_MS = 500;

/** Our side facing the client: newline-delimited JSON-RPC in, the same out. */
export interface FrontDoor {
  readonly input: ReadableStream<Uint8Array>;
  readonly output: ByteSink;
}

export interface StdioSessionDeps {
  readonly engine: SessionEngine;
  readonly upstream: Upstream;
  readonly client: FrontDoor;
  readonly logger: Logger;
  /** The privacy stage's key rule with BATON_SCRUB_KEYS, for junk lines quoted in the log. */
  readonly secretKeys: KeyMatcher;
  /** Registers a handler for SIGINT/SIGTERM/SIGHUP; returns an unregister function. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => () => void;
  /** True when telemetry has a full batch waiting: the pumps then yield one macrotask between chunks. */
  readonly telemetryNeedsTurn: () => boolean;
  /** Called after each chunk either pump handled: paced telemetry goes on with its background work then. */
  readonly telemetryPoke?: () => void;
  /**
   * The engine's clock. Given, server lines of LARGE_LINE_BYTES or more that went out unchanged
   * are parsed and inspected in the next idle turn (with their arrival time) instead of at once.
   */
  readonly now?: () => number;
}

/** A forwarded server line this long is inspected in an idle turn: parsing a 1 MiB result takes milliseconds. */
export const LARGE_LINE_BYTES = 64 * 1024;

/**
 * Runs one session until the server has ended and the client has our last bytes (bounded);
 * returns the status to exit with (the server's). The caller shuts telemetry down afterwards.
 */
export async function runStdioSession(deps: StdioSessionDeps): Promise<number> {
  const { engine, upstream, client, logger } = deps;
  let shutdownBy: string | undefined;
  // A client that stopped reading (host gone, pipe closed) ends the session in order.
  const toClient = new WireWriter(client.output, "client", logger, () => {
    shutdownBy ??= "the client stopped reading";
    upstream.close();
  });
  const toServer = new WireWriter(upstream.input, "server", logger);
  const writers = { client: toClient, server: toServer } as const;
  const carryOut = (actions: readonly WireAction[]): void => {
    for (const action of actions) {
      if ("bytes" in action) writers[action.to].write(action.bytes);
      else writers[action.to].send(action.message);
    }
  };

  const unregister = deps.onSignal((signal) => {
    shutdownBy ??= `received ${signal}`;
    upstream.signal(signal);
  });
  // Failures arrive outside the pumps (an HTTP exchange ended): hand their answers to the client at once.
  upstream.onRequestFailed?.((failure) => {
    inspectClientLines(); // lines still waiting for inspection come first
    carryOut(engine.failRequests([failure.id], failure.errorType, failure.reason, true));
    void toClient.drain()?.catch(() => undefined);
  });
  const sweep = setInterval(() => {
    inspectClientLines();
    carryOut(engine.sweep());
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  const clientJunk = new JunkReporter("client", logger, deps.secretKeys);
  const serverJunk = new JunkReporter("server", logger, deps.secretKeys);
  // Between chunks, give telemetry a turn of the event loop when it has a full batch waiting.
  const afterChunk = (): Promise<void> | undefined => {
    deps.telemetryPoke?.();
    return deps.telemetryNeedsTurn() ? new Promise((resolve) => setImmediate(resolve)) : undefined;
  };

  // Client lines the engine is sure to forward unchanged go to the server first and are inspected
  // once handed to the pipe (pump's afterHandOver), before any other message is handled.
  const inspectClientLater: Frame[] = [];
  const inspectClientLines = (): void => {
    inspectServerLines(); // anything the server said before these lines is inspected first
    for (const frame of inspectClientLater) {
      if (frame.kind !== "line") continue;
      const line = classifyLine(frame.body);
      if (line.kind === "junk") clientJunk.report(line.reason, frame.body);
      for (const action of engine.fromClient(frame.raw, line)) {
        if (action.to === "server" && "bytes" in action && action.bytes === frame.raw) continue; // already sent
        if (action.to === "server") {
          // The line already went out as it came; a second, changed copy could run a tool twice.
          logger.warn(
            "internal: a client line sent on before inspection turned out to need a change; the original was kept",
          );
          continue;
        }
        carryOut([action]);
        void toClient.drain(); // never expected here; if it happens, it must not wait for the next chunk
      }
    }
    inspectClientLater.length = 0;
  };
  // A client line over the inspection cap: decided from its first piece (the whole buffered head;
  // the client pump has no cut-through, so none of it went out yet), undefined between such lines.
  let clientLongLine: "forward" | "hold" | undefined;
  const fromClient = (frame: Frame): void => {
    if (frame.kind === "line" && engine.clientLinePassesUnchanged(frame.body)) {
      toServer.write(frame.raw);
      inspectClientLater.push(frame);
      return;
    }
    inspectClientLines();
    if (frame.kind === "line") {
      const line = classifyLine(frame.body);
      if (line.kind === "junk") clientJunk.report(line.reason, frame.body);
      carryOut(engine.fromClient(frame.raw, line));
    } else if (frame.kind === "partial") {
      toServer.write(frame.raw);
    } else if (frame.kind === "tail") {
      clientJunk.frame(frame);
      carryOut(engine.fromClient(frame.raw, lastLine(frame.raw, clientJunk)));
    } else if (frame.kind === "overflow") {
      clientLongLine ??= engine.holdsClientLongLine(frame.raw.subarray(0, LINE_EDGE_BYTES)) ? "hold" : "forward";
      const held = clientLongLine === "hold";
      // A call to our own tool: none of its bytes reach the server.
      if (!held) {
        clientJunk.frame(frame);
        toServer.write(frame.raw);
      }
      if (frame.edges !== undefined) {
        clientLongLine = undefined;
        carryOut(engine.fromClientLongLine(frame.edges, held)); // all of it is on its way: track it (or answer it)
      }
    }
  };
  // Server lines the engine cannot change (nothing pending it rewrites) go to the client first and
  // are inspected once their bytes are out (pump's afterHandOver), still before any other message
  // is handled; large ones wait for an idle turn (every other handling inspects them first).
  const inspectLater: { readonly frame: Frame; readonly at: number | undefined }[] = [];
  let large = false;
  let idleTurn = false;
  const inspectServerLines = (): void => {
    large = false;
    for (const { frame, at } of inspectLater) {
      if (frame.kind !== "line") continue;
      const line = classifyLine(frame.body);
      if (line.kind === "junk") serverJunk.report(line.reason, frame.body);
      carryOut(engine.fromServer(frame.raw, line, true, at));
    }
    inspectLater.length = 0;
  };
  const afterServerHandOver = (): void => {
    if (!large) return inspectServerLines();
    if (idleTurn) return;
    idleTurn = true;
    setImmediate(() => {
      idleTurn = false;
      inspectServerLines();
    });
  };
  const fromServer = (frame: Frame): void => {
    if (frame.kind === "partial") {
      toClient.write(frame.raw);
      return;
    }
    // Inspecting a server line can only close requests, never open one the engine rewrites: lines
    // still waiting for inspection can make this answer a cautious "no", never a wrong "yes".
    if (frame.kind === "line" && (frame.streamed === true || engine.serverLinesPassUnchanged())) {
      if (frame.streamed !== true) toClient.write(frame.raw);
      const size = frame.streamed === true ? frame.size : frame.raw.length; // a streamed line is joined on inspection
      const later = deps.now !== undefined && size >= LARGE_LINE_BYTES;
      inspectLater.push({ frame, at: later ? deps.now?.() : undefined });
      if (later) large = true;
      return;
    }
    inspectServerLines();
    if (frame.kind === "line") {
      const line = classifyLine(frame.body);
      if (line.kind === "junk") serverJunk.report(line.reason, frame.body);
      carryOut(engine.fromServer(frame.raw, line, frame.streamed === true));
    } else if (frame.kind === "tail") {
      serverJunk.frame(frame);
      carryOut(engine.fromServer(frame.raw, lastLine(frame.raw, serverJunk)));
    } else {
      serverJunk.frame(frame);
      toClient.write(frame.raw);
      if (frame.edges !== undefined) carryOut(engine.fromServerLongLine(frame.edges));
    }
  };

  // Once per chunk or line, every session's closures at once: no FTL compile (see runtime/jit-tiers.ts).
  keepOutOfFtl(
    fromClient,
    fromServer,
    carryOut,
    inspectClientLines,
    inspectServerLines,
    afterServerHandOver,
    afterChunk,
  );
  // The client's reading also waits while our answers to it are held for an unfinished server line.
  const afterClientChunk = (): Promise<void> | undefined => {
    const turn = afterChunk();
    const room = toClient.heldRoom();
    if (room === undefined) return turn;
    return turn === undefined ? room : Promise.all([turn, room]).then(() => undefined);
  };
  const clientPump = pump(client.input, {
    afterChunk: afterClientChunk,
    onFrame: fromClient,
    afterHandOver: inspectClientLines,
    writers: [toServer, toClient],
  })
    .catch((error) => logger.warn(`reading from the client failed: ${String(error)}`))
    .finally(() => {
      shutdownBy ??= "the client closed stdin";
      upstream.close();
    });
  const stopReading = new AbortController();
  const drainAfterExit = new ExitDrain(FINAL_WRITE_DEADLINE_MS);
  const serverPump = pump(upstream.output, {
    cutThrough: () => engine.serverLinesPassUnchanged(),
    afterChunk,
    onFrame: fromServer,
    afterHandOver: afterServerHandOver,
    writers: [toClient],
    stop: stopReading.signal,
    reads: drainAfterExit,
  })
    .catch((error) => logger.warn(`reading from the server failed: ${String(error)}`))
    .finally(() => drainAfterExit.close());

  // The session ends with the server itself, not with its output: a descendant may hold that open.
  const first = await Promise.race([
    serverPump.then(() => "output" as const),
    upstream.exited.then(() => "exit" as const),
  ]);
  if (first === "exit") {
    // What it wrote before dying is read to the end, however slowly the client takes it; only
    // silence (a descendant holding the pipe), a client taking nothing, or a flood stop it early.
    drainAfterExit.serverExited();
    const why = await Promise.race([serverPump, drainAfterExit.stopped]);
    stopReading.abort();
    if (why === "too-much")
      logger.warn("something the MCP server started still floods its stdout after its exit: not read");
    // A pump waiting on a client that takes nothing stays stuck: the final write below is bounded.
    if (why !== "client") await withDeadline(serverPump, FINAL_WRITE_DEADLINE_MS);
  }
  const initiated = shutdownBy;
  // The server closed its output: whatever it does next, it can no longer answer us.
  if (first === "output" && initiated === undefined) upstream.close();
  const code = await upstream.exited;
  inspectClientLines(); // lines still waiting for inspection close their requests before the rest fail
  if (initiated === undefined) {
    const how = upstream.describeExit();
    // Its output closed first and our stop steps ended it: "exited by itself (signal SIGTERM)" would
    // send its maintainer looking for whoever sent that signal.
    const muted = first === "output" && upstream.stoppedByProxy?.() === true;
    logger.warn(
      muted
        ? `the MCP server closed its stdout but kept running; the proxy stopped it (${how})`
        : `the MCP server exited by itself (${how})`,
    );
    const reason = muted ? `closed its stdout (then stopped by the proxy: ${how})` : `exited (${how})`;
    carryOut(engine.failPending("upstream_exit", `the MCP server ${reason} before answering`));
  } else {
    carryOut(
      engine.failPending("proxy_shutdown", `the proxy is shutting down (${initiated}) before the server answered`),
    );
  }
  await upstream.release();
  clearInterval(sweep);
  unregister();
  clientJunk.summarise();
  serverJunk.summarise();
  toClient.endLine(); // the server is gone: a line it left unfinished must not swallow what follows
  await withDeadline(toClient.drain() ?? Promise.resolve(), FINAL_WRITE_DEADLINE_MS);
  engine.close();
  // The client pump may still wait on stdin (a server that exited by itself): main exits the process.
  void clientPump;
  return code;
}

/**
 * Bytes a peer left without a newline when its output ended, read as its last line: most stdio
 * readers (Python's, Go's bufio.Scanner, Node's readline) still take them as a message (the TS
 * SDK's drops them), so a call to our own tool is answered, a server call tracked, an answer ends
 * its call. Whatever goes on is those bytes as they came, still without a newline.
 */
function lastLine(raw: Uint8Array, junk: JunkReporter): Classified {
  const line = classifyLine(raw);
  if (line.kind === "junk") junk.report(line.reason, raw);
  return line;
}
