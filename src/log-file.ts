// BATON_PROXY_LOG_FILE: the proxy's own log lines, also appended to a file; shared by the stdio proxy and `serve`.

import { closeSync, writeSync } from "node:fs";
import { describeError } from "./errors.ts";
import { openEventFile } from "./telemetry/sinks/event-file.ts";

/** Who writes the file's lines and when: default `Date.now` and `process.pid`. */
export interface LogStamp {
  readonly now?: () => number;
  readonly pid?: number;
}

/**
 * The line writer for createLogger: each line to `stderr`, and appended to `logFile` when one is set,
 * there after its UTC time and the process id (`2026-12-02T10:15:58.123Z [4242] baton-proxy: …`): the
 * proxies of every host session append to one file over days, while stderr is dated by whoever reads it.
 * A path that is our stdout (`isStdout`; the stdio proxy's carries only MCP messages) is not written at all,
 * and the first failed write turns the file off: both with a warning on stderr, the log staying there.
 */
export function logLineWriter(
  logFile: string | undefined,
  stderr: (text: string) => void,
  isStdout: (path: string) => boolean = () => false,
  stamp: LogStamp = {},
): (line: string) => void {
  const now = stamp.now ?? Date.now;
  const pid = stamp.pid ?? process.pid;
  let teeBroken = logFile !== undefined && isStdout(logFile);
  if (teeBroken)
    stderr(
      `baton-proxy: warn: BATON_PROXY_LOG_FILE ${logFile} is the proxy's stdout, which carries only MCP messages; logging to stderr only\n`,
    );
  return (line) => {
    stderr(line);
    if (logFile === undefined || teeBroken) return;
    try {
      // The event file's rules (often both live in /tmp): a planted FIFO would block this open for
      // good and a planted symlink would have us append to whatever it names, so both are refused.
      const fd = openEventFile(logFile);
      try {
        writeSync(fd, `${new Date(now()).toISOString()} [${pid}] ${line}`);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      teeBroken = true;
      stderr(
        `baton-proxy: warn: cannot write the log file ${logFile}: ${describeError(error)}; logging to stderr only\n`,
      );
    }
  };
}
