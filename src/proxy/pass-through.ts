// Which client lines the transforms are sure to forward byte for byte, told from a scan of their bytes (no parse), so a transport may send them on before the transforms look at them.

import { encodeUtf8 } from "../wire/jsonrpc.ts";
import { containsBytes, scanMethod } from "../wire/line-scan.ts";

/**
 * Bytes that may make a `tools/call` one the transforms answer (the proxy's own `baton_` tools) or
 * change (the `user_goal` / `expected_result` intent parameters). `\u` is there because an escape
 * could spell any of them.
 */
const TOOLS_CALL_MARKERS: readonly Uint8Array[] = ["baton_", "user_goal", "expected_result", "\\u"].map((text) =>
  encodeUtf8(text),
);

/**
 * True when the client line `body` (without its newline) is certain to be forwarded unchanged by
 * `fromClient`, whatever the proxy's state: one JSON object whose top-level `method` is plainly
 * readable and is neither `tools/list` (the proxy may answer it) nor a `tools/call` holding any of
 * the marker bytes. False means only "look first" (batches, junk, responses, escapes, long lines).
 * Keep in step with `clientMessage` in transform.ts: a new rewrite of a client message must make
 * its lines fail here (test/pass-through.test.ts cross-checks the two on a corpus).
 */
export function clientLinePassesUnchanged(body: Uint8Array): boolean {
  const method = scanMethod(body);
  if (method === undefined || method === "tools/list") return false;
  if (method !== "tools/call") return true;
  for (let i = 0; i < TOOLS_CALL_MARKERS.length; i++)
    if (containsBytes(body, TOOLS_CALL_MARKERS[i] as Uint8Array)) return false;
  return true;
}
