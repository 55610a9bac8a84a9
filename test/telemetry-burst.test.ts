// Black-box: a burst of pipelined calls loses no event with healthy local sinks (the pumps give telemetry its turns).

import { expect, test } from "bun:test";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

test("20 000 calls written at once: every answer arrives and every event reaches the file, whatever stderr keeps up with", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `stderr:,file://${events}` } });
  await p.request(0, "initialize", INIT_PARAMS);
  const CALLS = 20_000;
  let burst = "";
  for (let i = 1; i <= CALLS; i++)
    burst += `${JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "echo", arguments: { text: `b${i}` } } })}\n`;
  p.send(burst);
  await p.next((m) => m.id === CALLS, 60_000);
  expect(await p.close()).toBe(0);
  expect(p.lines.filter((l) => l.includes('"result"')).length).toBe(CALLS + 1);
  // The file sink never drops here; a stderr reader slower than ~20 MB/s may cost stderr-sink events,
  // which must then be counted in the log (never a stall of the pipe, never silent).
  expect(p.stderr()).not.toMatch(/dropped \d+ event\(s\) for file:/);
  if (/dropped \d+ event\(s\) for stderr:/.test(p.stderr()))
    expect(p.stderr()).toMatch(/telemetry dropped \d+ event deliveries this session: stderr:/);
  const all = readValidatedEvents(events);
  expect(all.length).toBe(2 * CALLS);
  checkCallPairs(all);
}, 60_000);
