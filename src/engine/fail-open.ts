// Fail-open for the engine: a bug of ours while handling one message costs that message's events, never the session.

import type { Logger } from "../log.ts";
import type { Side } from "../proxy/transform.ts";

/** Failures logged one by one; later ones would flood the host's log with the same line. */
const MAX_LOGGED = 5;

/** What a transport does with a message the engine failed on: the engine's `WireAction`, forwarding only. */
export type PassOn = { readonly to: Side; readonly bytes: Uint8Array };

export interface FailOpen {
  /**
   * The wire actions for a message the engine threw on: `raw` passed on to `to` as it came (none
   * when it already went out: `sent`), the failure logged. The throw may have left the message
   * half-handled (a request tracked, an event missing); the pipe never pays for that.
   */
  passOn(error: unknown, what: string, to: Side, raw: Uint8Array, sent: boolean): PassOn[];
}

export function createFailOpen(logger: Logger): FailOpen {
  let failures = 0;
  return {
    passOn(error, what, to, raw, sent) {
      failures++;
      if (failures <= MAX_LOGGED) {
        const more = failures === MAX_LOGGED ? " (further ones are not logged)" : "";
        logger.error(
          `internal error handling ${what} (${describeBug(error)}): it was passed on unchanged, its events are lost${more}`,
        );
      }
      return sent ? [] : [{ to, bytes: raw }];
    },
  };
}

/**
 * The error's kind, message and where it was thrown, for a bug report. Quoted text goes: a parse
 * error's message may quote the message being handled, and that may hold a secret.
 */
function describeBug(error: unknown): string {
  if (!(error instanceof Error)) return "a non-Error value was thrown";
  const message = error.message.replace(/"[^"]*"|'[^']*'/g, "…").slice(0, 200);
  const at = error.stack?.split("\n").find((line) => line.trim().startsWith("at "));
  return `${error.name}: ${message}${at === undefined ? "" : `, ${at.trim()}`}`;
}
