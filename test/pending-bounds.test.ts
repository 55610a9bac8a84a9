// Unit: what the proxy keeps of requests awaiting the server is bounded in size, not only in count: a client's huge ids or tool names, never answered, must not grow our memory without end.

import { describe, expect, test } from "bun:test";
import { MAX_PENDING_CHARS } from "../src/proxy/pending.ts";
import { createProxyState, failPending } from "../src/proxy/transform.ts";
import { client, drafts } from "./support/transform-driver.ts";

const MiB = 1024 * 1024;
const big = (tag: number) => `${"x".repeat(MiB)}${tag}`;
const call = (id: unknown, name: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {} },
});

/** Characters of the client's strings the state holds for requests not answered yet. */
function heldChars(state: ReturnType<typeof createProxyState>): number {
  let chars = 0;
  for (const [id, request] of state.pending)
    chars += (typeof id === "string" ? id.length : 0) + (request.call?.toolName.length ?? 0);
  for (const id of state.evictedIds.keys()) chars += typeof id === "string" ? id.length : 0;
  return chars;
}

describe("requests awaiting the server are bounded in size", () => {
  const count = Math.ceil((3 * MAX_PENDING_CHARS) / MiB);

  test("1 MiB string ids, never answered: the oldest are evicted, and evicted ids are not kept past the bound", () => {
    const state = createProxyState({ includeReportTool: false });
    const actions = Array.from({ length: count }, (_, i) => client(state, call(big(i), "t"))).flat();
    expect(heldChars(state)).toBeLessThanOrEqual(2 * MAX_PENDING_CHARS);
    expect(state.pending.has(big(count - 1))).toBe(true); // the newest is tracked
    const evicted = drafts(actions).filter((d) => (d.payload as { error_type?: string }).error_type === "evicted");
    expect(evicted.length).toBeGreaterThan(0);
    // The server's exit answers every request still tracked, and the evicted ones still kept.
    const answers = failPending(state, "upstream_exit", "gone", 0).filter((a) => a.type === "send");
    expect(answers.length).toBeGreaterThan(0);
  });

  test("1 MiB tool names, never answered: the same bound", () => {
    const state = createProxyState({ includeReportTool: false });
    for (let i = 0; i < count; i++) client(state, call(i, big(i)));
    expect(heldChars(state)).toBeLessThanOrEqual(2 * MAX_PENDING_CHARS);
    expect(state.pending.has(count - 1)).toBe(true);
  });
});
