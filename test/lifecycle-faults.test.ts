// Black-box: the lifecycle faults of issue 9 §2 against the compiled binary: process trees, exit detection, a client that stops reading, an event file that disappears.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { childPids, pidsWithArgument } from "./support/processes.ts";
import {
  cleanEnv,
  eventually,
  fixture,
  FIXTURES,
  INIT_PARAMS,
  isAlive,
  startProxy,
  tempDir,
} from "./support/proxy-process.ts";

const dirs: string[] = [];
const leftovers: number[] = [];
const newDir = () => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  // A failing test must still leave nothing running.
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const pidFrom = (stderr: string, label: string): number => {
  const match = stderr.match(new RegExp(`${label} pid (\\d+)`));
  if (!match) throw new Error(`no "${label} pid" in stderr:\n${stderr}`);
  const pid = Number(match[1]);
  leftovers.push(pid);
  return pid;
};

/** Resolves with the elapsed ms when `proc` exits, or rejects after `ms`. */
async function exitWithin(
  proc: { exited: Promise<number> },
  ms: number,
  since: number,
  describe?: () => string,
): Promise<{ code: number; elapsed: number }> {
  const code = await Promise.race([proc.exited, Bun.sleep(ms + 2_000).then(() => "timeout" as const)]);
  if (code === "timeout")
    throw new Error(`the proxy did not exit within ${ms} ms${describe === undefined ? "" : `\n${describe()}`}`);
  return { code, elapsed: performance.now() - since };
}

const NEVER_EXITS = join(FIXTURES, "never-exits-server.ts");
const LAUNCHER = join(FIXTURES, "signal-dropping-launcher.ts");

describe.skipIf(process.platform === "win32")("process groups: the whole tree stops within 3 s of stdin EOF", () => {
  test.each([
    // sh dies of the group's SIGTERM (143, the status passed on); the launcher ignores it until SIGKILL (137).
    [
      "behind sh -c without exec",
      ["sh", "-c", '"$0" "$1"; echo "sh: server ended" >&2', process.execPath, NEVER_EXITS],
      143,
    ],
    ["behind a launcher that forwards no signal", [process.execPath, LAUNCHER, process.execPath, NEVER_EXITS], 137],
  ] as const)("a grandchild ignoring EOF and SIGTERM %s", async (_name, command, status) => {
    const p = await startProxy([...command], { env: { BATON_EVENT_SINK: "stderr:" } });
    leftovers.push(p.proc.pid);
    await p.request(0, "initialize", INIT_PARAMS);
    const server = pidFrom(p.stderr(), "fixture");
    const direct = childPids(p.proc.pid);
    leftovers.push(...direct);
    expect(direct.length).toBe(1);
    expect(direct).not.toContain(server);
    const started = performance.now();
    p.proc.stdin.end();
    const { code, elapsed } = await exitWithin(p.proc, 3_000, started);
    expect(elapsed).toBeLessThan(3_000);
    expect(code).toBe(status);
    await eventually(() => !isAlive(server) && direct.every((pid) => !isAlive(pid)), 500, "the whole tree to be gone");
  });
});

describe.skipIf(process.platform === "win32")("exit detection", () => {
  test("a crash while a descendant holds stdout open: the call is answered and the proxy exits within 1 s with the child's status", async () => {
    const marker = `8.${Math.floor(Math.random() * 1e6)}`; // a unique argument; at worst it lingers 8 s
    const events = join(newDir(), "events.jsonl");
    const p = await startProxy(["sh", "-c", `sleep ${marker} & exec "$0" "$1"`, ...fixture("echo")], {
      env: { BATON_EVENT_SINK: `file://${events}` },
    });
    leftovers.push(p.proc.pid);
    await p.request(0, "initialize", INIT_PARAMS);
    // The background sleep may still be between fork and exec: wait until it is there.
    await eventually(() => pidsWithArgument(marker).length === 1, 5_000, "the background sleep");
    const helpers = pidsWithArgument(marker);
    leftovers.push(...helpers);
    const started = performance.now();
    const answer = await p.request(1, "tools/call", { name: "crash", arguments: {} });
    expect(answer.error.code).toBe(-32603);
    expect(answer.error.message).toContain("exit code 3");
    const { code, elapsed } = await exitWithin(p.proc, 1_000, started);
    expect(code).toBe(3);
    expect(elapsed).toBeLessThan(1_000);
    expect(helpers.filter(isAlive)).toEqual([]);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.map((e) => e.payload.error_type ?? e.event_type)).toEqual(["tool_call_start", "upstream_exit"]);
  });
});

describe.skipIf(process.platform === "win32")("the server's last output", () => {
  test("a large answer written just before exiting, with the client paused past the exit: it arrives whole", async () => {
    const go = join(newDir(), "go");
    // Our stdout is a real pipe (as Python and Go hosts give) to a client that reads only when told.
    const client = 'while [ ! -e "$GO" ]; do sleep 0.01; done; exec cat';
    const proc = Bun.spawn(["sh", "-c", `"$@" | { ${client}; }`, "sh", await binaryPath(), "--", ...fixture("echo")], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: cleanEnv({ GO: go }),
    });
    leftovers.push(proc.pid);
    let stderr = "";
    const stderrDone = (async () => {
      for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
    })();
    const stdout = new Response(proc.stdout).text();
    // Bigger than what the proxy takes in while the client pauses, small enough for the server to finish writing.
    const bytes = 512 * 1024;
    const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "last-words", arguments: { bytes } } };
    proc.stdin.write(`${JSON.stringify(call)}\n`);
    proc.stdin.flush();
    await eventually(() => stderr.includes("fixture pid"), 5_000, "the server to start");
    const server = pidFrom(stderr, "fixture");
    await eventually(() => !isAlive(server), 5_000, "the server to exit");
    await Bun.sleep(200); // the client's pause goes on past the exit, longer than the output may stay silent
    writeFileSync(go, "");
    const lines = (await stdout).split("\n").filter((l) => l !== "");
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
    await stderrDone;
    expect(lines.length).toBe(1);
    const answer = JSON.parse(lines[0] as string);
    expect(answer.id).toBe(1);
    expect(answer.result.content[0].text).toBe("w".repeat(bytes));
  });
});

describe.skipIf(process.platform === "win32")("the client stops reading", () => {
  test("our stdout closed: the server is stopped, events are flushed, clean exit within 3 s and no stack trace", async () => {
    const events = join(newDir(), "events.jsonl");
    const proc = Bun.spawn([await binaryPath(), "--", ...fixture("echo")], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
    });
    leftovers.push(proc.pid);
    let stderr = "";
    const stderrDone = (async () => {
      for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
    })();
    proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS })}\n`);
    proc.stdin.flush();
    const reader = proc.stdout.getReader();
    let first = "";
    while (!first.includes("\n")) first += new TextDecoder().decode((await reader.read()).value);
    expect(JSON.parse(first).id).toBe(0);
    // Cancelling closes our end of the pipe: from now on the proxy's stdout has no reader (EPIPE).
    await reader.cancel();
    const server = pidFrom(stderr, "fixture");
    // The close takes effect a moment later; the first answer written after it meets EPIPE.
    await Bun.sleep(50);
    const started = performance.now();
    let sent = 0;
    const sender = setInterval(() => {
      sent++;
      proc.stdin.write(
        `${JSON.stringify({ jsonrpc: "2.0", id: sent, method: "tools/call", params: { name: "echo", arguments: { text: "into the void" } } })}\n`,
      );
      proc.stdin.flush();
    }, 100);
    void proc.exited.then(() => clearInterval(sender));
    const { code, elapsed } = await exitWithin(proc, 3_000, started, () => `stderr:\n${stderr}`);
    expect(elapsed).toBeLessThan(3_000);
    expect(code).toBe(0);
    await stderrDone;
    const text = stderr;
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toContain("internal error");
    expect(isAlive(server)).toBe(false);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.slice(0, 2).map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
  });
});

describe.skipIf(process.platform === "win32")("the server closes its stdout and keeps running", () => {
  test("the proxy stops it, and the log and the pending request's error say so (not that it exited by itself)", async () => {
    // The shell's stdout closed, then `sleep` in its place: alive, mute, never reading its stdin.
    const p = await startProxy(["sh", "-c", "exec >&-; exec sleep 30"], { env: { BATON_EVENT_SINK: "stderr:" } });
    leftovers.push(p.proc.pid);
    p.send({ jsonrpc: "2.0", id: 1, method: "ping" });
    const answer = await p.next((m) => m.id === 1);
    expect(answer.error.code).toBe(-32603);
    expect(answer.error.message).toContain("closed its stdout");
    expect(await p.proc.exited).toBe(143); // the server's status: the proxy's SIGTERM ended it
    await p.waitForStderr("the MCP server closed its stdout but kept running; the proxy stopped it (signal SIGTERM)");
    expect(p.stderr()).not.toContain("exited by itself");
  });
});

describe("the event file disappears mid-session", () => {
  test.each([
    ["deleted", (path: string) => unlinkSync(path)],
    ["renamed (logrotate)", (path: string) => renameSync(path, `${path}.1`)],
  ])("%s: later events reach a recreated file at the same path, said once on stderr", async (how, remove) => {
    const events = join(newDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    leftovers.push(p.proc.pid);
    await p.request(0, "initialize", INIT_PARAMS);
    await p.request(1, "tools/call", { name: "echo", arguments: { text: "before" } });
    await eventually(
      () => existsSync(events) && readValidatedEvents(events).length === 2,
      5_000,
      "the first call's events",
    );
    remove(events);
    await p.request(2, "tools/call", { name: "echo", arguments: { text: "after" } });
    await eventually(
      () => existsSync(events) && readValidatedEvents(events).length === 2,
      5_000,
      `a recreated event file after it was ${how}`,
    );
    await p.request(3, "tools/call", { name: "echo", arguments: { text: "later" } });
    expect(await p.close()).toBe(0);
    const after = readValidatedEvents(events);
    checkCallPairs(after);
    expect(after.map((e) => e.payload.params?.text ?? e.payload.result?.[0]?.text)).toEqual([
      "after",
      "after",
      "later",
      "later",
    ]);
    if (how.startsWith("renamed"))
      expect(
        readValidatedEvents(`${events}.1`).map((e) => e.payload.params?.text ?? e.payload.result?.[0]?.text),
      ).toEqual(["before", "before"]);
    expect(p.stderr().match(/reopen/g)?.length).toBe(1);
  });
});
