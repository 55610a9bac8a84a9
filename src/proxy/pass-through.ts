// Which client lines the transforms are sure to forward byte for byte, told from a scan of their bytes (no parse), so a transport may send them on before the transforms look at them.

import { encodeUtf8 } from "../wire/jsonrpc.ts";
import { scanMethod } from "../wire/line-scan.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

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
 * readable and is neither `tools/list` (the proxy may answer it), `notifications/cancelled` (it may name a request the proxy answered) nor a `tools/call` holding any of
 * the marker bytes. False means only "look first" (batches, junk, responses, escapes, long lines).
 * Keep in step with `clientMessage` in transform.ts: a new rewrite of a client message must make
 * its lines fail here (test/pass-through.test.ts cross-checks the two on a corpus).
 */
export function clientLinePassesUnchanged(body: Uint8Array): boolean {
  const method = scanMethod(body);
  // A cancellation of a request the proxy answered itself is not forwarded (client-message.ts).
  if (method === undefined || method === "tools/list" || method === "notifications/cancelled") return false;
  if (method !== "tools/call") return true;
  return !containsMarker(body);
}

const UNDERSCORE = 0x5f;
const BACKSLASH = 0x5c;

/**
 * The markers by where they are looked for: at each `_` (rare in JSON text, unlike letters) for
 * those holding one, and at each `\` for `\u`. One pass over the line, a compare per byte.
 */
const AT_UNDERSCORE = TOOLS_CALL_MARKERS.filter((marker) => marker.includes(UNDERSCORE)).map((marker) => ({
  marker,
  offset: marker.indexOf(UNDERSCORE),
}));

/** True when any of TOOLS_CALL_MARKERS occurs in `body` (the tool may be ours, or intent params may need stripping). */
export function containsMarker(body: Uint8Array): boolean {
  const end = body.length;
  for (let at = 0; at < end; at++) {
    const byte = body[at];
    if (byte === BACKSLASH) {
      if (body[at + 1] === 0x75) return true; // `\u`
      at++; // an escaped byte cannot start a marker we look for
      continue;
    }
    if (byte !== UNDERSCORE) continue;
    for (const { marker, offset } of AT_UNDERSCORE) {
      const from = at - offset;
      if (from < 0 || from + marker.length > end) continue;
      let k = 0;
      while (k < marker.length && body[from + k] === marker[k]) k++;
      if (k === marker.length) return true;
    }
  }
  return false;
}
// Once per client line, a short loop: its FTL compile cost ~1.7 ms of JIT CPU for nanoseconds a line.
keepOutOfFtl(containsMarker);
