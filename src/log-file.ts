// BATON_PROXY_LOG_FILE: the proxy's own log lines, also appended to a file; shared by the stdio proxy and `serve`.

import { closeSync, fstatSync, writeSync } from "node:fs";
import { describeError } from "./errors.ts";
import { endsMidLine, openEventFile, openReader } from "./telemetry/sinks/event-file.ts";

/** Who writes the file's lines and when: default `Date.now` (the lines' dates), `performance.now` (retry waits, which a clock step must not hold) and `process.pid`. */
export interface LogStamp {
  readonly now?: () => number;
  readonly monotonic?: () => number;
  readonly pid?: number;
}

/**
 * After a failed write the file is tried again at most this often (the file sink's interval): a full
 * disk, a missing directory or a refused path may be put right while the proxy runs (serve runs for days).
 */
export const LOG_FILE_RETRY_MS = 10_000;
/** This process's own passing shortage, not the path's: tried again with the next line. */
const TRANSIENT_CODES = new Set(["EMFILE", "ENFILE"]);

/** The part of `writeSync` the log file uses; injectable so a test can cut a write short as a full disk does. */
export type WriteBytes = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

/**
 * Appends `line` to the file at `path`, opened under the event file's rules for each line: a planted
 * FIFO would block the open for good and a planted symlink would have us append to whatever it
 * names, so both are refused (the log file often lives in /tmp too). A file ending inside a line (a
 * write cut short by a full disk, ours or another proxy's) gets a line break first, so the line is
 * not glued to that fragment. A short write is written on until it throws (ENOSPC): it said nothing,
 * and the rest of the line was lost unsaid.
 */
export function appendToLogFile(path: string, line: string, write: WriteBytes = writeSync): void {
  const fd = openEventFile(path);
  try {
    const stat = fstatSync(fd);
    const reader = stat.size > 0 ? openReader(path, stat) : undefined;
    let midLine = false;
    if (reader !== undefined) {
      midLine = endsMidLine(reader, stat.size);
      closeSync(reader);
    }
    const bytes = Buffer.from(midLine ? `\n${line}` : line);
    for (let done = 0; done < bytes.length; ) {
      const n = write(fd, bytes, done, bytes.length - done);
      if (n <= 0) throw new Error(`wrote ${done} of ${bytes.length} bytes`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The line writer for createLogger: each line to `stderr`, and appended to `logFile` when one is set,
 * there after its UTC time and the process id (`2026-12-02T10:15:58.123Z [4242] baton-proxy: …`): the
 * proxies of every host session append to one file over days, while stderr is dated by whoever reads it.
 * A path that is our stdout (`isStdout`; the stdio proxy's carries only MCP messages) is not written at all,
 * with a warning on stderr. A failed write is said once on stderr (again only when the reason changes);
 * the lines go to stderr only until the file is tried again ({@link LOG_FILE_RETRY_MS} later, or with the
 * next line when the process was out of descriptors) and can be written, which the file then says, with
 * how many lines it missed.
 */
export function logLineWriter(
  logFile: string | undefined,
  stderr: (text: string) => void,
  isStdout: (path: string) => boolean = () => false,
  stamp: LogStamp = {},
  append: (path: string, line: string) => void = appendToLogFile,
): (line: string) => void {
  const wall = stamp.now ?? Date.now;
  const now = stamp.monotonic ?? (() => performance.now());
  const pid = stamp.pid ?? process.pid;
  const dated = (text: string): string => `${new Date(wall()).toISOString()} [${pid}] ${text}`;
  const ownStdout = logFile !== undefined && isStdout(logFile);
  if (ownStdout)
    stderr(
      `baton-proxy: warn: BATON_PROXY_LOG_FILE ${logFile} is the proxy's stdout, which carries only MCP messages; logging to stderr only\n`,
    );
  let retryAt = -Infinity;
  /** Why the last write failed, while the file is not being written. */
  let failing: string | undefined;
  let missed = 0;
  return (line) => {
    stderr(line);
    if (logFile === undefined || ownStdout) return;
    if (now() < retryAt) {
      missed++;
      return;
    }
    try {
      if (failing !== undefined)
        append(
          logFile,
          dated(
            `baton-proxy: info: the log file can be written again; ${missed} line(s) logged meanwhile are on stderr only\n`,
          ),
        );
      append(logFile, dated(line));
    } catch (error) {
      missed++;
      const reason = describeError(error);
      const transient = TRANSIENT_CODES.has(String((error as { code?: unknown }).code));
      retryAt = transient ? -Infinity : now() + LOG_FILE_RETRY_MS;
      if (failing !== reason) {
        const retry = transient ? "with the next line" : `at most every ${LOG_FILE_RETRY_MS / 1000} s`;
        stderr(
          `baton-proxy: warn: cannot write the log file ${logFile}: ${reason}; logging to stderr only until it can be (tried again ${retry})\n`,
        );
      }
      failing = reason;
      return;
    }
    failing = undefined;
    missed = 0;
  };
}
