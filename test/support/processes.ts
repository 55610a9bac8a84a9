// Test helper: lists live processes (Linux /proc, else `ps`) to prove nothing is left running; zombies do not count as running.

import { readdirSync, readFileSync } from "node:fs";

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly zombie: boolean;
  /** The command line, one entry per argument on Linux; on other systems split at spaces (`ps` joins them). */
  readonly args: readonly string[];
}

/** Every process visible to us. Linux reads /proc; macOS and the BSDs ask `ps`; Windows has neither and throws. */
function listProcesses(): ProcessInfo[] {
  if (process.platform === "linux") return fromProc();
  if (process.platform === "win32")
    throw new Error("listing processes is not implemented on Windows: this check cannot run here");
  return fromPs();
}

function fromProc(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      found.push({ pid: Number(entry), ppid: Number(ppid), zombie: state === "Z", args });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function fromPs(): ProcessInfo[] {
  const ps = Bun.spawnSync(["ps", "-A", "-o", "pid=,ppid=,stat=,args="], { stdout: "pipe", stderr: "pipe" });
  if (ps.exitCode !== 0) throw new Error(`ps failed: ${ps.stderr.toString()}`);
  return ps.stdout
    .toString()
    .split("\n")
    .flatMap((line) => {
      const match = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
      if (match === null) return [];
      const [, pid, ppid, stat, args] = match;
      return [
        { pid: Number(pid), ppid: Number(ppid), zombie: (stat ?? "").startsWith("Z"), args: (args ?? "").split(" ") },
      ];
    });
}

/** Live (non-zombie) pids whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return listProcesses()
    .filter((p) => p.ppid === pid && !p.zombie)
    .map((p) => p.pid);
}

/** Live (non-zombie) pids with `marker` as one of their command-line arguments (markers must not contain spaces). */
export function pidsWithArgument(marker: string): number[] {
  return listProcesses()
    .filter((p) => !p.zombie && p.args.includes(marker))
    .map((p) => p.pid);
}

/** True while a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0): ask the process table (on Linux just this process's entry).
  if (process.platform === "linux") {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
      return false;
    }
  }
  return listProcesses().some((p) => p.pid === pid && !p.zombie);
}
