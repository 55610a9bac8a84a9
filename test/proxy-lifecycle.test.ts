// Black-box: the compiled binary's CLI, config refusals, spawn failures, shutdown paths and exit statuses.

import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { binaryPath } from "./support/binary.ts";
import {
  cleanEnv,
  eventually,
  fixture,
  fixturePid,
  INIT_PARAMS,
  isAlive,
  runBinary,
  startProxy,
  tempDir,
} from "./support/proxy-process.ts";
import pkg from "../package.json" with { type: "json" };

describe("command line", () => {
  test("--version prints the package version", async () => {
    const r = await runBinary(["--version"]);
    expect(r).toEqual({ stdout: `baton-proxy ${pkg.version}\n`, stderr: "", code: 0 });
  });

  test("--help prints usage on stdout", async () => {
    const r = await runBinary(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("baton-proxy [options] [--] <command> [args...]");
  });

  test.each([
    [[], "no server command"],
    [["--"], "no server command"],
    [["--bogus", "--", "true"], "unknown option --bogus"],
    [["--bogus", "node", "x.js"], "unknown option --bogus"],
  ])("usage error %j: one-line reason + usage on stderr, exit 2, stdout empty", async (args, reason) => {
    const r = await runBinary(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toContain(reason);
    expect(r.stderr).toContain("Usage:");
  });

  test("bad configuration: every problem at once, exit non-zero, the server is never started, no secret printed", async () => {
    const dir = tempDir();
    const marker = join(dir, "started");
    const r = await runBinary(["--", "sh", "-c", `touch ${marker}`], {
      BATON_EVENT_SINK: "s3://bucket,https://console.example",
      BATON_CONSENT_TOKEN: "local",
      BATON_SCRUB: "sometimes",
      BATON_API_KEY: "",
    });
    expect(r.code).toBe(78);
    expect(r.stdout).toBe("");
    for (const fragment of ["s3:", "BATON_API_KEY", "BATON_CONSENT_TOKEN", "BATON_SCRUB"])
      expect(r.stderr).toContain(fragment);
    expect(existsSync(marker)).toBe(false);
    const secret = await runBinary(["--", "true"], {
      BATON_EVENT_SINK: "ftp://x",
      BATON_API_KEY: "sk-very-secret-1234",
    });
    expect(secret.stderr).not.toContain("sk-very-secret-1234");
  });

  test("a command that does not exist: named on stderr with the OS reason, exit 127", async () => {
    const r = await runBinary(["--", "no-such-mcp-server-xyz", "--flag"], { BATON_EVENT_SINK: "stderr:" });
    expect(r.code).toBe(127);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no-such-mcp-server-xyz");
    expect(r.stderr).toMatch(/not found|ENOENT/i);
  });

  test("a command that is not executable: exit 126 with the reason", async () => {
    const file = join(tempDir(), "server.sh");
    writeFileSync(file, "#!/bin/sh\n");
    chmodSync(file, 0o644);
    const r = await runBinary(["--", file], { BATON_EVENT_SINK: "stderr:" });
    expect(r.code).toBe(126);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/EACCES|permission denied/i);
  });

  test("a failed start says what to change in the host's entry: the PATH searched, the directory a relative path is read from, a script without #!, a directory, a Windows command", async () => {
    const dir = tempDir();
    const script = join(dir, "server.js");
    writeFileSync(script, 'console.log("no shebang line")\n');
    chmodSync(script, 0o755);
    // Hosts such as Claude Desktop start servers with a short PATH: `npx` is not found where the terminal finds it.
    const bare = await runBinary(["--", "npx-missing-here", "-y", "pkg"], { PATH: "/usr/bin:/bin" });
    expect(bare.code).toBe(127);
    expect(bare.stderr).toContain("PATH=/usr/bin:/bin");
    expect(bare.stderr).toContain("absolute path");
    // A host starts the proxy in a directory of its choosing (`/` for Claude Desktop): say which.
    const relative = await runBinary(["--", "./server.js"], {}, { cwd: "/" });
    expect(relative.code).toBe(127);
    expect(relative.stderr).toMatch(/in \/, the working directory/);
    const noShebang = await runBinary(["--", script]);
    expect(noShebang.code).toBe(126);
    expect(noShebang.stderr).toContain("#!/usr/bin/env node");
    expect(noShebang.stderr).not.toContain("unknown error");
    const directory = await runBinary(["--", dir]);
    expect(directory.code).toBe(126);
    expect(directory.stderr).toContain("is a directory");
    expect(directory.stderr).not.toContain("permission denied");
    const windows = await runBinary(["--", "C:\\Program Files\\nodejs\\npx.cmd", "-y", "pkg"]);
    expect(windows.code).toBe(127);
    expect(windows.stderr).toContain("Windows command");
    // Our options written after the `--` that ends them.
    const late = await runBinary(["--", "--url", "https://mcp.example.com/mcp"]);
    expect(late.code).toBe(127);
    expect(late.stderr).toContain('options go before "--"');
    expect(late.stderr).not.toContain("absolute path");
    // A whole command line in one argument, as `"args": ["--", "npx -y pkg"]`.
    const joined = await runBinary(["--", "npx -y @modelcontextprotocol/server-everything"]);
    expect(joined.code).toBe(127);
    expect(joined.stderr).toContain('"npx", "-y", "@modelcontextprotocol/server-everything"');
    for (const r of [bare, relative, noShebang, directory, windows, late, joined]) expect(r.stdout).toBe("");
  });

  test("the compiled binary ignores .env and bunfig.toml in its working directory", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, ".env"), "BATON_EVENT_SINK=s3://from-dotenv\n");
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./nope.ts"]\n');
    const { stderr, code } = await runBinary(["--", "true"], { BATON_EVENT_SINK: "stderr:" }, { cwd: dir });
    expect(stderr).not.toContain("s3://");
    expect(stderr).not.toContain("nope.ts");
    expect(code).toBe(0);
  });
});

describe("stdout carries only MCP messages", () => {
  test("BATON_PROXY_LOG_FILE naming our own stdout (/dev/stdout, a pipe): the log stays on stderr, with a warning", async () => {
    // A real pipe on both sides, as Python and Go hosts give (Bun and Node give sockets, which /dev/stdout cannot open).
    const input = `this line is not JSON\n${JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS })}\n`;
    const proc = Bun.spawn(
      ["sh", "-c", 'printf "%s" "$INPUT" | "$@" | cat', "sh", await binaryPath(), "--", ...fixture("echo")],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: cleanEnv({ INPUT: input, BATON_PROXY_LOG_FILE: "/dev/stdout" }),
      },
    );
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain("forwarded a line that is not JSON"); // the log line that must not reach stdout
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toStartWith('{"jsonrpc":"2.0"');
    expect(stderr).toContain("BATON_PROXY_LOG_FILE");
  });
});

describe("stdout carries only MCP messages, even when it is a file", () => {
  test("a file:// sink naming the file our stdout is redirected to is refused loudly; no event lands on stdout", async () => {
    const out = join(tempDir(), "stdout.jsonl");
    const input = [
      JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS }),
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "echo", arguments: { text: "x" } },
      }),
    ].join("\n");
    const proc = Bun.spawn(
      [
        "sh",
        "-c",
        '(printf "%s\\n" "$INPUT"; sleep 1) | "$@" > "$OUT"',
        "sh",
        await binaryPath(),
        "--",
        ...fixture("echo"),
      ],
      {
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: cleanEnv({ INPUT: input, OUT: out, BATON_EVENT_SINK: `file://${out}` }),
      },
    );
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(0);
    const lines = readFileSync(out, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toStartWith('{"jsonrpc":"2.0"');
    expect(stderr).toContain(`file sink ${out}: cannot open: the proxy's own stdout, which carries only MCP messages`);
  });
});

describe("BATON_PROXY_LOG_FILE is opened like the event file", () => {
  // The log file is often put in /tmp, where another user can plant a FIFO or a symlink first.
  test("a FIFO there does not hang the proxy, and a symlink there is not followed: the log stays on stderr", async () => {
    const dir = tempDir();
    const fifo = join(dir, "fifo.log");
    Bun.spawnSync(["mkfifo", fifo]);
    const victim = join(dir, "victim");
    writeFileSync(victim, "untouched\n");
    const link = join(dir, "link.log");
    symlinkSync(victim, link);
    for (const [log, reason] of [
      [fifo, /ENXIO|not a regular file/], // no reader yet: the non-blocking open fails; with one: not a file
      [link, /symbolic link/],
    ] as const) {
      const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log } });
      try {
        p.send("this line is not JSON\n"); // logged: the first log line opens the file
        expect((await p.request(1, "ping", undefined)).result).toEqual({});
        expect(await p.close()).toBe(0);
        expect(p.stderr()).toContain("forwarded a line that is not JSON");
        expect(p.stderr()).toContain(`cannot write the log file ${log}`);
        expect(p.stderr()).toMatch(reason);
      } finally {
        p.proc.kill("SIGKILL"); // a proxy stuck opening the FIFO ignores SIGTERM
      }
    }
    expect(readFileSync(victim, "utf8")).toBe("untouched\n");
  });
});

describe("lifecycle", () => {
  test("client EOF: child's stdin is closed, the proxy exits with the child's status, nothing left running", async () => {
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:" } });
    await p.request(0, "initialize", INIT_PARAMS);
    const pid = fixturePid(p.stderr());
    expect(await p.close()).toBe(0);
    expect(p.stderr()).toContain("fixture stdin closed");
    await eventually(() => !isAlive(pid), 2000, "the child to be gone");
  });

  test("a child that ignores EOF and SIGTERM is killed within a few seconds; exit 128+9", async () => {
    const p = await startProxy(fixture("never-exits"), { env: { BATON_EVENT_SINK: "stderr:" } });
    await p.request(0, "initialize", INIT_PARAMS);
    const pid = fixturePid(p.stderr());
    const started = performance.now();
    expect(await p.close()).toBe(137);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(p.stderr()).toContain("fixture ignoring SIGTERM");
    await eventually(() => !isAlive(pid), 2000, "the child to be gone");
  });

  test.each([
    ["SIGTERM", 143, "fixture got SIGTERM"],
    ["SIGINT", 130, "fixture got SIGINT"],
    ["SIGHUP", 129, ""],
  ] as const)("%s to the proxy is forwarded to the child; orderly exit with its status", async (signal, code, line) => {
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:" } });
    await p.request(0, "initialize", INIT_PARAMS);
    const pid = fixturePid(p.stderr());
    p.proc.kill(signal);
    expect(await p.proc.exited).toBe(code);
    if (line) expect(p.stderr()).toContain(line);
    await eventually(() => !isAlive(pid), 2000, "the child to be gone");
  });

  test("child crashes mid-call: the in-flight request gets a JSON-RPC error, an upstream_exit event, and the proxy exits with the child's code", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "never", arguments: {} } });
    const crash = await p.request(2, "tools/call", { name: "crash", arguments: {} });
    expect(crash.error.code).toBe(-32603);
    expect(crash.error.message).toContain("exit code 3");
    const other = await p.next((m) => m.id === 1);
    expect(other.error.code).toBe(-32603);
    expect(await p.proc.exited).toBe(3);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.filter((e) => e.event_type === "tool_call_error").map((e) => e.payload.error_type)).toEqual([
      "upstream_exit",
      "upstream_exit",
    ]);
  });

  test("client EOF with a call in flight: the call is closed as proxy_shutdown, events flushed before exit", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "never", arguments: {} } });
    await p.request(2, "ping");
    expect(await p.close()).toBe(0);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_error"]);
    expect(all[1]?.payload.error_type).toBe("proxy_shutdown");
  });
});
