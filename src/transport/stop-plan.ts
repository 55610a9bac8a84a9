// When and how the server's process tree is stopped: a pure state machine over stop requests, signals, timers and the child's exit. No I/O, no clock.

/** After the client's EOF, how long a server gets to exit by itself before SIGTERM (well-behaved ones exit in ~20 ms). */
export const STDIN_EOF_GRACE_MS = 1_000;
/**
 * After a signal reaches the server, how long before the next step (SIGTERM after SIGINT/SIGHUP,
 * SIGKILL after SIGTERM). The MCP SDK gives a server 1-2 s after SIGTERM; we stay inside that.
 */
export const SIGNAL_GRACE_MS = 1_000;
/** The stop signal the proxy receives this many times (a person insisting) means SIGKILL at once. */
export const INSISTING_SIGNAL_COUNT = 3;

export type StopInput =
  /** The client is done or gone (stdin EOF, our stdout closed, the server closed its output). */
  | { readonly kind: "close" }
  /** A stop signal the proxy itself received. */
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  /** The timer armed by the previous step ran out. */
  | { readonly kind: "timer" }
  /** The direct child exited; `groupAlive`: something it started is still in its process group. */
  | { readonly kind: "exited"; readonly groupAlive: boolean };

/** What to do now. `send` goes to the whole tree (the process group; on Windows a tree kill). */
export interface StopStep {
  readonly closeInput: boolean;
  readonly send: NodeJS.Signals | undefined;
  /** Arm (replacing any armed timer) for this many ms, `null` to disarm, `undefined` to leave it. */
  readonly timerMs: number | null | undefined;
}

export interface StopState {
  readonly platform: NodeJS.Platform;
  inputClosed: boolean;
  /** Stop signals the proxy received. */
  received: number;
  /** What the armed timer will send; undefined when no timer is armed. */
  next: NodeJS.Signals | undefined;
  termSent: boolean;
  killSent: boolean;
  /** The child and its whole group are gone: nothing is left to stop. */
  finished: boolean;
}

export function createStopState(platform: NodeJS.Platform): StopState {
  return {
    platform,
    inputClosed: false,
    received: 0,
    next: undefined,
    termSent: false,
    killSent: false,
    finished: false,
  };
}

/**
 * The policy, one input at a time (mutates `state`):
 * - close: close the server's input; unless a signal already went out, SIGTERM after STDIN_EOF_GRACE_MS.
 * - a received signal: passed on as it comes (SIGINT stays SIGINT), the server's input left open; the next step
 *   (SIGTERM, or SIGKILL once SIGTERM went out) comes SIGNAL_GRACE_MS after the latest signal. The
 *   INSISTING_SIGNAL_COUNT-th received signal sends SIGKILL at once.
 * - timer: sends what was armed; after SIGTERM, SIGKILL follows SIGNAL_GRACE_MS later.
 * - exited: the child is gone but its group is not: SIGTERM the group now (unless already sent), SIGKILL after the grace.
 * On Windows there are no signals to pass on: every stop is EOF, then a tree kill after the grace.
 */
export function planStop(state: StopState, input: StopInput): StopStep {
  if (state.killSent || state.finished) return step(false, undefined, undefined);
  const windows = state.platform === "win32";
  // A signal leaves the server's stdin open, as a host signalling it directly would (a server may
  // treat EOF and SIGTERM differently); on Windows, where no signal can be passed on, EOF is the gentle stop.
  const closeInput = !state.inputClosed && (input.kind === "close" || (input.kind === "signal" && windows));
  if (closeInput) state.inputClosed = true;
  switch (input.kind) {
    case "close":
      if (state.next !== undefined || state.termSent) return step(closeInput, undefined, undefined);
      return arm(state, closeInput, undefined, windows ? "SIGKILL" : "SIGTERM", STDIN_EOF_GRACE_MS);
    case "signal": {
      state.received += 1;
      if (state.received >= INSISTING_SIGNAL_COUNT) return kill(state, closeInput);
      if (windows)
        return state.next !== undefined
          ? step(closeInput, undefined, undefined)
          : arm(state, closeInput, undefined, "SIGKILL", STDIN_EOF_GRACE_MS);
      if (input.signal === "SIGTERM") state.termSent = true;
      return arm(state, closeInput, input.signal, state.termSent ? "SIGKILL" : "SIGTERM", SIGNAL_GRACE_MS);
    }
    case "timer": {
      const due = state.next;
      if (due === undefined) return step(false, undefined, undefined);
      if (due === "SIGKILL") return kill(state, false);
      state.termSent = true;
      return arm(state, false, due, "SIGKILL", SIGNAL_GRACE_MS);
    }
    case "exited":
      if (!input.groupAlive || windows) {
        // Nothing left to stop (on Windows the tree is unreachable once its root is gone).
        state.finished = true;
        state.next = undefined;
        return step(false, undefined, null);
      }
      if (state.termSent) return step(false, undefined, undefined);
      state.termSent = true;
      return arm(state, false, "SIGTERM", "SIGKILL", SIGNAL_GRACE_MS);
  }
}

function arm(
  state: StopState,
  closeInput: boolean,
  send: NodeJS.Signals | undefined,
  next: NodeJS.Signals,
  ms: number,
): StopStep {
  state.next = next;
  return step(closeInput, send, ms);
}

function kill(state: StopState, closeInput: boolean): StopStep {
  state.killSent = true;
  state.next = undefined;
  return step(closeInput, "SIGKILL", null);
}

function step(closeInput: boolean, send: NodeJS.Signals | undefined, timerMs: number | null | undefined): StopStep {
  return { closeInput, send, timerMs };
}
