// A lock file beside one server's OAuth record, so the proxies of every host session (one per server, per session) refresh its tokens one at a time.

import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";

/** How often a proxy waiting for another's refresh looks at the lock again. */
const POLL_MS = 25;

/** The lock's holder as written in the file: `<pid> <random tag> <place>` (see {@link lockPlace}). */
interface Holder {
  readonly pid: number;
  readonly tag: string;
  /** Absent in a lock written before places were. */
  readonly place?: string;
}

let place: string | undefined;

/**
 * Where this process's pid means something: the host name, and on Linux the pid namespace (containers
 * on one host may share a host name). The cache may be shared by other machines (an NFS home) or
 * containers (a volume), where a holder's pid cannot be looked up: unknown here, it would be taken
 * for a dead holder's, and two refreshes would run at once.
 */
export function lockPlace(): string {
  if (place !== undefined) return place;
  let namespace = "";
  try {
    namespace = `/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    // Not Linux, or no /proc: the host name alone.
  }
  place = `${hostname().replace(/\s/g, "_")}${namespace}`;
  return place;
}

/**
 * Runs `task` while holding the lock file `path` (created with O_EXCL), after waiting at most
 * `waitMs` for another holder. Fail-open: a lock that cannot be created (a read-only or missing cache
 * directory) or is still held after `waitMs` does not stop the task, which then runs unlocked (as
 * before there was a lock). A lock whose process is gone (killed mid-refresh) or older than `waitMs`
 * is taken over, through {@link removeIfStill}. Only the holder's own lock is removed afterwards.
 */
export async function withCacheLock<T>(path: string, waitMs: number, task: () => Promise<T>): Promise<T> {
  const own: Holder = { pid: process.pid, tag: crypto.randomUUID() };
  const deadline = performance.now() + waitMs;
  let held = false;
  for (;;) {
    const attempt = tryCreate(path, own);
    held = attempt === "held";
    if (attempt !== "busy") break;
    const stale = staleLock(path, waitMs);
    if (stale !== undefined) {
      const removed = removeIfStill(path, stale, waitMs);
      if (removed === "failed") break;
      if (removed === "removed") continue;
    }
    if (performance.now() >= deadline) break;
    await Bun.sleep(POLL_MS);
  }
  try {
    return await task();
  } finally {
    const now = held ? snapshot(path) : undefined;
    if (now !== undefined && holderIn(now.text)?.tag === own.tag) removeIfStill(path, now, waitMs);
  }
}

/** `busy`: another holder's; `unlockable`: no lock can be made here (a read-only or missing directory). */
function tryCreate(path: string, own: Holder): "held" | "busy" | "unlockable" {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    return (error as { code?: unknown }).code === "EEXIST" ? "busy" : "unlockable";
  }
  try {
    writeSync(fd, `${own.pid} ${own.tag} ${lockPlace()}\n`);
    return "held";
  } catch {
    remove(path); // a full disk: a lock naming no one would hold the others up until it is stale
    return "unlockable";
  } finally {
    closeSync(fd);
  }
}

/** Never throws: the lock is a courtesy between proxies, and the refresh goes on without it. */
function remove(path: string): boolean {
  try {
    rmSync(path, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** The lock as one judgment saw it: its identity covers the file (a new lock is a new file) and its text. */
interface Snapshot {
  readonly identity: string;
  readonly text: string;
  readonly mtimeMs: number;
}

function snapshot(path: string): Snapshot | undefined {
  try {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    const text = readFileSync(path, "utf8");
    return { identity: `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${text}`, text, mtimeMs: stat.mtimeMs };
  } catch {
    return undefined; // cannot be looked at (or gone meanwhile): waited for, up to the bound
  }
}

function holderIn(text: string): Holder | undefined {
  const [pid, tag, where] = text.trim().split(" ");
  if (tag === undefined) return undefined;
  return where === undefined ? { pid: Number(pid), tag } : { pid: Number(pid), tag, place: where };
}

/**
 * Removes the lock only if it is still the one `judged`. Two waiters can judge the same lock stale;
 * removing it blindly, the later one removed the lock the earlier one had just made in its place, and
 * both held it. So a lock is removed (taken over, or released by its holder) only by whoever made the
 * marker `<lock>.<its identity>.takeover` with O_EXCL, after seeing the lock is still the judged one:
 * while the marker exists nobody else removes that lock, and once it is gone no lock has its identity
 * again (each has a random tag). A marker is held for a few system calls; one left by a process
 * killed meanwhile is removed once older than `waitMs`, as a stale lock is.
 */
function removeIfStill(path: string, judged: Snapshot, waitMs: number): "removed" | "changed" | "failed" {
  const marker = `${path}.${createHash("sha256").update(judged.identity).digest("hex").slice(0, 16)}.takeover`;
  try {
    closeSync(openSync(marker, "wx", 0o600));
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST") return "failed";
    if (Date.now() - (mtimeOf(marker) ?? 0) > waitMs) remove(marker);
    return "changed"; // another is taking it over or releasing it: looked at again
  }
  try {
    if (snapshot(path)?.identity !== judged.identity) return "changed";
    return remove(path) ? "removed" : "failed";
  } finally {
    remove(marker);
  }
}

/** The marker's mtime, never throwing (gone, or not to be looked at: a symlink is not followed). */
function mtimeOf(marker: string): number | undefined {
  try {
    return lstatSync(marker, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}

/** The lock, if its holder's process (on this machine) is gone, or it has held it longer than any bounded refresh takes. */
function staleLock(path: string, waitMs: number): Snapshot | undefined {
  const seen = snapshot(path);
  if (seen === undefined) return undefined;
  if (Date.now() - seen.mtimeMs > waitMs) return seen;
  const holder = holderIn(seen.text);
  if (holder === undefined) return Date.now() - seen.mtimeMs > 1_000 ? seen : undefined; // being written, or damaged
  if (holder.pid === process.pid) return undefined;
  // Held on another machine or in another container: its pid cannot be looked up here, only its age tells.
  if (holder.place !== undefined && holder.place !== lockPlace()) return undefined;
  try {
    process.kill(holder.pid, 0);
    return undefined;
  } catch (error) {
    return (error as { code?: unknown }).code === "ESRCH" ? seen : undefined;
  }
}
