// Where `report` reads its events: FILE (or the configured/default file sink) as a path, opened as a line reader; no parsing.

import { constants } from "node:fs";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { CommandContext } from "../command-context.ts";
import type { Config } from "../config.ts";
import { defaultFileSinkPath } from "../config-values.ts";
import { fileUrlPath } from "../config-sinks.ts";
import { describeError, LocalError } from "../errors.ts";
import { type LineEnding, splitLines } from "./read-events.ts";
import type { ReadLines } from "./read-s3.ts";

/** Event files named when a directory is given as FILE. */
const MAX_FILES_NAMED = 3;
/** Bytes read at a time from an event file. */
const CHUNK_BYTES = 256 * 1024;

/** A local event file's lines, read again for each pass from the one descriptor opened; `close` releases it. */
export type FileLines = ReadLines & { close(): Promise<void> };

/** The configured file sink (the first one), else the default file sink's path. */
export function defaultEventFile(config: Config, ctx: CommandContext): string {
  for (const sink of config.sinks) if (sink.kind === "file") return sink.path;
  return defaultFileSinkPath(ctx.env, ctx.platform);
}

/**
 * A local event file as a line reader (read again for each pass, from the file opened here: one
 * renamed or deleted meanwhile by log rotation or a /tmp cleaner is still the one read, so every pass
 * sees the same sessions); LocalError E_IO when it is missing or not a regular file; `warn` when
 * another user owns it.
 */
export async function openFileLines(
  path: string,
  warn: (text: string) => void,
  ending: LineEnding,
): Promise<FileLines> {
  const found = await stat(path).catch(() => undefined);
  // Bun.file(dir).exists() is false: a directory was said to be "no event file at" a path the user sees exists.
  if (found?.isDirectory() === true) {
    const files = (await readdir(path).catch(() => [] as string[])).filter((name) => name.endsWith(".jsonl")).sort();
    const separator = path.includes("\\") && !path.includes("/") ? "\\" : "/"; // a Windows path as the user wrote it
    const base = path.endsWith(separator) ? path : path + separator;
    const named = files.slice(0, MAX_FILES_NAMED).map((name) => base + name);
    const more = files.length > named.length ? `, and ${files.length - named.length} more` : "";
    throw new LocalError(
      "E_IO",
      `${path} is a directory, not an event file: pass the file${files.length === 0 ? " (it holds no .jsonl file)" : ` (in it: ${named.join(", ")}${more})`}`,
    );
  }
  if (!(await Bun.file(path).exists()))
    throw new LocalError("E_IO", `no event file at ${path} (pass FILE, or check BATON_EVENT_SINK)`);
  // The file is read in several passes, which a pipe (`<(zcat …)`) cannot give: its second pass read
  // nothing, and the report said "Nothing captured yet". A FIFO (anyone can plant one at the default
  // path in /tmp) was waited on forever.
  // Opened without blocking (a FIFO would block the open itself) and judged by what was opened, not by
  // the path, which may name something else by then.
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((error: unknown) => {
    throw new LocalError("E_IO", `cannot read ${path}: ${describeError(error)}`, { cause: error });
  });
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new LocalError(
      "E_IO",
      `${path} is not a regular file (a pipe, a FIFO or a device): the report reads it more than once; save it to a file first`,
    );
  }
  // Another user may have created the default /tmp file first: the proxy's sink refuses to write to
  // it, so whatever sessions it holds are theirs, not the user's (an operator may still read it).
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid)
    warn(
      `${path} is owned by uid ${info.uid}, not by this user: the proxy's file sink refuses such a file, so these events were not written by your proxy`,
    );
  return Object.assign(() => splitLines(readFrom(handle), ending), { close: () => handle.close() });
}

/** The file's bytes from its start, read by position: passes over one descriptor do not share an offset. */
async function* readFrom(handle: FileHandle): AsyncGenerator<Uint8Array> {
  for (let position = 0; ; ) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** FILE as an absolute path: relative to the caller's cwd; a file:// URL is accepted too. */
export function toPath(file: string, cwd: string, platform: NodeJS.Platform): string {
  if (/^file:\/\//i.test(file)) {
    try {
      return fileUrlPath(decodeURIComponent(new URL(file).pathname), platform);
    } catch {
      // Not a valid URL after all: treat it as a (strange) relative path below.
    }
  }
  const p = platform === "win32" ? path.win32 : path.posix;
  return p.isAbsolute(file) ? file : p.resolve(cwd, file);
}
