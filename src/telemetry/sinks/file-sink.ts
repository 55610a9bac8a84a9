// The `file://` sink: appends one JSON line per event, one write per flush, through Bun's FileSink over a descriptor it opened itself; never follows a symlink, never opens a FIFO or a foreign file; reopens the path when the file is deleted or rotated away.

import fs from "node:fs";
import type { FileSink } from "bun";
import { sinkLabel } from "../../config.ts";
import { describeError, LocalError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { SYSTEM_CLOCK } from "../clock.ts";
import { endsMidLine, openEventFile, openReader } from "./event-file.ts";
import { batchText, createLineBatchSink, LOCAL_WRITE_BATCH_EVENTS } from "./line-batch-sink.ts";
import { PartialFlushError, type Sink } from "./sink.ts";

/**
 * A file found ending mid-line is watched this long (in steps of {@link FRAGMENT_POLL_MS}) before its
 * last line is taken for a fragment: another proxy's write in progress (its process stalled between
 * pages on a busy machine) shows the same for a moment, then grows and ends its own line, and a line
 * break added before our batch would have left a blank line in the JSON Lines file.
 */
export const FRAGMENT_SETTLE_MS = 100;
const FRAGMENT_POLL_MS = 5;

/** After an open or write failure the sink drops events and tries again at most this often. */
export const FILE_REOPEN_INTERVAL_MS = 10_000;
/**
 * Open failures of this process's own passing state, not of the path: out of file descriptors
 * (ulimit -n, a burst's sockets). Tried again at the next batch: waiting the interval would drop
 * every event of a session shorter than it, even once the descriptors are back.
 */
const TRANSIENT_OPEN_CODES = new Set(["EMFILE", "ENFILE"]);

/** The part of Bun's FileSink we use; injectable so tests can count writes. */
export type EventWriter = Pick<FileSink, "write" | "flush" | "end">;

export interface FileSinkOptions {
  path: string;
  logger: Logger;
  /** Default {@link SYSTEM_CLOCK}'s `now` (monotonic: the wall clock set back must not hold the reopen); paces reopen attempts. */
  now?: () => number;
  /** Default {@link openEventFile}. Returns a descriptor or throws. */
  openFile?: (path: string) => number;
  /** Default `Bun.file(fd).writer()`. */
  createWriter?: (fd: number) => EventWriter;
  /** Default `process.platform`: Windows has no mode bits to warn about. */
  platform?: NodeJS.Platform;
}

/**
 * Creates the file sink. Opens lazily on the first flush. Failure policy: an open or write failure
 * (symlink, missing directory, EACCES, ENOSPC) is logged once per distinct reason, the batch is
 * dropped (`flush` rejects with `E_SINK`, the dispatcher counts it), the descriptor is released and
 * no reopen is tried for {@link FILE_REOPEN_INTERVAL_MS}; batches in between are dropped the same
 * way. Recovery is logged once. A write cut short by ENOSPC or EFBIG (ours, or another process's
 * sharing the file) may leave a partial last line; the next batch then starts on a new line, so
 * the fragment (a prefix of a JSON object, never valid JSON) stays a line of its own. Only the
 * events of the failed batch that did not reach the file whole are lost and counted.
 */
export function createFileSink(options: FileSinkOptions): Sink {
  const { path, logger } = options;
  const label = sinkLabel({ kind: "file", path });
  const now = options.now ?? SYSTEM_CLOCK.now;
  const openFile = options.openFile ?? openEventFile;
  const createWriter = options.createWriter ?? ((fd: number) => Bun.file(fd).writer());
  let fd: number | undefined;
  let writer: EventWriter | undefined;
  /** Device and inode of the open file, to notice when the path no longer names it. */
  let identity: { dev: number; ino: number } | undefined;
  /** A read-only descriptor of the same file (the sink's own is write-only), to read its last byte. */
  let reader: number | undefined;
  let retryAt = -Infinity;
  let failure: { key: string; reason: string } | undefined;
  // Windows stats every writable file as 666 and chmod cannot narrow it (ACLs decide who reads):
  // the warning would fire at every start, asking for a command that does nothing there.
  let warnedMode = (options.platform ?? process.platform) === "win32";
  /** The open file ends inside a line: the next batch starts with a line break. */
  let midLine = false;
  /** The open file's size when last looked at (before each batch): a write cut short is measured from it. */
  let sizeBefore = 0;

  /** `lost` of a batch of `count` (fewer when a write cut short delivered some whole: a PartialFlushError). */
  function fail(stage: "open" | "write", error: unknown, count: number, lost = count): LocalError {
    const code = (error as { code?: unknown }).code;
    const reason = code === "ELOOP" ? "the path is a symbolic link (refused, never followed)" : describeError(error);
    const key = `${stage}:${typeof code === "string" ? code : reason}`;
    const transient = TRANSIENT_OPEN_CODES.has(String(code));
    if (failure?.key !== key) {
      const retry = transient
        ? "trying again with the next batch"
        : `retrying at most every ${FILE_REOPEN_INTERVAL_MS / 1000} s`;
      logger.warn(`file sink ${path}: cannot ${stage}: ${reason}; its events are dropped, ${retry}`);
    }
    failure = { key, reason };
    retryAt = transient ? -Infinity : now() + FILE_REOPEN_INTERVAL_MS;
    release();
    const message = `${label}: cannot ${stage} (${reason}); ${lost} event(s) dropped`;
    if (lost < count)
      return new PartialFlushError(`${message} (the ${count - lost} before them were written)`, lost, { cause: error });
    return new LocalError("E_SINK", message, { cause: error });
  }

  function release(): void {
    const [w, d, r] = [writer, fd, reader];
    writer = undefined;
    fd = undefined;
    identity = undefined;
    reader = undefined;
    try {
      // Bun writes through its own dup of `d` and closes that one; closing `d` is ours to do.
      void Promise.resolve(w?.end()).catch(() => {});
    } catch {
      // end() may rethrow the write error that got us here; the data is gone either way.
    }
    try {
      if (d !== undefined) fs.closeSync(d);
    } catch {
      // Already closed or never valid: nothing left to release.
    }
    try {
      if (r !== undefined) fs.closeSync(r);
    } catch {
      // Same.
    }
  }

  function open(count: number): EventWriter {
    if (writer !== undefined) return writer;
    if (now() < retryAt) {
      throw new LocalError(
        "E_SINK",
        `${label}: not open (${failure?.reason ?? "earlier failure"}); ${count} event(s) dropped`,
      );
    }
    try {
      fd = openFile(path);
      const stat = fs.fstatSync(fd);
      identity = { dev: stat.dev, ino: stat.ino };
      sizeBefore = stat.size;
      const mode = stat.mode & 0o777;
      if ((mode & 0o044) !== 0 && !warnedMode) {
        warnedMode = true;
        logger.warn(`file sink ${path}: mode ${mode.toString(8)} lets other users read events; run chmod 600 on it`);
      }
      reader = openReader(path, stat);
      midLine = reader !== undefined && endsMidLine(reader, stat.size);
      writer = createWriter(fd);
    } catch (error) {
      throw fail("open", error, count);
    }
    return writer;
  }

  /**
   * A /tmp cleaner or logrotate deleted or renamed the file: appending to the old inode would lose
   * every later event without a word. Checked once per flush (one lstat); the path is then reopened
   * under the same rules as the first open (a symlink planted there is refused).
   */
  function noticeReplacement(): void {
    if (writer === undefined || identity === undefined) return;
    let current: fs.Stats | undefined;
    try {
      current = fs.lstatSync(path, { throwIfNoEntry: false });
    } catch {
      current = undefined;
    }
    if (current !== undefined && current.dev === identity.dev && current.ino === identity.ino) {
      sizeBefore = current.size;
      // Other proxies append to the same file (a host launches one per server): one killed inside
      // its write, or cut short by a full disk, left a fragment our next line would be glued to.
      if (!midLine && reader !== undefined) midLine = endsMidLine(reader, current.size);
      return;
    }
    logger.warn(
      `file sink ${path}: the file was ${current === undefined ? "deleted" : "replaced"} since it was opened (a /tmp cleaner or log rotation?); reopening the path`,
    );
    release();
  }

  async function deliver(lines: string[]): Promise<void> {
    const count = lines.length;
    noticeReplacement();
    const w = open(count);
    if (midLine) midLine = await isSettledFragment();
    const text = batchText(lines); // shared with the other sinks flushing the same batch
    try {
      // write() returns a rejected promise (not a throw) for large chunks: always await it.
      await w.write(midLine ? `\n${text}` : text);
      await w.flush();
    } catch (error) {
      throw fail("write", error, count, count - linesWritten(lines, writtenSince(sizeBefore), midLine));
    }
    midLine = false;
    // Recovery is declared after a successful write, not an open, so an open-then-ENOSPC cycle stays quiet.
    if (failure !== undefined) logger.info(`file sink ${path}: writable again, appending events`);
    failure = undefined;
  }

  /**
   * Whether the file, found ending mid-line, still does after {@link FRAGMENT_SETTLE_MS} without
   * growing: a fragment (a writer killed inside its write, a write cut short). One that grows is
   * another proxy's write in progress, which ends its own line.
   */
  async function isSettledFragment(): Promise<boolean> {
    const size = (): number | undefined => {
      try {
        return reader === undefined ? undefined : fs.fstatSync(reader).size;
      } catch {
        return undefined;
      }
    };
    const first = size();
    for (let waited = 0; waited < FRAGMENT_SETTLE_MS; waited += FRAGMENT_POLL_MS) {
      await Bun.sleep(FRAGMENT_POLL_MS);
      if (size() !== first) return false;
    }
    return first !== undefined && reader !== undefined && endsMidLine(reader, first);
  }

  /**
   * Bytes the file grew by since `before` (what a failed write still put there: a file size limit
   * or a full disk takes the batch's first bytes). Another proxy appending meanwhile would count
   * as ours; 0 when the descriptor cannot be read.
   */
  function writtenSince(before: number): number {
    try {
      return fd === undefined ? 0 : Math.max(0, fs.fstatSync(fd).size - before);
    } catch {
      return 0;
    }
  }

  return createLineBatchSink(label, deliver, release, LOCAL_WRITE_BATCH_EVENTS);
}

/**
 * How many of `lines` (written as one text, each ending in a newline, after a line break when
 * `afterBreak`) reached the file whole when only its first `bytes` did. A line whose newline alone
 * is missing counts: the next batch starts with that line break (the file then ends mid-line).
 */
export function linesWritten(lines: readonly string[], bytes: number, afterBreak: boolean): number {
  let end = afterBreak ? 1 : 0;
  let whole = 0;
  for (const line of lines) {
    end += Buffer.byteLength(line);
    if (end > bytes) break;
    whole++;
    end++; // its newline
  }
  return whole;
}
