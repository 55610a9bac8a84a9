// Black-box: the default deployment's one event file, shared by every proxy a host launches (one per configured server), written and read at the same time.

import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { eventually, fixture, INIT_PARAMS, isAlive, startProxy, tempDir } from "./support/proxy-process.ts";

const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

/** The file's lines that are not blank and not JSON (a torn or glued line). */
const malformed = (path: string): string[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => {
      if (l.trim() === "") return false;
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });

describe("another writer's unfinished line", () => {
  test("a fragment left by another proxy (killed mid-write, or cut short by a full disk) is not glued to this proxy's next event", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    leftovers.push(p.proc.pid);
    await p.request(0, "initialize", INIT_PARAMS);
    await p.request(1, "tools/call", { name: "echo", arguments: { text: "before" } });
    await eventually(
      () => existsSync(events) && readValidatedEvents(events).length === 2,
      5_000,
      "the first call's events",
    );
    // Another proxy sharing the file died inside its write: its last line has no end.
    const fragment = '{"event_type":"tool_call_start","session_id":"another-proxy","payload":{"para';
    appendFileSync(events, fragment);
    await p.request(2, "tools/call", { name: "echo", arguments: { text: "after" } });
    expect(await p.close()).toBe(0);
    expect(malformed(events)).toEqual([fragment]); // only the other writer's own line is lost
    const ours = readFileSync(events, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && l !== fragment)
      .map((l) => JSON.parse(l) as Record<string, any>);
    expect(ours.map((e) => e.sequence_number)).toEqual([1, 2, 3, 4]);
  });
});
