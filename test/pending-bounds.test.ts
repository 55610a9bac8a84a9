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
    // Evicted ids still owed an answer fill the bound, no less: dropping one gives its characters back.
    let evictedChars = 0;
    for (const id of state.evictedIds.keys()) evictedChars += typeof id === "string" ? id.length : 0;
    expect(evictedChars).toBeLessThanOrEqual(MAX_PENDING_CHARS);
    expect(evictedChars).toBeGreaterThan(MAX_PENDING_CHARS - (MiB + 2));
    const evicted = drafts(actions).filter((d) => (d.payload as { error_type?: string }).error_type === "evicted");
    expect(evicted.length).toBeGreaterThan(0);
    // The server's exit answers every request still tracked, and the evicted ones still kept.
    const answers = failPending(state, "upstream_exit", "gone", 0).filter((a) => a.type === "send");
    expect(answers.length).toBeGreaterThan(0);
  });

  test("the bound evicts only the oldest needed to fit: requests with long strings under it all stay tracked", () => {
    const state = createProxyState({ includeReportTool: false });
    const actions = [
      ...client(state, call(big(0), "t")),
      ...client(state, call(1, "t")),
      ...client(state, call(big(2), "t")),
    ];
    expect(drafts(actions).map((d) => d.event_type)).toEqual(["tool_call_start", "tool_call_start", "tool_call_start"]);
    expect([...state.pending.keys()]).toEqual([big(0), 1, big(2)]);
    // Past it, exactly as many of the newest as fit stay (1 MiB + 2 characters each, 32 Mi in all).
    for (let i = 10; i < 50; i++) client(state, call(big(i), "t"));
    expect(state.pending.size).toBe(Math.floor(MAX_PENDING_CHARS / (MiB + 2)));
    expect(state.pending.has(big(49))).toBe(true);
    expect(state.pending.has(1)).toBe(false); // the oldest went first, short or not
  });

  test("1 MiB tool names, never answered: the same bound", () => {
    const state = createProxyState({ includeReportTool: false });
    for (let i = 0; i < count; i++) client(state, call(i, big(i)));
    expect(heldChars(state)).toBeLessThanOrEqual(2 * MAX_PENDING_CHARS);
    expect(state.pending.has(count - 1)).toBe(true);
  });
});
