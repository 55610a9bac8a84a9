// Test helper: finds processes by parent pid or by a marker argument (Linux /proc), to prove nothing is left running.

import { readdirSync, readFileSync } from "node:fs";

function eachProcess(visit: (pid: number, dir: string) => void): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      visit(Number(entry), `/proc/${entry}`);
    } catch {
      // The process ended while we looked.
    }
  }
}

/** Pids whose parent is `pid`. Empty on non-Linux platforms. */
export function childPids(pid: number): number[] {
  if (process.platform !== "linux") return [];
  const found: number[] = [];
  eachProcess((child, dir) => {
    const stat = readFileSync(`${dir}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === pid && !/\) Z /.test(stat)) found.push(child);
  });
  return found;
}

/** Live (non-zombie) pids with `marker` as one of their command-line arguments. Empty on non-Linux platforms. */
export function pidsWithArgument(marker: string): number[] {
  if (process.platform !== "linux") return [];
  const found: number[] = [];
  eachProcess((pid, dir) => {
    const args = readFileSync(`${dir}/cmdline`, "utf8").split("\0");
    if (!args.includes(marker)) return;
    if (/\) Z /.test(readFileSync(`${dir}/stat`, "utf8"))) return;
    found.push(pid);
  });
  return found;
}
