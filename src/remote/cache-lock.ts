// A lock file beside one server's OAuth record, so the proxies of every host session (one per server, per session) refresh its tokens one at a time.

import { closeSync, openSync, readFileSync, readlinkSync, rmSync, statSync, writeSync } from "node:fs";
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
 * is taken over. Only the holder's own lock is removed afterwards.
 */
export async function withCacheLock<T>(path: string, waitMs: number, task: () => Promise<T>): Promise<T> {
  const own: Holder = { pid: process.pid, tag: crypto.randomUUID() };
  const deadline = performance.now() + waitMs;
  let held = false;
  for (;;) {
    const attempt = tryCreate(path, own);
    held = attempt === "held";
    if (attempt !== "busy") break;
    if (isStale(path, waitMs)) {
      if (!remove(path)) break;
      continue;
    }
    if (performance.now() >= deadline) break;
    await Bun.sleep(POLL_MS);
  }
  try {
    return await task();
  } finally {
    if (held && readHolder(path)?.tag === own.tag) remove(path);
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

function readHolder(path: string): Holder | undefined {
  try {
    const [pid, tag, where] = readFileSync(path, "utf8").trim().split(" ");
    if (tag === undefined) return undefined;
    return where === undefined ? { pid: Number(pid), tag } : { pid: Number(pid), tag, place: where };
  } catch {
    return undefined;
  }
}

/** The holder's process (on this machine) is gone, or it has held the lock longer than any bounded refresh takes. */
function isStale(path: string, waitMs: number): boolean {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path, { throwIfNoEntry: false });
  } catch {
    return false; // cannot be looked at: waited for, up to the bound
  }
  if (stat === undefined) return false;
  if (Date.now() - stat.mtimeMs > waitMs) return true;
  const holder = readHolder(path);
  if (holder === undefined) return Date.now() - stat.mtimeMs > 1_000; // being written, or damaged
  if (holder.pid === process.pid) return false;
  // Held on another machine or in another container: its pid cannot be looked up here, only its age tells.
  if (holder.place !== undefined && holder.place !== lockPlace()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === "ESRCH";
  }
}
