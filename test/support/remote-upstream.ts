// Test helper: the `--url` upstream (createHttpUpstream) in process, against a loopback origin, with the options no test varies.

import { createHttpUpstream } from "../../src/remote/http-upstream.ts";
import { createMemoryLogger } from "./memory-logger.ts";
import { createKeyMatcher } from "../../src/telemetry/scrub-keys.ts";

/** The upstream for `${origin}/mcp`: no auth, no headers or secrets, a 60 s timeout; `fetch` may be a test's own. */
export function createTestUpstream(origin: string, fetch: typeof globalThis.fetch = globalThis.fetch) {
  return createHttpUpstream({
    target: { url: new URL(`${origin}/mcp`), origin, headers: {}, secrets: [] },
    timeoutMs: 60_000,
    userAgent: "test",
    authorizer: undefined,
    logger: createMemoryLogger(),
    fetch,
    secrets: [],
    secretKeys: createKeyMatcher([]),
  });
}
