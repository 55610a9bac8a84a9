// `--url`: the remote server as an Upstream for the stdio session loop: client bytes framed into messages and POSTed, answers as lines.

import type { Logger } from "../log.ts";
import { requestIdOfLongLine } from "../proxy/long-lines.ts";
import type { RequestFailure, Upstream } from "../transport/upstream.ts";
import { decodeUtf8 } from "../wire/utf8.ts";
import { LineSplitter, type Frame, type LineEdges } from "../wire/framing.ts";
import type { KeyMatcher } from "../telemetry/scrub-keys.ts";
import type { RemoteTarget } from "./remote-options.ts";
import { StreamableHttpUpstream } from "./streamable-http.ts";
import type { Authorizer } from "./upstream-types.ts";

/**
 * A client message over this size is refused (not POSTed): no MCP request needs more, and it is held
 * whole in memory. A request's id is read from the line's edges and answered with `request_too_large`.
 */
export const MAX_REMOTE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Server→client bytes waiting for the client beyond which the server's streams are not read on (backpressure). */
export const MAX_QUEUED_OUTPUT_BYTES = 1024 * 1024;
/** Requests in flight beyond which the session stops reading the client until some finish (backpressure). */
export const MAX_IN_FLIGHT = 1024;

export interface HttpUpstreamOptions {
  readonly target: RemoteTarget;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly authorizer: Authorizer | undefined;
  readonly logger: Logger;
  readonly fetch: typeof fetch;
  /**
   * Header values, the upstream token and the configuration's other secrets: a failure's reason
   * quotes the server's error text, and a server may echo the credentials it refused there.
   */
  readonly secrets: readonly string[];
  /** The privacy stage's key rule with BATON_SCRUB_KEYS (the same reason quotes that text). */
  readonly secretKeys: KeyMatcher;
}

/**
 * Opens nothing until the client speaks: the first message (usually `initialize`) is the first
 * POST, so a dead server is reported to that request, never hidden behind a fake handshake.
 * `exited` resolves 0 after `close()` ended the session (DELETE), 1 when the server side was lost.
 */
export function createHttpUpstream(options: HttpUpstreamOptions): Upstream {
  const { logger, target } = options;
  const hide = options.secrets.filter((s) => s.length >= 4);
  const redact = (text: string): string => hide.reduce((t, s) => t.split(s).join("[redacted]"), text);
  let output!: ReadableStreamDefaultController<Uint8Array>;
  let outputOpen = true;
  let roomWaiters: Array<() => void> = [];
  /** While a long line is being written: the lines that wait for its end, and the wake-up of its writer. */
  let held: Uint8Array[] | undefined;
  let heldBytes = 0;
  /** Streams waiting for the held lines to go out (woken at the long line's end, not by the client's reads). */
  let heldWaiters: Array<() => void> = [];
  let drained: (() => void) | undefined;
  let longLines: Promise<void> = Promise.resolve();
  const wake = (): void => {
    const resume = drained;
    drained = undefined;
    resume?.();
    const waiting = outputOpen ? roomWaiters : [...roomWaiters, ...heldWaiters];
    roomWaiters = [];
    if (!outputOpen) heldWaiters = [];
    for (const w of waiting) w();
  };
  // Counted in bytes: `pull` runs when the client's reads bring the queue under the bound.
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (controller) => void (output = controller),
      pull: wake,
      // Nobody reads any more: a long line's writer and the streams waiting for room must not wait for that.
      cancel: () => {
        outputOpen = false;
        wake();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: MAX_QUEUED_OUTPUT_BYTES }),
  );
  let failed: ((failure: RequestFailure) => void) | undefined;
  const early: RequestFailure[] = [];
  let ended: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (ended = resolve));
  let description = `the session with ${target.origin} was closed`;
  let inFlight = 0;
  let waiters: Array<() => void> = [];

  /**
   * Settles once the client has taken enough of what waits for it (undefined: there is room). Lines
   * held behind a long line count too, and only its end makes room for them: the client's reads
   * take the long line, so a server flooding its other streams would otherwise grow them without bound.
   */
  const room = (): Promise<void> | undefined =>
    !outputOpen
      ? undefined
      : held !== undefined && heldBytes >= MAX_QUEUED_OUTPUT_BYTES
        ? new Promise<void>((resolve) => heldWaiters.push(resolve))
        : (output.desiredSize ?? 1) <= 0
          ? new Promise<void>((resolve) => roomWaiters.push(resolve))
          : undefined;
  const endOutput = (): void => {
    if (!outputOpen) return;
    outputOpen = false;
    output.close();
    wake();
  };
  const http = new StreamableHttpUpstream({
    ...options,
    sink: {
      line: (bytes) => {
        if (held !== undefined) {
          held.push(bytes);
          heldBytes += bytes.length;
        } else if (outputOpen) output.enqueue(bytes);
      },
      // One long line at a time, written alone: a line of another answer must not land inside it.
      longLine: async () => {
        const previous = longLines;
        let release!: () => void;
        longLines = new Promise<void>((resolve) => (release = resolve));
        await previous;
        held = [];
        return {
          write: async (piece) => {
            if (!outputOpen) return;
            output.enqueue(piece);
            if ((output.desiredSize ?? 1) <= 0) await new Promise<void>((resolve) => (drained = resolve));
          },
          end: () => {
            const waited = held ?? [];
            held = undefined;
            heldBytes = 0;
            if (outputOpen) for (const line of waited) output.enqueue(line);
            const waiting = heldWaiters;
            heldWaiters = [];
            for (const w of waiting) w();
            release();
          },
        };
      },
      room,
      failure: (id, failure) => {
        const report = { id, errorType: failure.errorType, reason: redact(failure.reason) };
        if (failed === undefined) early.push(report);
        else failed(report);
      },
      lost: (reason) => {
        description = reason;
        logger.warn(reason);
        endOutput();
        ended(1);
      },
    },
  });

  let closing: Promise<void> | undefined;
  const close = (): void => {
    if (closing === undefined) {
      // The client's last line may have come without its newline: most stdio readers still take
      // it as a message (the session read it as one), so it is posted like any line.
      splitter.end(frames);
      for (const frame of frames) if (frame.kind === "tail") onFrame({ kind: "line", body: frame.raw, raw: frame.raw });
      frames.length = 0;
    }
    closing ??= http.stop().finally(() => {
      endOutput();
      ended(0);
    });
  };

  const splitter = new LineSplitter(MAX_REMOTE_MESSAGE_BYTES);
  const frames: Frame[] = [];
  /** A line over the cap was not POSTed: its request (when its id can be read) is answered, so the client never waits for it. */
  const refuseLong = (edges: LineEdges): void => {
    const id = requestIdOfLongLine(decodeUtf8(edges.head), decodeUtf8(edges.tail));
    const limit = `${MAX_REMOTE_MESSAGE_BYTES / 1024 / 1024} MiB`;
    const what = `a client message of ${edges.size} bytes is over the ${limit} limit and was not sent to ${target.origin}`;
    logger.error(
      id === undefined
        ? `${what} (no request id found in it to answer)`
        : `${what}; its request ${JSON.stringify(id)} gets an error`,
    );
    if (id === undefined) return;
    const report = {
      id,
      errorType: "request_too_large",
      reason: `${what} (baton-proxy sends at most ${limit} per message)`,
    };
    if (failed === undefined) early.push(report);
    else failed(report);
  };
  const onFrame = (frame: Frame): void => {
    if (frame.kind === "line") {
      inFlight++;
      // A request keeps its in-flight slot until the client has room for its answer: a client that
      // reads nothing then stops being read (flush below), instead of its answers piling up here.
      void http
        .send(frame.raw)
        .then(room)
        .finally(() => {
          inFlight--;
          if (inFlight < MAX_IN_FLIGHT && waiters.length > 0) {
            const wake = waiters;
            waiters = [];
            for (const w of wake) w();
          }
        });
    } else if (frame.kind === "overflow" && frame.edges !== undefined) refuseLong(frame.edges);
  };

  return {
    input: {
      write(bytes) {
        splitter.push(bytes, frames);
        for (const frame of frames) onFrame(frame);
        frames.length = 0;
        return bytes.length;
      },
      flush() {
        if (inFlight < MAX_IN_FLIGHT) return 0;
        return new Promise<number>((resolve) => waiters.push(() => resolve(0)));
      },
    },
    output: stream,
    exited,
    describeExit: () => description,
    close,
    signal: () => close(),
    release: async () => {
      await closing;
    },
    onRequestFailed(handler) {
      failed = handler;
      for (const report of early.splice(0)) handler(report);
    },
  };
}
