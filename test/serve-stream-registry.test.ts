// Unit: the drain's registries of open streams: closing aborts the open ones and any registered afterwards (a head that came just after).

import { describe, expect, test } from "bun:test";
import { StreamRegistry } from "../src/serve/stream-registry.ts";

describe("StreamRegistry", () => {
  test("closeAll aborts the open streams; an unregistered one is left alone", () => {
    const registry = new StreamRegistry();
    const [open, ended] = [new AbortController(), new AbortController()];
    registry.add(open);
    registry.add(ended)();
    expect(registry.size).toBe(1);
    registry.closeAll();
    expect([open.signal.aborted, ended.signal.aborted, registry.size]).toEqual([true, false, 0]);
  });

  test("a stream registered after closeAll (its upstream head came just after the drain's deadline) is aborted at once", () => {
    const registry = new StreamRegistry();
    registry.closeAll();
    const late = new AbortController();
    const release = registry.add(late);
    expect(late.signal.aborted).toBe(true);
    expect(registry.size).toBe(0);
    release();
  });
});
