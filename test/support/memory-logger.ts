// Test helper: a Logger (src/log.ts) that keeps its lines in memory, prefix and redaction included.

import { createLogger, type Logger } from "../../src/log.ts";

/** A logger whose lines (trailing newline dropped) are kept in `lines`. */
export function createMemoryLogger(secrets: readonly string[] = []): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger((line) => lines.push(line.trimEnd()), secrets);
  return Object.assign(logger, { lines });
}
