// Reports lines that are not JSON-RPC (and over-long or unterminated lines) to the log without flooding it.

import type { Logger } from "../log.ts";
import { MAX_LINE_BYTES, type Frame } from "../wire/framing.ts";

/** Junk lines logged one by one per direction; after that they are only counted. */
export const MAX_JUNK_LINES_LOGGED = 5;
const EXCERPT_CHARS = 120;

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

  constructor(
    private readonly from: "client" | "server",
    private readonly logger: Logger,
  ) {}

  /** A complete line the junk policy classified as junk. */
  report(reason: keyof typeof REASONS, body: Uint8Array): void {
    this.count++;
    if (this.count > MAX_JUNK_LINES_LOGGED) return;
    const excerpt = JSON.stringify(decoder.decode(body.subarray(0, EXCERPT_CHARS * 4)).slice(0, EXCERPT_CHARS));
    const more = this.count === MAX_JUNK_LINES_LOGGED ? " (further junk lines are counted, not logged)" : "";
    this.logger.warn(`forwarded ${REASONS[reason]} from the ${this.from} unchanged: ${excerpt}${more}`);
  }

  /** An overflow piece or an unterminated tail: forwarded as-is, logged once per long line. */
  frame(frame: Exclude<Frame, { kind: "line" | "partial" }>): void {
    if (frame.kind === "tail") {
      this.logger.warn(
        `the ${this.from} ended its output with ${frame.raw.length} bytes and no newline; forwarded them as-is`,
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
