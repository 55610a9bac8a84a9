// The stdio upstream: the wrapped server as a child process in its own process group. Clean environment, the stop plan carried out on the whole tree, exit status passed on.

import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { LocalError, describeError } from "../errors.ts";
import { describeSpawnFailure, type SpawnFailure } from "./spawn-failure.ts";
import { createStopState, planStop, SIGNAL_GRACE_MS, type StopInput } from "./stop-plan.ts";
import type { Upstream } from "./upstream.ts";
import { resolveWindowsCommand, treeKillCommand } from "./windows-command.ts";

/** What is at a command given as a path (a bare name is looked up in PATH: "missing" says nothing then). */
function kindOf(command: string): SpawnFailure["kind"] {
  try {
    const info = statSync(command);
    return info.isDirectory() ? "directory" : info.isFile() ? "file" : "other";
  } catch {
    return "missing";
  }
}

/** The program a script's `#!` line names (its first word), read from the file's first bytes; undefined for anything else. */
function interpreterOf(command: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(command, "r");
    const bytes = Buffer.alloc(256);
    const head = bytes.subarray(0, readSync(fd, bytes, 0, bytes.length, 0)).toString("latin1");
    const program = head.startsWith("#!") ? head.slice(2).trimStart().split(/\s/)[0] : undefined;
    return program === "" ? undefined : program;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How often `release()` looks whether the process group is empty. */
const GROUP_POLL_MS = 20;

export interface ChildUpstream extends Upstream {
  readonly pid: number;
}

/** The child's environment: the proxy's own minus every BATON_* variable (keys and tokens stay with us). */
export function childEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith("BATON_")) out[key] = value;
  }
  return out;
}

/** The OS seam of a child: tests of the stop logic can run without processes. Defaults are the real ones. */
export interface ChildSystem {
  readonly platform: NodeJS.Platform;
  /** process.kill: a negative pid signals the process group. */
  readonly kill: (pid: number, signal: NodeJS.Signals | 0) => void;
  /** Runs a helper command and forgets it (Windows: taskkill). */
  readonly run: (argv: readonly string[]) => void;
  /** True while a live (non-zombie) process is in group `pgid`. */
  readonly groupAlive: (pgid: number) => boolean;
}

const REAL_SYSTEM: ChildSystem = {
  platform: process.platform,
  kill: (pid, signal) => void process.kill(pid, signal),
  run: (argv) => void Bun.spawn([...argv], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }),
  groupAlive: (pgid) => (process.platform === "linux" ? linuxGroupAlive(pgid) : signalReaches(-pgid)),
};

function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM"; // alive, just not ours to signal
  }
}

/**
 * kill(-pgid, 0) also reaches zombies, and an init that reaps orphans late (containers) keeps
 * them for a second or more: look for a member that is not a zombie instead.
 */
function linuxGroupAlive(pgid: number): boolean {
  // Nothing left at all (the usual exit): no need to read every /proc/<pid>/stat (~250 files on a
  // busy machine, milliseconds each time, polled every GROUP_POLL_MS, on the exit path).
  if (!signalReaches(-pgid)) return false;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return signalReaches(-pgid);
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3);
      if (Number(group) === pgid && state !== "Z" && state !== "X") return true;
    } catch {
      // It ended while we looked.
    }
  }
  return false;
}

/**
 * Starts `command` with piped stdin/stdout and the proxy's stderr. On POSIX it leads its own
 * process group (Bun's `detached`: setsid), so every stop reaches what it started too (`sh -c`,
 * npx, wrapper scripts); on Windows it is resolved like a host does (PATHEXT, .cmd shims) and its
 * tree is stopped with taskkill. Throws LocalError(E_SPAWN) naming the command and the OS reason.
 */
export function spawnChild(
  command: readonly string[],
  env: Record<string, string>,
  cwd?: string,
  system: ChildSystem = REAL_SYSTEM,
): ChildUpstream {
  const windows = system.platform === "win32";
  const launch = windows ? resolveWindowsCommand(command, env, isFile) : { argv: command, verbatim: false };
  let proc: import("bun").Subprocess<"pipe", "pipe", "inherit">;
  try {
    proc = Bun.spawn([...launch.argv], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env,
      cwd,
      detached: !windows,
      windowsVerbatimArguments: launch.verbatim,
    });
  } catch (error) {
    const name = command[0] ?? "";
    const message = describeSpawnFailure({
      command: name,
      code: (error as { code?: string }).code,
      reason: describeError(error),
      path: env.PATH ?? env.Path,
      cwd: cwd ?? process.cwd(),
      platform: system.platform,
      kind: kindOf(name),
      interpreter: interpreterOf(name),
    });
    throw new LocalError("E_SPAWN", message, { cause: error });
  }
  const pid = proc.pid;
  const state = createStopState(system.platform);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let childGone = false;
  /** A signal the stop steps sent on their own (a timer, not one passed on) while the child still ran. */
  let stoppedByUs = false;

  /** Signals the whole tree (the process group; on Windows a tree kill while its root lives). */
  const signalTree = (signal: NodeJS.Signals): void => {
    if (windows) {
      if (!childGone) system.run(treeKillCommand(pid));
      return;
    }
    try {
      system.kill(-pid, signal);
    } catch {
      // Nothing of it is left (ESRCH), or not ours to signal (EPERM): nothing more we can do.
    }
  };
  const treeAlive = (): boolean => (windows ? !childGone : system.groupAlive(pid));
  const apply = (input: StopInput): void => {
    const step = planStop(state, input);
    if (step.closeInput) {
      try {
        void Promise.resolve(proc.stdin.end()).catch(() => undefined);
      } catch {
        // stdin already closed (EPIPE): the signals still apply.
      }
    }
    if (step.send !== undefined) {
      if (input.kind === "timer" && !childGone) stoppedByUs = true;
      signalTree(step.send);
    }
    if (step.timerMs !== undefined) {
      clearTimeout(timer);
      timer = step.timerMs === null ? undefined : setTimeout(() => apply({ kind: "timer" }), step.timerMs);
    }
  };

  const exited = proc.exited.then(async () => {
    childGone = true;
    // What the child started may live on in its group (holding stdout, ignoring EOF): stop it too.
    apply({ kind: "exited", groupAlive: treeAlive() });
    if (proc.signalCode) {
      // Loaded only here: node:os is slow to import and only a signal death needs its table.
      const { constants } = await import("node:os");
      return 128 + (constants.signals[proc.signalCode as NodeJS.Signals] ?? 0);
    }
    return proc.exitCode ?? 1;
  });

  let released: Promise<void> | undefined;
  return {
    pid,
    input: proc.stdin,
    output: proc.stdout,
    exited,
    describeExit: () => (proc.signalCode ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`),
    stoppedByProxy: () => stoppedByUs,
    close: () => apply({ kind: "close" }),
    signal: (signal) => apply({ kind: "signal", signal }),
    release() {
      released ??= exited.then(async () => {
        // Bounded: the plan SIGKILLs the group within one grace period of the child's exit.
        const deadline = performance.now() + 2 * SIGNAL_GRACE_MS;
        while (!state.killSent && treeAlive() && performance.now() < deadline) await Bun.sleep(GROUP_POLL_MS);
        clearTimeout(timer);
      });
      return released;
    },
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
