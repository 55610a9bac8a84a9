// Black-box: the compiled binary's command line: launching without "--", reserved subcommand names, configuration refusals in words.

import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./support/binary.ts";
import { fixture, INIT_PARAMS, runBinary, startProxy, tempDir } from "./support/proxy-process.ts";

const dir = tempDir("baton-cli-binary-");
const REALISTIC = join(import.meta.dir, "fixtures/report/realistic.jsonl");

describe("launching without --", () => {
  test("the first non-option argument starts the server command; its own flags stay its own", async () => {
    const proxy = await startProxy(fixture("echo"), {
      separator: false,
      env: { BATON_EVENT_SINK: `file://${join(dir, "no-dashes.jsonl")}` },
    });
    const init = await proxy.request(1, "initialize", INIT_PARAMS);
    expect(init.result.serverInfo).toBeDefined();
    const call = await proxy.request(2, "tools/call", { name: "echo", arguments: { text: "--help" } });
    expect(JSON.stringify(call.result)).toContain("--help");
    expect(await proxy.close()).toBe(0);
  });

  test('a server command named like a subcommand runs after "--", and is the subcommand without it', async () => {
    const bin = join(dir, "bin");
    const marker = join(dir, "report-ran");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "report"), `#!/bin/sh\necho "$@" > ${marker}\n`);
    chmodSync(join(bin, "report"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, BATON_EVENT_SINK: "stderr:" };
    const asServer = await runBinary(["--", "report", "--stdio"], env);
    expect(asServer.code).toBe(0);
    expect(await Bun.file(marker).text()).toBe("--stdio\n");
    const asSubcommand = await runBinary(["report", join(dir, "absent.jsonl")], env);
    expect(asSubcommand.code).toBe(1);
    expect(asSubcommand.stderr).toContain("no event file at");
  });

  test("a usage error is reported with the configuration's problems, every one at once (exit 2)", async () => {
    const env = { BATON_EVENT_SINK: "ftp://events.example/x", BATON_UPSTREAM_TIMEOUT: "soon" };
    const r = await runBinary(["--bogus", "--", "cat"], env);
    expect([r.code, r.stdout]).toEqual([2, ""]);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toContain("unknown option --bogus");
    expect(lines[1]).toBe("baton-proxy: also, the configuration has 2 problem(s):");
    expect(r.stderr).toContain("BATON_EVENT_SINK");
    expect(r.stderr).toContain("BATON_UPSTREAM_TIMEOUT");
    expect(r.stderr).toContain("Usage:");
    // A sound configuration adds nothing to the usage error.
    const alone = await runBinary(["--bogus", "--", "cat"], { BATON_EVENT_SINK: "stderr:" });
    expect(alone.code).toBe(2);
    expect(alone.stderr).not.toContain("also, the configuration");
  });

  test("a single-valued option given twice is a usage error (its values never echoed); repeatable ones repeat", async () => {
    const cases = [
      [
        ["--url", "https://u:SECRET0@a.example/mcp", "--url=https://b.example/mcp"],
        "--url is given 2 times; it takes one URL",
      ],
      [
        ["serve", "--upstream", "http://127.0.0.1:1/a", "--upstream", "http://127.0.0.1:2/b"],
        "--upstream is given 2 times",
      ],
      [
        ["serve", "--upstream", "http://127.0.0.1:1/a", "--listen", "127.0.0.1:0", "--listen=127.0.0.1:1"],
        "--listen is given 2 times",
      ],
    ] as const;
    for (const [args, reason] of cases) {
      const r = await runBinary(args, { BATON_EVENT_SINK: "stderr:" });
      expect([r.code, r.stdout]).toEqual([2, ""]);
      expect(r.stderr).toContain(reason);
      expect(r.stderr).not.toContain("SECRET0");
    }
    // --header is documented as repeatable: two of them reach the server (here: none listens, so the handshake fails fast).
    const proxy = await startProxy([], {
      args: ["--url", "http://127.0.0.1:9/mcp", "-H", "A: 1", "--header", "B: 2"],
      env: { BATON_EVENT_SINK: "stderr:" },
    });
    expect((await proxy.request(0, "initialize", INIT_PARAMS)).error.data["baton/error_type"]).toBe(
      "upstream_unreachable",
    );
    await proxy.close();
  });

  test("a misspelt subcommand, taken for a server command that is not found, is named (exit 127 as before)", async () => {
    const r = await runBinary(["serv", "--upstream", "http://127.0.0.1:1/mcp"], { BATON_EVENT_SINK: "stderr:" });
    expect([r.code, r.stdout]).toEqual([127, ""]);
    expect(r.stderr).toContain('cannot start "serv"');
    expect(r.stderr).toContain('did you mean "baton-proxy serve"?');
    const other = await runBinary(["no-such-server-xyz"], { BATON_EVENT_SINK: "stderr:" });
    expect([other.code, other.stderr.includes("did you mean")]).toEqual([127, false]);
  });

  test("`baton-proxy help` / `version`, taken for a server command that is not found, point at --help / --version", async () => {
    for (const [word, flag] of [
      ["help", "--help"],
      ["version", "--version"],
    ]) {
      const r = await runBinary([word as string], { PATH: "/nonexistent" });
      expect([r.code, r.stdout]).toEqual([127, ""]);
      expect(r.stderr).toContain(`did you mean "baton-proxy ${flag}"?`);
    }
  });

  test("serve without an upstream refuses to start: every problem listed, exit 78, nothing on stdout", async () => {
    const r = await runBinary(["serve", "--listen", "nowhere"]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("--upstream (or BATON_UPSTREAM) is required");
    expect(r.stderr).toContain("--listen must be HOST:PORT");
  });
});

describe("configuration refusals say what to do and never echo secrets", () => {
  test("a bad BATON_S3_* value with no s3:// sink: the proxy runs, and stderr names it", async () => {
    const r = await runBinary(["true"], { BATON_EVENT_SINK: "stderr:", BATON_S3_GZIP: "yes" });
    expect([r.code, r.stdout]).toEqual([0, ""]);
    expect(r.stderr).toContain(
      'BATON_S3_GZIP must be "on" or "off" (got "yes"): ignored, as no s3:// sink is configured',
    );
  });

  test("a URL's query and credentials are masked; a misspelt name is named beside the refusal", async () => {
    const r = await runBinary(["true"], {
      BATON_EVENT_SINK: "https://user:pw-SECRET0@c.example/in?api_key=SECRET1",
      BATON_APIKEY: "SECRET2",
      BATON_CONSENT_TOKEN: "ct-1",
    });
    expect(r.code).toBe(78);
    expect(r.stdout).toBe("");
    for (const secret of ["SECRET0", "SECRET1", "SECRET2"]) expect(r.stderr).not.toContain(secret);
    expect(r.stderr).toContain('"https://***@c.example/in?***" must not have a query');
    expect(r.stderr).toContain("unknown variable BATON_APIKEY is ignored: did you mean BATON_API_KEY?");
  });

  test("stderr and a bare path as sinks get the spelling that works", async () => {
    const r = await runBinary(["true"], { BATON_EVENT_SINK: "stderr,/tmp/x.jsonl" });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('"stderr" is not a valid URL: did you mean "stderr:"?');
    expect(r.stderr).toContain('"/tmp/x.jsonl" is not a valid URL: did you mean "file:///tmp/x.jsonl"?');
  });

  test("report and the proxy refuse BATON_SLOW_CALL_MS=abc the same way (exit 78, same reason)", async () => {
    const events = join(dir, "one.jsonl");
    writeFileSync(events, "");
    const proxy = await runBinary(["true"], { BATON_SLOW_CALL_MS: "abc" });
    const report = await runBinary(["report", events], { BATON_SLOW_CALL_MS: "abc" });
    const reason = '  - BATON_SLOW_CALL_MS must be a positive whole number of milliseconds (got "abc")';
    expect([proxy.code, report.code]).toEqual([78, 78]);
    expect(proxy.stderr.split("\n")).toContain(reason);
    expect(report.stderr.split("\n")).toContain(reason);
  });

  test("a configuration value is quoted as printable text: no escape sequence, no forged line (proxy, report, serve)", async () => {
    const events = join(dir, "printable.jsonl");
    writeFileSync(events, "");
    // A value from a host's config file (a cloned repo's .mcp.json): retitle the terminal, then forge a line.
    const hostile = "on\u001b]0;pwned\u0007\nbaton-proxy: info: forged\u202e";
    const shown = "on\\u001b]0;pwned\\u0007\\nbaton-proxy: info: forged\\u202e";
    const refusals = [
      await runBinary(["true"], { BATON_SCRUB: hostile }),
      await runBinary(["report", events], { BATON_SCRUB: hostile }),
      await runBinary(["serve", "--upstream", "http://127.0.0.1:1/mcp", "--listen", "127.0.0.1:0"], {
        BATON_SCRUB: hostile,
      }),
    ];
    const raw = ["\u001b", "\u0007", "\u202e", "\nbaton-proxy: info: forged"];
    for (const r of refusals) {
      expect([r.code, r.stdout]).toEqual([78, ""]);
      expect(r.stderr).toContain(`BATON_SCRUB must be "on" or "off" (got "${shown}")`);
      for (const bad of raw) expect(r.stderr).not.toContain(bad);
    }
    // A warning about the same kind of value (ignored, the command runs).
    const warned = await runBinary(["report", events], { BATON_EVENT_SINK: "stderr:", BATON_S3_GZIP: hostile });
    expect(warned.stderr).toContain(`BATON_S3_GZIP must be "on" or "off" (got "${shown}")`);
    for (const bad of raw) expect(warned.stderr).not.toContain(bad);
  });

  test("report on a FIFO (one planted at the default /tmp path, or a pipe) refuses it instead of waiting forever or reading it once", async () => {
    const fifo = join(dir, "planted.jsonl");
    Bun.spawnSync(["mkfifo", fifo]);
    const proc = Bun.spawn([await binaryPath(), "report", fifo], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    try {
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      expect([code, stdout]).toEqual([1, ""]);
      expect(stderr).toContain(`${fifo} is not a regular file`);
    } finally {
      proc.kill("SIGKILL");
    }
    // A pipe with events in it: the second pass used to read nothing and report "Nothing captured yet".
    const piped = Bun.spawnSync(["sh", "-c", `cat "$1" | "$2" report /dev/stdin`, "sh", REALISTIC, await binaryPath()]);
    expect([piped.exitCode, piped.stdout.toString()]).toEqual([1, ""]);
    expect(piped.stderr.toString()).toContain("is not a regular file");
  });

  test("report on a file without a valid event says so and fails", async () => {
    const events = join(dir, "junk.jsonl");
    writeFileSync(events, "not an event\n");
    const r = await runBinary(["report", events]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no valid events in ${events} (only 1 malformed line)`);
  });
});
