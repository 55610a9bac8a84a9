// Reports lines that are not JSON-RPC (and over-long or unterminated lines) to the log without flooding it.

import type { Logger } from "../log.ts";
import { redactKeyedText } from "../telemetry/scrub-keyed-text.ts";
import type { KeyMatcher } from "../telemetry/scrub-keys.ts";
import { secretSafeCut } from "../telemetry/scrub-cut.ts";
import { redactText } from "../telemetry/scrub-patterns.ts";
import { MAX_LINE_BYTES, type Frame } from "../wire/framing.ts";

/** Junk lines logged one by one per direction; after that they are only counted. */
export const MAX_JUNK_LINES_LOGGED = 5;
const EXCERPT_CHARS = 120;
/** Bytes decoded to choose the excerpt's cut: enough to see a secret that crosses it whole. */
const EXCERPT_SCAN_BYTES = 32 * 1024;

const REASONS = {
  blank: "a blank line",
  not_json: "a line that is not JSON",
  not_jsonrpc: "JSON that is not a JSON-RPC message",
} as const;

const decoder = new TextDecoder();

/** One per direction. Everything reported here was still forwarded unchanged. */
export class JunkReporter {
  private count = 0;
  private inLongLine = false;

  /** `keys`: the privacy stage's key rule with BATON_SCRUB_KEYS; junk is often a JSON log line, `{"password": …}`. */
  constructor(
    private readonly from: "client" | "server",
    private readonly logger: Logger,
    private readonly keys: KeyMatcher,
  ) {}

  /** A complete line the junk policy classified as junk. */
  report(reason: keyof typeof REASONS, body: Uint8Array): void {
    this.count++;
    if (this.count > MAX_JUNK_LINES_LOGGED) return;
    // Junk is often a debug print (a connection string, a token, a JSON log record): the log gets
    // the privacy stage's key rule and value patterns, cut where no secret crosses, like an event
    // (the line itself passes unchanged).
    const text = decoder.decode(body.subarray(0, EXCERPT_SCAN_BYTES));
    const kept = redactKeyedText(text.slice(0, secretSafeCut(text, EXCERPT_CHARS)), this.keys, {});
    const excerpt = JSON.stringify(redactText(kept, {}));
    const more = this.count === MAX_JUNK_LINES_LOGGED ? " (further junk lines are counted, not logged)" : "";
    this.logger.warn(`forwarded ${REASONS[reason]} from the ${this.from} unchanged: ${excerpt}${more}`);
  }

  /** An overflow piece (forwarded as-is, logged once per long line) or an unterminated tail (read as a last line). */
  frame(frame: Exclude<Frame, { kind: "line" | "partial" }>): void {
    if (frame.kind === "tail") {
      this.logger.warn(
        `the ${this.from} ended its output with ${frame.raw.length} bytes and no newline; read them as its last line (whatever of them is passed on goes as it came)`,
      );
      return;
    }
    if (!this.inLongLine) {
      this.logger.warn(
        `a line from the ${this.from} is longer than the ${MAX_LINE_BYTES / 1048576} MiB inspection limit; passing it through unchanged and uninspected`,
      );
    }
    this.inLongLine = frame.edges === undefined;
  }

  /** Final count, once at shutdown. */
  summarise(): void {
    if (this.count > MAX_JUNK_LINES_LOGGED)
      this.logger.warn(`${this.count} junk lines from the ${this.from} were forwarded in total`);
  }
}
