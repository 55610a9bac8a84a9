// Black-box: the default deployment's one event file, shared by every proxy a host launches (one per configured server), written and read at the same time.

import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { ROOT } from "./support/binary.ts";
import { eventually, fixture, INIT_PARAMS, isAlive, runBinary, startProxy, tempDir } from "./support/proxy-process.ts";

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

const FAKE_SERVER = [process.execPath, join(ROOT, "scripts", "bench-fake-server.mjs")];

describe("several proxies appending at once", () => {
  test("batches of megabytes from four proxies never tear or interleave a line, nor add a blank one; each session is whole and listed", async () => {
    const events = join(tempDir(), "events.jsonl");
    const CALLS = 40;
    // Arguments and results near the 64 KiB per-field bound, several fields: events of about 256 KiB.
    const field = "é".repeat(40_000);
    const proxies = await Promise.all(
      [0, 1, 2, 3].map(() => startProxy(FAKE_SERVER, { env: { BATON_EVENT_SINK: `file://${events}` } })),
    );
    for (const p of proxies) leftovers.push(p.proc.pid);
    await Promise.all(
      proxies.map(async (p, k) => {
        await p.request(0, "initialize", { ...INIT_PARAMS, clientInfo: { name: `client-${k}`, version: "1" } });
        const calls = [];
        for (let i = 1; i <= CALLS; i++) {
          const args = i % 2 === 0 ? { bytes: 200_000 } : { text: field, b: field, c: field, d: field };
          calls.push(p.request(i, "tools/call", { name: i % 2 === 0 ? "blob" : "echo", arguments: args }));
        }
        await Promise.all(calls);
        expect(await p.close()).toBe(0);
      }),
    );
    expect(malformed(events)).toEqual([]);
    // JSON Lines: every line an event. A line break added for another proxy's write in progress left blank ones.
    expect(
      readFileSync(events, "utf8")
        .split("\n")
        .slice(0, -1)
        .filter((l) => l.trim() === ""),
    ).toEqual([]);
    const bySession = new Map<string, number[]>();
    for (const event of readValidatedEvents(events)) {
      const seqs = bySession.get(event.session_id) ?? [];
      seqs.push(event.sequence_number);
      bySession.set(event.session_id, seqs);
    }
    expect(bySession.size).toBe(4);
    const whole = Array.from({ length: 2 * CALLS }, (_, i) => i + 1);
    for (const seqs of bySession.values()) expect(seqs).toEqual(whole);
    const list = await runBinary(["report", events, "--list", "--format", "json"]);
    expect(list.stderr).toBe(""); // no malformed line counted
    const listed = JSON.parse(list.stdout) as { session_id: string; calls: number }[];
    expect(listed.map((s) => s.calls)).toEqual([CALLS, CALLS, CALLS, CALLS]);
    expect(new Set(listed.map((s) => s.session_id))).toEqual(new Set(bySession.keys()));
  }, 30_000);
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

describe("the file deleted under a running session (a /tmp cleaner)", () => {
  test("the report of the recreated file counts the session's first events as missing, not a whole session", async () => {
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
    unlinkSync(events);
    await p.request(2, "tools/call", { name: "echo", arguments: { text: "after" } });
    expect(await p.close()).toBe(0);
    const report = await runBinary(["report", events]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain("- **Dropped events:** 2 (missing from the events read");
    const json = JSON.parse((await runBinary(["report", events, "--format", "json"])).stdout);
    expect(json.totals.dropped_events).toBe(2);
  });
});
