// The stdio upstream: the wrapped server as a child process. Starts it with a clean environment, stops it in steps, passes its exit status on.

import { LocalError, describeError } from "../errors.ts";
import type { Upstream } from "./upstream.ts";

/** After the client's EOF, how long a server gets to exit by itself before SIGTERM (well-behaved ones exit in ~20 ms). */
export const STDIN_EOF_GRACE_MS = 1_000;
/** After SIGTERM, how long before SIGKILL. The MCP SDK uses 2 s + 2 s; hosts may SIGKILL us 2 s after EOF, so we stay inside that. */
export const SIGTERM_GRACE_MS = 1_000;

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

/**
 * Starts `command` with piped stdin/stdout and the proxy's stderr. Throws a LocalError(E_SPAWN)
 * naming the command and the OS reason when it cannot be started.
 */
export function spawnChild(command: readonly string[], env: Record<string, string>, cwd?: string): ChildUpstream {
  let proc: import("bun").Subprocess<"pipe", "pipe", "inherit">;
  try {
    proc = Bun.spawn([...command], { stdin: "pipe", stdout: "pipe", stderr: "inherit", env, cwd });
  } catch (error) {
    throw new LocalError("E_SPAWN", `cannot start "${command[0]}": ${describeError(error)}`, { cause: error });
  }
  let stopping = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const exited = proc.exited.then(async () => {
    for (const timer of timers) clearTimeout(timer);
    if (proc.signalCode) {
      // Loaded only here: node:os is slow to import and only a signal death needs its table.
      const { constants } = await import("node:os");
      return 128 + (constants.signals[proc.signalCode as NodeJS.Signals] ?? 0);
    }
    return proc.exitCode ?? 1;
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    } catch {
      // Already gone: nothing to stop.
    }
  };
  let stopRequested = false;
  const stop = (firstSignal?: NodeJS.Signals): void => {
      stopRequested = true;
      if (firstSignal) signal(firstSignal);
      if (stopping) return;
      stopping = true;
      try {
        void Promise.resolve(proc.stdin.end()).catch(() => undefined);
      } catch {
        // stdin already closed (EPIPE): the signals below still apply.
      }
      timers.push(
        setTimeout(() => {
          signal("SIGTERM");
          timers.push(setTimeout(() => signal("SIGKILL"), SIGTERM_GRACE_MS));
        }, firstSignal ? SIGTERM_GRACE_MS : STDIN_EOF_GRACE_MS),
      );
  };
  return {
    pid: proc.pid,
    input: proc.stdin,
    output: proc.stdout,
    exited,
    describeExit: () => (proc.signalCode ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`),
    close: () => stop(),
    signal(sig) {
      if (stopRequested) signal("SIGKILL"); // a second stop request: the user means it
      stop(sig);
    },
    release: () => Promise.resolve(),
  };
}
