// How a Streamable HTTP session ends: the time bounds of its stop and the closing DELETE (never throws).

import { sessionHeaders, type SessionFacts } from "./http-wire.ts";
import type { HttpUpstreamDeps } from "./upstream-types.ts";

/**
 * After the client leaves, how long requests still in flight may finish before they are aborted.
 * With the DELETE's own bound this stays under the 2 s after EOF at which hosts may SIGKILL us.
 */
export const STOP_GRACE_MS = 500;
/** The closing DELETE of the session gets this long (less what a late handshake took, see below). */
export const DELETE_TIMEOUT_MS = 1_000;
/**
 * A handshake still in flight at the end of STOP_GRACE_MS gets this much longer: the server has
 * likely created a session, and only its answer names it, to be DELETEd. Taken from the DELETE's
 * bound, so the whole stop stays within STOP_GRACE_MS + DELETE_TIMEOUT_MS.
 */
export const HANDSHAKE_EXTRA_GRACE_MS = 500;

/** DELETEs session `sessionId` on the server, within `timeoutMs`; `authorized`: the session's headers with its credentials. */
export async function deleteSession(
  deps: HttpUpstreamDeps,
  facts: SessionFacts,
  authorized: () => Promise<Record<string, string>>,
  sessionId: string,
  timeoutMs: number,
): Promise<void> {
  try {
    const headers = sessionHeaders(await authorized(), { ...facts, sessionId });
    const response = await deps.fetch(deps.target.url, {
      method: "DELETE",
      headers,
      signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
    });
    await response.body?.cancel().catch(() => undefined);
  } catch {
    // The server is gone or slow: the session will expire on its own.
  }
}
