// The `stderr:` sink: one JSON line per event through an injected write function, one write per flush; never blocks, never writes stdout.

import { describeError, LocalError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { batchText, createLineBatchSink, LOCAL_WRITE_BATCH_EVENTS } from "./line-batch-sink.ts";
import type { Sink } from "./sink.ts";

/** Bytes (UTF-16 units, close enough) handed to the writer but not yet confirmed; beyond it a whole batch is dropped. */
export const MAX_STDERR_BACKLOG_BYTES = 4 * 1_048_576;

/**
 * Writes text to stderr. Return a promise that settles when the text has left the process (see
 * {@link createStreamWriter}) so the sink can bound its backlog; a synchronous writer (returning
 * nothing or a boolean) is taken as done when it returns, and must itself never block.
 */
export type WriteText = (text: string) => unknown;

export interface StderrSinkOptions {
  write: WriteText;
  logger: Logger;
  /** Default {@link MAX_STDERR_BACKLOG_BYTES}. */
  maxBacklogBytes?: number;
  /**
   * Write every `consent_token` as `[masked]`: with per-request consent each event carries its caller's
   * token, and stderr is the proxy's log, which a caller's token must never reach (the other sinks keep it).
   */
  maskConsentTokens?: boolean;
}

/**
 * A `"consent_token":"…"` member: only unescaped quotes delimit it, so the same words inside a string
 * value (written `\"consent_token\":…`) never match; a member of that name in arguments is masked too.
 */
const CONSENT_TOKEN_MEMBER = /"consent_token":"(?:[^"\\]|\\.)*"/g;

/** `line` with each consent token replaced by `[masked]`. */
export function maskConsentTokens(line: string): string {
  return line.includes('"consent_token":"') ? line.replace(CONSENT_TOKEN_MEMBER, '"consent_token":"[masked]"') : line;
}

/**
 * What JSON.stringify leaves raw but a terminal acts on: DEL, the C1 controls (VTE and screen read
 * UTF-8 U+009B as CSI, U+009D as OSC), U+2028/9 and the bidi controls. stderr is a terminal, or a
 * host's log someone tails, and event strings come from clients and servers.
 */
const TERMINAL_ACTIVE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` (JSON lines) with TERMINAL_ACTIVE spelled as JSON escapes: the same JSON values. */
function escapeForTerminal(text: string): string {
  return text.replace(TERMINAL_ACTIVE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The minimal Node-style writable we need (`process.stderr`). */
export interface CallbackWritable {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
}

/**
 * Adapts a Node-style stream (the entry point passes `process.stderr`) to a {@link WriteText} whose
 * promise settles when the stream has written the text, so back-pressure becomes visible to the sink.
 */
export function createStreamWriter(stream: CallbackWritable): (text: string) => Promise<void> {
  return (text) =>
    new Promise<void>((resolve, reject) => {
      stream.write(text, (error) => (error ? reject(error) : resolve()));
    });
}

/**
 * Creates the stderr sink. `flush` hands the batch to `write` as one string and resolves without
 * waiting for it (stderr is often a pipe that the MCP host reads slowly or never). While earlier
 * text is still unconfirmed and this batch would take the backlog past `maxBacklogBytes`, the batch
 * is dropped whole and `flush` rejects with `E_SINK` (so the dispatcher counts it exactly). A
 * writer that fails asynchronously loses text the dispatcher already counted as delivered: that is
 * logged once per failure streak, and counted in `lost`.
 */
export function createStderrSink(options: StderrSinkOptions): Sink & { readonly lost: number } {
  const maxBacklog = options.maxBacklogBytes ?? MAX_STDERR_BACKLOG_BYTES;
  let backlogBytes = 0;
  let lost = 0;
  let failing = false;
  let lastWrite: Promise<unknown> = Promise.resolve();

  const onAsyncFailure = (count: number, error: unknown): void => {
    lost += count;
    if (failing) return;
    failing = true;
    options.logger.warn(`stderr: sink lost ${count} event(s): write failed: ${describeError(error)}`);
  };

  async function deliver(lines: string[]): Promise<void> {
    const count = lines.length;
    // The batch's lines are shared with the other sinks: not changed in place.
    const text = escapeForTerminal(
      batchText(options.maskConsentTokens === true ? lines.map(maskConsentTokens) : lines),
    );
    if (backlogBytes > 0 && backlogBytes + text.length > maxBacklog) {
      throw new LocalError(
        "E_SINK",
        `stderr: back-pressured (${backlogBytes} bytes not yet written, limit ${maxBacklog}); batch of ${count} event(s) dropped`,
      );
    }
    let result: unknown;
    try {
      result = options.write(text);
    } catch (error) {
      throw new LocalError("E_SINK", `stderr: write failed: ${describeError(error)}`, { cause: error });
    }
    if (!(result instanceof Promise)) {
      failing = false;
      return;
    }
    backlogBytes += text.length;
    lastWrite = result.then(
      () => {
        backlogBytes -= text.length;
        failing = false;
      },
      (error: unknown) => {
        backlogBytes -= text.length;
        onAsyncFailure(count, error);
      },
    );
  }

  // Closing waits for the last write; lastWrite never rejects (failures are handled above).
  const sink = createLineBatchSink("stderr:", deliver, () => lastWrite.then(() => undefined), LOCAL_WRITE_BATCH_EVENTS);
  return Object.defineProperty(sink, "lost", { get: () => lost, enumerable: true }) as Sink & { readonly lost: number };
}
