// File I/O for wrap/unwrap: read a config strictly, keep a one-time backup, replace it atomically with its permissions. Decides nothing about content.

import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { describeError, LocalError } from "../errors.ts";

/** Appended to a config's path for the copy taken before the first edit. */
export const BACKUP_SUFFIX = ".baton-backup";
/** Permission bits we carry over (no setuid/sticky games on a config file). */
const PERMISSION_BITS = 0o777;

/** A config file as read: its text and what is needed to write it back the same way. */
export interface ConfigFileText {
  /** The path as located (may be a symlink). */
  readonly path: string;
  /** The symlink-resolved path: the file that is actually replaced, so a dotfiles symlink survives. */
  readonly realPath: string;
  readonly text: string;
  readonly mode: number;
  /** Its owner: a file replaced by rename is the writer's, so root writing another user's config gives it back (see {@link keepModeAndOwner}). */
  readonly uid: number;
  readonly gid: number;
}

/**
 * Reads a config file. Returns undefined when it does not exist; throws `LocalError` (E_WRAP) for
 * a directory or text that is not valid UTF-8 (writing it back would corrupt it), E_IO otherwise.
 */
export async function readConfigFile(filePath: string): Promise<ConfigFileText | undefined> {
  let realPath: string;
  try {
    realPath = await fs.realpath(filePath);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw new LocalError("E_IO", `${filePath}: cannot read: ${describeError(error)}`, { cause: error });
  }
  try {
    const stat = await fs.stat(realPath);
    if (!stat.isFile()) throw new LocalError("E_WRAP", `${filePath}: not a regular file`);
    const bytes = await fs.readFile(realPath);
    const text = decodeStrict(bytes);
    return { path: filePath, realPath, text, mode: stat.mode & PERMISSION_BITS, uid: stat.uid, gid: stat.gid };
  } catch (error) {
    if (error instanceof LocalError) throw error;
    if (error instanceof TypeError)
      throw new LocalError("E_WRAP", `${filePath}: not valid UTF-8 text`, { cause: error });
    throw new LocalError("E_IO", `${filePath}: cannot read: ${describeError(error)}`, { cause: error });
  }
}

/** The backup's text, or undefined when there is no backup (or it cannot be read). */
export async function readBackup(filePath: string): Promise<string | undefined> {
  try {
    return await fs.readFile(filePath + BACKUP_SUFFIX, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Writes `<path>.baton-backup` with the original text and permissions, only if no backup exists
 * (the first backup is the true original; later runs must not overwrite it). Returns the backup
 * path and whether it was already there (`kept`: not written by this run).
 */
export async function writeBackupOnce(
  file: ConfigFileText,
): Promise<{ readonly path: string; readonly kept: boolean }> {
  const backupPath = file.path + BACKUP_SUFFIX;
  try {
    const handle = await fs.open(backupPath, "wx", file.mode);
    try {
      await handle.writeFile(file.text, "utf8");
      await keepModeAndOwner(handle, file); // the umask may have narrowed the mode; a backup holds the same secrets
    } finally {
      await handle.close();
    }
    return { path: backupPath, kept: false };
  } catch (error) {
    if (codeOf(error) === "EEXIST") return { path: backupPath, kept: true };
    throw new LocalError("E_IO", `${backupPath}: cannot write the backup: ${describeError(error)}`, { cause: error });
  }
}

/**
 * Replaces `file` with `newText` atomically: a temp file in the same directory (same file system),
 * written, fsynced, given the original permissions, then renamed over the original. Refuses (E_WRAP)
 * when the file changed since it was read, e.g. a running client rewrote it. The temp file is
 * removed on any failure, so the original is either fully old or fully new.
 */
export async function writeFileAtomic(file: ConfigFileText, newText: string): Promise<void> {
  const dir = path.dirname(file.realPath);
  const temp = path.join(
    dir,
    `.${path.basename(file.realPath)}.${process.pid}-${randomBytes(4).toString("hex")}.baton-tmp`,
  );
  try {
    const handle = await fs.open(temp, "wx", file.mode);
    try {
      await handle.writeFile(newText, "utf8");
      await keepModeAndOwner(handle, file);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const current = await fs.readFile(file.realPath);
    if (decodeStrict(current) !== file.text)
      throw new LocalError(
        "E_WRAP",
        `${file.path}: changed while being edited (is the client running?); nothing written, run again`,
      );
    await fs.rename(temp, file.realPath);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof LocalError) throw error;
    throw new LocalError("E_IO", `${file.path}: cannot write: ${describeError(error)}`, { cause: error });
  }
  await syncDirectory(dir);
}

/**
 * Gives the new file standing for `file` (`handle`, just created) `file`'s mode, owner and group.
 * Root rewriting another user's config (`sudo … wrap`, a Dockerfile's RUN before USER) made it
 * root's: a 0600 one, such as ~/.claude.json, the user's client could then no longer read, let alone
 * rewrite. Through the descriptor, never the path: that user owns the directory, and could put a
 * symlink to /etc/shadow where the temp file or the backup was, for root to chmod and chown.
 * The owner is best effort: only root may give a file away.
 */
async function keepModeAndOwner(handle: fs.FileHandle, file: ConfigFileText): Promise<void> {
  await handle.chmod(file.mode);
  if (process.platform === "win32") return; // no POSIX owners (stat says 0)
  try {
    const made = await handle.stat();
    if (made.uid !== file.uid || made.gid !== file.gid) await handle.chown(file.uid, file.gid);
  } catch {
    // EPERM as a user other than root: the file is replaced as it always was, owned by its writer.
  }
}

/** Makes the rename durable where the OS allows opening a directory (not on Windows); best effort. */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  try {
    const handle = await fs.open(dir, "r");
    await handle.sync().finally(() => handle.close());
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has already happened.
  }
}

/** UTF-8 that throws on invalid bytes and keeps a BOM (so writing the text back keeps it too). */
function decodeStrict(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
