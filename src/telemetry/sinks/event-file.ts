// The event file opened safely (never through a symlink, never a FIFO, a hard-linked or foreign file, or our own stdout), and its last byte read to tell a line cut short. The file sink and the log file open it so.

import fs from "node:fs";
import { LocalError } from "../../errors.ts";

const { O_RDONLY, O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/**
 * O_NOFOLLOW refuses a symlink planted at the path (the default path is in world-writable /tmp).
 * O_NONBLOCK keeps a FIFO planted there from blocking the whole proxy in `openSync` (it is then
 * refused as not a regular file); it is a no-op for regular files. Both are 0 where the platform
 * lacks them (Windows), which loses that protection but keeps the sink working.
 */
export const FILE_OPEN_FLAGS = O_WRONLY | O_APPEND | O_CREAT | (O_NOFOLLOW ?? 0) | (O_NONBLOCK ?? 0);
/** Owner-only; applied on creation only (a pre-existing file keeps its mode, with a warning if others can read it). */
export const FILE_MODE = 0o600;

/**
 * Opens `path` for appending events with {@link FILE_OPEN_FLAGS} and {@link FILE_MODE}. Throws
 * (`ELOOP` for a symlink, `ENOENT`, `EACCES`, or `E_SINK` for a non-regular or hard-linked file, the file our
 * stdout goes to, or one owned by another user, whose owner could read every event) and never
 * leaves a descriptor open on failure.
 */
export function openEventFile(path: string): number {
  const fd = fs.openSync(path, FILE_OPEN_FLAGS, FILE_MODE);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new LocalError("E_SINK", "not a regular file (refused)");
    // A hard link is another name of someone's file (O_NOFOLLOW cannot see it): one planted at the /tmp
    // path would have us append events to, say, the user's shell profile.
    if (stat.nlink > 1) throw new LocalError("E_SINK", "has other hard links (refused: it is another file's name too)");
    if (isOurStdout(stat))
      throw new LocalError("E_SINK", "the proxy's own stdout, which carries only MCP messages (refused)");
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) {
      throw new LocalError(
        "E_SINK",
        `owned by uid ${stat.uid}, not by this user (refused: its owner could read the events)`,
      );
    }
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/**
 * Whether `file` is the regular file our stdout is redirected to (`> out.jsonl`): appending events
 * there would put them between the MCP messages. A pipe or terminal has no path to open: /dev/stdout
 * and /proc/self/fd/1 are symlinks, already refused.
 */
function isOurStdout(file: fs.Stats): boolean {
  try {
    const out = fs.fstatSync(1);
    return out.isFile() && out.dev === file.dev && out.ino === file.ino;
  } catch {
    return false; // no stdout at all: nothing to protect
  }
}

/**
 * A read-only descriptor of the file just opened (`opened`, its stat), or undefined when the path
 * no longer names it or cannot be read (nothing to repair then).
 */
export function openReader(path: string, opened: fs.Stats): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, O_RDONLY | (O_NOFOLLOW ?? 0) | (O_NONBLOCK ?? 0));
    const stat = fs.fstatSync(fd);
    if (stat.dev === opened.dev && stat.ino === opened.ino) return fd;
  } catch {
    // Unreadable (a write-only mode): no repair.
  }
  if (fd !== undefined) fs.closeSync(fd);
  return undefined;
}

/**
 * Whether the file (`reader`, `size` bytes) ends inside a line: a write cut short by a full disk
 * (or a crash) leaves a fragment, and the next batch appended to it would glue its first event
 * onto that fragment. False when it cannot be read, and when the file grew meanwhile: that is
 * another process's batch being written (readers see it page by page), which ends its own line;
 * a line break added after it would only leave a blank line.
 */
export function endsMidLine(reader: number, size: number): boolean {
  if (size === 0) return false;
  try {
    const last = Buffer.alloc(1);
    if (fs.readSync(reader, last, 0, 1, size - 1) !== 1 || last[0] === 0x0a) return false;
    return fs.fstatSync(reader).size === size;
  } catch {
    return false;
  }
}
