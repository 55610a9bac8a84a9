// Tests of `baton-proxy report` through the subcommand dispatcher (src/commands.ts) with a fake context over temporary files.

import { describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandContext } from "../src/command-context.ts";
import { runSubcommand } from "../src/commands.ts";
import { renderSynopsis } from "../src/command-spec.ts";
import { openFileLines } from "../src/report/event-file-path.ts";
import { REPORT_SPEC } from "../src/report/report-spec.ts";
import type { ReportSummary } from "../src/report/summarize-json.ts";
import { makeCall, makeEvent } from "./fixtures/report/build-events.ts";
import { giveToAnotherUser } from "./support/users.ts";
import { tempDir } from "./support/temp.ts";

const dir = tempDir("baton-report-test-");
const REALISTIC = join(import.meta.dir, "fixtures/report/realistic.jsonl");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  args: string[],
  env: Record<string, string> = {},
  platform: NodeJS.Platform = "linux",
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const ctx: CommandContext = {
    env,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    execPath: "/usr/local/bin/baton-proxy",
    cwd: dir,
    platform,
    homeDir: dir,
  };
  const code = await runSubcommand(REPORT_SPEC, args, ctx);
  return { code, stdout, stderr };
}

/** Writes a file with two sessions: "sess-old-1" (earlier) and "sess-new-2" (later, with one slow call). */
async function writeTwoSessions(name: string): Promise<string> {
  const path = join(dir, name);
  const old = makeCall(1, "o1", "alpha", { q: 1 }, { durationMs: 10 }, 0).map((e) => ({
    ...e,
    session_id: "sess-old-1",
  }));
  const recent = makeCall(1, "n1", "beta", { q: 2 }, { durationMs: 1500 }, 60_000).map((e) => ({
    ...e,
    session_id: "sess-new-2",
  }));
  await Bun.write(path, [recent[0], old[0], old[1], recent[1]].map((e) => JSON.stringify(e)).join("\n") + "\n");
  return path;
}

const tool = (name: string, description = "") => ({ name, description, inputSchema: { type: "object" } });
const surfaceEvent = (
  session: string,
  seq: number,
  at: number,
  hash: string,
  tools: unknown[],
  instructions: string | null = null,
) =>
  makeEvent(
    "surface_snapshot",
    seq,
    {
      surface_hash: hash,
      server_info: { name: "docs", version: "1" },
      capabilities: { tools: {} },
      instructions,
      tools: tools as Record<string, unknown>[],
    },
    { session, at },
  );

/** Three sessions: a (search, fetch), b (search changed, fetch gone, list added; instructions changed; surface changed twice), c (same as b's latest). */
async function writeSurfaceSessions(name: string): Promise<string> {
  const path = join(dir, name);
  const events = [
    surfaceEvent("sess-a", 1, 0, "sha256:aaa", [tool("search"), tool("fetch")]),
    surfaceEvent("sess-b", 1, 60_000, "sha256:b-first", [tool("search")]),
    surfaceEvent(
      "sess-b",
      2,
      60_001,
      "sha256:bbb",
      [tool("search", "now with filters"), tool("list")],
      "Use list first.",
    ),
    surfaceEvent(
      "sess-c",
      1,
      120_000,
      "sha256:ccc",
      [tool("search", "now with filters"), tool("list")],
      "Use list first.",
    ),
  ];
  await Bun.write(path, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
  return path;
}

describe("report output", () => {
  test("says how the session's surface differs from the previous session's in the file", async () => {
    const path = await writeSurfaceSessions("surface.jsonl");
    const b = (await run([path, "--session", "sess-b"])).stdout;
    expect(b).toContain("2 tools, surface `sha256:bbb`. It changed 1 time during the session; this is the latest.");
    expect(b).toContain(
      "**Differs from the previous session of this server in this file (`sess-a`)**, whose surface was `sha256:aaa`:",
    );
    expect(b).toContain(
      "- Tools added: `list`\n- Tools removed: `fetch`\n- Tools changed (description, schema or annotations): `search`\n- Server info, capabilities or instructions changed",
    );
    // c's surface hash differs from b's (as the hashes say), but no tool changed: only the hash line and no tool lines.
    const c = (await run([path, "--session", "sess-c"])).stdout;
    expect(c).toContain("**Differs from the previous session of this server in this file (`sess-b`)**");
    expect(c).not.toContain("Tools added");
    expect(c).toContain("- No difference in what the event file keeps");
    const json = JSON.parse((await run([path, "--session", "sess-b", "--format", "json"])).stdout) as ReportSummary;
    expect([json.surface_hash, json.surfaces]).toEqual(["sha256:bbb", 2]);
    const a = (await run([path, "--session", "sess-a"])).stdout;
    expect(a).toContain("2 tools, surface `sha256:aaa`.");
    expect(a).not.toContain("previous session");
  });

  test("a previous session written by the Python proxy (which stores the surface redacted): redacted tools are not called changed", async () => {
    // Upstream scrubs the snapshot after hashing: any `email`/`token`… property's string leaves become markers.
    const withEmail = (type: string) => ({
      name: "invite",
      inputSchema: { type: "object", properties: { email: { type } } },
    });
    const path = join(dir, "python-surface.jsonl");
    const events = [
      surfaceEvent(
        "sess-py",
        1,
        0,
        "sha256:py",
        [tool("search"), withEmail("[REDACTED:field-email]")],
        "Mail [REDACTED:email].",
      ),
      surfaceEvent(
        "sess-ts",
        1,
        60_000,
        "sha256:ts",
        [tool("search"), withEmail("string"), tool("list")],
        "Mail a@b.example.",
      ),
    ];
    await Bun.write(path, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const out = (await run([path, "--session", "sess-ts"])).stdout;
    expect(out).toContain("- Tools added: `list`\n");
    expect(out).not.toContain("Tools changed");
    expect(out).not.toContain("instructions changed");
    expect(out).toContain(
      "- Not compared, stored redacted by the Python proxy: `invite`; server info, capabilities or instructions",
    );
  });

  test("compares with the previous session of the same server: other servers sharing the file are skipped", async () => {
    // Several wrapped servers share the default event file; another server's tools are no change of this one's.
    const path = join(dir, "shared-surfaces.jsonl");
    const mail = makeEvent(
      "surface_snapshot",
      1,
      {
        surface_hash: "sha256:mail",
        server_info: { name: "mail", version: "1" },
        capabilities: { tools: {} },
        instructions: null,
        tools: [tool("send")],
      },
      { session: "sess-mail", at: 30_000 },
    );
    const events = [
      surfaceEvent("sess-a", 1, 0, "sha256:aaa", [tool("search"), tool("fetch")]),
      mail,
      surfaceEvent("sess-b", 1, 60_000, "sha256:aaa", [tool("search"), tool("fetch")]),
    ];
    await Bun.write(path, `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
    const b = (await run([path, "--session", "sess-b"])).stdout;
    expect(b).toContain("Same surface as the previous session of this server in this file (`sess-a`).");
    expect(b).not.toContain("Tools added");
    const m = (await run([path, "--session", "sess-mail"])).stdout;
    expect(m).toContain("1 tool, surface `sha256:mail`.");
    expect(m).not.toContain("previous session");
  });

  test("prints the Markdown report of the fixture, naming the file at the end", async () => {
    const result = await run([REALISTIC]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toStartWith("## Baton friction report\n");
    expect(result.stdout).toContain("- **Session:** `019a5e7c-3f10-7b2e-9d44-2c1f0a8b7e61`");
    expect(result.stdout).toEndWith(`_Raw events: \`${REALISTIC}\`._\n`);
  });

  test("chooses the latest session by default and accepts a unique prefix", async () => {
    const path = await writeTwoSessions("two.jsonl");
    expect((await run([path])).stdout).toContain("`sess-new-2`");
    expect((await run([path, "--session", "sess-o"])).stdout).toContain("`sess-old-1`");
    expect((await run([path, "--session=sess-old-1"])).stdout).toContain("`sess-old-1`");
  });

  test("the latest session is the one written last, not the one whose clock reads latest (a clock set back between sessions)", async () => {
    const path = join(dir, "clock-jump.jsonl");
    const before = makeCall(1, "b1", "alpha", {}, { durationMs: 5 }, 3_600_000).map((e) => ({
      ...e,
      session_id: "sess-before",
    }));
    // The machine's clock went back an hour (a VM resumed, NTP corrected it), then this session ran.
    const after = makeCall(1, "a1", "beta", {}, { durationMs: 5 }, 0).map((e) => ({ ...e, session_id: "sess-after" }));
    await Bun.write(path, `${[...before, ...after].map((e) => JSON.stringify(e)).join("\n")}\n`);
    const result = await run([path]);
    expect(result.stdout).toContain("`sess-after`");
    expect(
      (await run([path, "--list"])).stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(" ")[0]),
    ).toEqual(["sess-before", "sess-after"]);
  });

  test("the latest session's report says the file holds other sessions (several servers share the default file)", async () => {
    const path = await writeTwoSessions("others.jsonl");
    // The command names the file read: a bare `report --list` would list the default file instead.
    expect((await run([path])).stdout).toEndWith(
      `_Raw events: \`${path}\`; it holds 1 more session (\`baton-proxy report ${path} --list\`)._\n`,
    );
    const spaced = await writeTwoSessions("other's sessions.jsonl");
    expect((await run([spaced])).stdout).toContain(`(\`baton-proxy report '${spaced.replace("'", "'\\''")}' --list\`)`);
    // The default file (none named): the bare command lists the same file.
    expect((await run([], { BATON_EVENT_SINK: `file://${path}` })).stdout).toContain("(`baton-proxy report --list`)");
    // Asked for by --session, the report is the one the user chose: no hint.
    expect((await run([path, "--session", "sess-old-1"])).stdout).toEndWith(`_Raw events: \`${path}\`._\n`);
  });

  test("the latest session without calls (a host's health check, `claude mcp list`) names the latest session that has them, not 'use the server's tools'", async () => {
    const path = join(dir, "health-check.jsonl");
    const used = makeCall(1, "u1", "search", { q: 1 }, { durationMs: 5 }, 0).map((e) => ({
      ...e,
      session_id: "sess-used-1",
    }));
    const check = surfaceEvent("sess-check-2", 1, 60_000, "sha256:aa", [tool("search")]);
    // The same server's session with calls first, though another server's is later.
    const usedSnapshot = surfaceEvent("sess-used-1", 3, 10, "sha256:aa", [tool("search")]);
    const other = makeCall(1, "x1", "other", {}, { durationMs: 5 }, 30_000).map((e) => ({
      ...e,
      session_id: "sess-other-server",
    }));
    const otherSnapshot = {
      ...surfaceEvent("sess-other-server", 3, 30_010, "sha256:bb", [tool("other")]),
      payload: { ...surfaceEvent("x", 3, 0, "sha256:bb", []).payload, server_info: { name: "another", version: "1" } },
    };
    await Bun.write(
      path,
      [...used, usedSnapshot, ...other, otherSnapshot, check].map((e) => JSON.stringify(e)).join("\n") + "\n",
    );
    const latest = await run([path]);
    expect(latest.code).toBe(0);
    expect(latest.stdout).toContain("`sess-check-2`");
    expect(latest.stdout).not.toContain("Use the server's tools");
    expect(latest.stdout).toContain(`baton-proxy report ${path} --session sess-used-1`);
    expect(latest.stdout).toContain("1 call)");
    // A file whose sessions all lack calls still gets the advice to use the tools; so does a session chosen by --session.
    const alone = join(dir, "health-check-only.jsonl");
    await Bun.write(alone, `${JSON.stringify(check)}\n`);
    expect((await run([alone])).stdout).toContain("Use the server's tools");
    expect((await run([path, "--session", "sess-check"])).stdout).not.toContain("--session sess-used-1");
  });

  test("an ambiguous or unknown --session is exit 1 with the reason", async () => {
    const path = await writeTwoSessions("ambiguous.jsonl");
    const ambiguous = await run([path, "--session", "sess-"]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('session prefix "sess-" is ambiguous: sess-old-1, sess-new-2');
    const unknown = await run([path, "--session", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no session matches "nope"');
    expect(unknown.stdout).toBe("");
  });

  test("session ids quoted in the ambiguous-prefix refusal are printable (a crafted file's ids)", async () => {
    const path = join(dir, "ambiguous-hostile.jsonl");
    const events = ["sess-\u001b]0;pwned\u0007\nbaton-proxy report: forged", "sess-2"].flatMap((session, i) =>
      makeCall(1, `c${i}`, "t", {}, { durationMs: 1 }, i * 1000).map((e) => ({ ...e, session_id: session })),
    );
    await Bun.write(path, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const result = await run([path, "--session", "sess-"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'baton-proxy report: session prefix "sess-" is ambiguous: sess-\\u001b]0;pwned\\u0007\\nbaton-proxy report: forged, sess-2\n',
    );
  });

  test("--format json prints the summary as JSON", async () => {
    const result = await run([REALISTIC, "--format", "json"]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as ReportSummary;
    expect(summary.totals).toMatchObject({ calls: 10, errors: 6, annotations: 5, slow_calls: 3, truncated_values: 1 });
    // Raw error types, as the events name them (the Markdown says them in words).
    expect(summary.error_types).toEqual({ "jsonrpc_-32602": 2, upstream_exit: 2, cancelled: 1, tool_error: 1 });
    expect(summary.redactions).toEqual({ email: 3 });
    expect(summary.tools[0]).toMatchObject({ tool: "get_invoice", calls: 3, errors: 2 });
  });

  test("the slow threshold comes from --slow-ms, else BATON_SLOW_CALL_MS, else the default", async () => {
    const slow = async (args: string[], env: Record<string, string> = {}): Promise<number> =>
      (JSON.parse((await run([REALISTIC, "--format", "json", ...args], env)).stdout) as ReportSummary).slow_call_ms;
    expect(await slow([])).toBe(1000);
    expect(await slow([], { BATON_SLOW_CALL_MS: "3000" })).toBe(3000);
    expect(await slow(["--slow-ms", "200"], { BATON_SLOW_CALL_MS: "3000" })).toBe(200);
  });

  test("BATON_SLOW_CALL_MS is refused by the proxy's own rules (exit 78), even with --slow-ms", async () => {
    for (const args of [[], ["--slow-ms", "200"]]) {
      const bad = await run([REALISTIC, ...args], { BATON_SLOW_CALL_MS: "abc" });
      expect(bad).toMatchObject({ code: 78, stdout: "" });
      expect(bad.stderr).toBe(
        'baton-proxy report: refusing to run, the configuration has 1 problem(s):\n  - BATON_SLOW_CALL_MS must be a positive whole number of milliseconds (got "abc")\n',
      );
    }
  });

  test("runs in a serve environment: BATON_CONSENT_MODE=per-request is not refused (kubectl exec … report)", async () => {
    const path = await writeTwoSessions("per-request.jsonl");
    const result = await run(["--format", "json"], {
      BATON_EVENT_SINK: `file://${path}`,
      BATON_CONSENT_MODE: "per-request",
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect((JSON.parse(result.stdout) as ReportSummary).session_id).toBe("sess-new-2");
  });

  test("FILE defaults to the configured file sink", async () => {
    const path = await writeTwoSessions("configured.jsonl");
    const result = await run(["--format", "json"], { BATON_EVENT_SINK: `stderr:,file://${path}` });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as ReportSummary).session_id).toBe("sess-new-2");
  });

  test("FILE as a file:// URL in any case, as the sink reads it (FILE:///…, File://…)", async () => {
    const path = await writeTwoSessions("upper-scheme.jsonl");
    for (const scheme of ["file", "FILE", "File"]) {
      const result = await run([`${scheme}://${path}`, "--format", "json"]);
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as ReportSummary).session_id).toBe("sess-new-2");
    }
  });

  test("Windows: file:///C:/… (as FILE or as the file sink) is read from C:/…, not /C:/…", async () => {
    for (const [args, env] of [
      [["file:///C:/Users/me/events.jsonl"], {}],
      [[], { BATON_EVENT_SINK: "file:///C:/Users/me/events.jsonl" }],
    ] as const) {
      const result = await run([...args], env, "win32");
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("no event file at C:/Users/me/events.jsonl (");
    }
  });

  test("Windows: without a file sink configured, FILE defaults to %TEMP%\\baton-proxy.jsonl", async () => {
    const result = await run([], { BATON_EVENT_SINK: "stderr:", TEMP: "C:\\Users\\me\\Temp" }, "win32");
    expect(result.stderr).toContain("no event file at C:\\Users\\me\\Temp\\baton-proxy.jsonl (");
  });

  test("a misspelt BATON_ name is reported as a warning with the likely name", async () => {
    const result = await run([REALISTIC, "--format", "json"], { BATON_SLOW_CAL_MS: "5" });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "baton-proxy report: warn: unknown variable BATON_SLOW_CAL_MS is ignored: did you mean BATON_SLOW_CALL_MS?\n",
    );
  });

  test("malformed lines are skipped with a note; the report is still printed", async () => {
    const path = join(dir, "noisy.jsonl");
    await Bun.write(path, `not json\n${await Bun.file(REALISTIC).text()}{"event_type":1}\n`);
    const result = await run([path]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`baton-proxy report: skipped 2 malformed lines in ${path}\n`);
    expect(result.stdout).toContain("### Errored calls (6)");
  });

  test("a last line without its newline (a proxy still writing it) is said to be unfinished, not counted as malformed", async () => {
    const path = join(dir, "mid-write.jsonl");
    await Bun.write(path, `not json\n${await Bun.file(REALISTIC).text()}{"schema_version":"0.1","event_ty`);
    const result = await run([path]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `baton-proxy report: skipped 1 malformed line in ${path}\nbaton-proxy report: the last line of ${path} is unfinished (still being written): not read\n`,
    );
    expect(result.stdout).toContain("### Errored calls (6)");
    // Only an unfinished line: no valid events, and not "malformed".
    const only = join(dir, "first-write.jsonl");
    await Bun.write(only, '{"schema_version":"0.1"');
    const alone = await run([only]);
    expect(alone).toMatchObject({ code: 1, stdout: "" });
    expect(alone.stderr).toBe(
      `baton-proxy report: the last line of ${only} is unfinished (still being written): not read\nbaton-proxy report: no valid events in ${only} (only an unfinished last line)\n`,
    );
  });

  test("a relative FILE is read from the context's cwd; an empty file is a failure that says so", async () => {
    await Bun.write(join(dir, "empty.jsonl"), "");
    const result = await run(["empty.jsonl"]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe(
      `baton-proxy report: no valid events in ${join(dir, "empty.jsonl")} (the file is empty)\n`,
    );
  });

  test.each([[[]], [["--list"]]])("a file of only malformed lines is a failure (%j)", async (args) => {
    const path = join(dir, "junk.jsonl");
    await Bun.write(path, 'not json\n{"event_type":1}\n');
    const result = await run([path, ...args]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe(
      `baton-proxy report: skipped 2 malformed lines in ${path}\nbaton-proxy report: no valid events in ${path} (only 2 malformed lines)\n`,
    );
  });

  test("an event read twice (the file concatenated with itself, a copy under the same s3 prefix) counts once, and a gap still shows", async () => {
    const once = await run([REALISTIC, "--format", "json"]);
    const text = await Bun.file(REALISTIC).text();
    const twice = join(dir, "twice.jsonl");
    await Bun.write(twice, text + text);
    const doubled = await run([twice, "--format", "json"]);
    expect(doubled.code).toBe(0);
    expect(JSON.parse(doubled.stdout)).toEqual(JSON.parse(once.stdout));
    expect(doubled.stderr).toBe(
      `baton-proxy report: skipped ${text.trim().split("\n").length} duplicate events in ${twice} (an event_id read more than once)\n`,
    );
    // One event lost and another written twice: the duplicate does not fill the gap.
    const lines = text.trim().split("\n");
    const gapped = join(dir, "gap-and-duplicate.jsonl");
    await Bun.write(gapped, `${[...lines.slice(0, 4), ...lines.slice(5), lines[2]].join("\n")}\n`);
    const summary = JSON.parse((await run([gapped, "--format", "json"])).stdout) as ReportSummary;
    expect(summary.totals).toMatchObject({ events: lines.length - 1, dropped_events: 1 });
    expect((await run([gapped])).stdout).toContain("**Dropped events:** 1 ");
  });

  test("events of types the report does not read (a newer producer's) are named on stderr, not left out silently", async () => {
    const path = join(dir, "newer-types.jsonl");
    const [start] = makeCall(1, "c1", "alpha", {}, { durationMs: 5 });
    const cancelled = { ...makeEvent("annotation", 2, {}, { callId: "c1" }), event_type: "tool_call_cancelled" };
    const heartbeat = (seq: number) => ({ ...makeEvent("annotation", seq, {}), event_type: "heartbeat" });
    const resourceStart = makeEvent("resource_read_start", 5, { uri: "file:///a" });
    await Bun.write(
      path,
      `${[start, cancelled, heartbeat(3), heartbeat(4), resourceStart].map((e) => JSON.stringify(e)).join("\n")}\n`,
    );
    for (const format of ["md", "json"]) {
      const result = await run([path, "--format", format]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe(
        "baton-proxy report: 3 events of types the report does not read were left out: heartbeat ×2 and tool_call_cancelled ×1\n",
      );
    }
  });

  test("a tool_call_end without a payload object (another writer, a hand edit) is read, never a crash", async () => {
    const path = join(dir, "payloadless.jsonl");
    const [start, end] = makeCall(1, "c1", "alpha", {}, { durationMs: 5 });
    const { payload: _, ...payloadless } = { ...end, sequence_number: 3, event_id: `${end.event_id}-3` };
    await Bun.write(
      path,
      `${[start, { ...end, payload: null }, payloadless].map((e) => JSON.stringify(e)).join("\n")}\n`,
    );
    for (const format of ["md", "json"]) {
      const result = await run([path, "--format", format]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    }
  });

  test("one session among many others is found and reported", async () => {
    const path = join(dir, "big.jsonl");
    const noise = Array.from({ length: 20_000 }, (_, i) =>
      JSON.stringify(makeEvent("annotation", i, { intent: "noise" }, { session: `other-${i % 50}`, at: i })),
    );
    const mine = Array.from({ length: 300 }, (_, i) =>
      makeCall(i * 2, `m${i}`, "mine", {}, { durationMs: i }, 10_000_000 + i),
    ).flat();
    await Bun.write(path, [...noise, ...mine.map((e) => JSON.stringify({ ...e, session_id: "target" }))].join("\n"));
    const result = await run([path, "--format", "json"]);
    const summary = JSON.parse(result.stdout) as ReportSummary;
    expect(summary).toMatchObject({ session_id: "target", totals: { calls: 300, events: 600 } });
    expect(summary.tools[0]).toMatchObject({ p50_ms: 149, p95_ms: 284, max_ms: 299 });
  });
});

describe("report --list", () => {
  test("lists one line per session, oldest first", async () => {
    const path = await writeTwoSessions("list.jsonl");
    const result = await run(["--list", path]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toEqual([
      "sess-old-1  2026-08-10T12:00:00.000000Z → 2026-08-10T12:00:00.010000Z  2 events  1 call  claude-code  unknown server  no surface",
      "sess-new-2  2026-08-10T12:01:00.000000Z → 2026-08-10T12:01:01.500000Z  2 events  1 call  claude-code  unknown server  no surface",
    ]);
  });

  test("each session's surface hash is listed (its latest), in text and JSON", async () => {
    const path = await writeSurfaceSessions("list-surface.jsonl");
    const lines = (await run(["--list", path])).stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split("  ")[0] + " " + l.split("  ").at(-1))).toEqual([
      "sess-a sha256:aaa",
      "sess-b sha256:bbb",
      "sess-c sha256:ccc",
    ]);
    const json = JSON.parse((await run(["--list", "--format=json", path])).stdout) as { surface_hash: string | null }[];
    expect(json.map((s) => s.surface_hash)).toEqual(["sha256:aaa", "sha256:bbb", "sha256:ccc"]);
  });

  test("each session's server is listed, so sessions of different servers sharing one file can be told apart", async () => {
    const path = join(dir, "list-servers.jsonl");
    const crm = makeCall(1, "a", "lookup", {}, { durationMs: 1 }, 0).map((e) => ({
      ...e,
      session_id: "sess-crm",
      runtime_meta: { ...e.runtime_meta, "baton/server": "flaky-crm 1.0.0" },
    }));
    const docs = [surfaceEvent("sess-docs", 1, 1000, "sha256:ddd", [tool("search")])];
    const bare = makeCall(1, "b", "x", {}, { durationMs: 1 }, 2000).map((e) => ({ ...e, session_id: "sess-bare" }));
    await Bun.write(path, [...crm, ...docs, ...bare].map((e) => JSON.stringify(e)).join("\n") + "\n");
    const lines = (await run(["--list", path])).stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split("  ").slice(-2).join(" | "))).toEqual([
      "flaky-crm 1.0.0 | no surface",
      "docs 1 | sha256:ddd",
      "unknown server | no surface",
    ]);
    const json = JSON.parse((await run(["--list", "--format=json", path])).stdout) as { server: string | null }[];
    expect(json.map((s) => s.server)).toEqual(["flaky-crm 1.0.0", "docs 1", null]);
  });

  test("a client or server name cannot drive the terminal or add a line to the list (text); JSON keeps it exact", async () => {
    const path = join(dir, "list-hostile.jsonl");
    // clientInfo.name and serverInfo.name reach the events as given; a crafted file can hold anything.
    const client = "cli\u001b]0;pwned\u0007\u001b[2J\nsess-forged  2026-01-01T00:00:00Z";
    const server = "srv\u009b31m\u202eevil";
    const events = makeCall(1, "a", "lookup", {}, { durationMs: 1 }, 0).map((e) => ({
      ...e,
      session_id: "sess-\u001b[1mbold",
      agent_runtime: client,
      runtime_meta: { ...e.runtime_meta, "baton/server": server },
    }));
    await Bun.write(path, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const text = (await run(["--list", path])).stdout;
    expect(text.trimEnd().split("\n")).toEqual([
      "sess-\\u001b[1mbold  2026-08-10T12:00:00.000000Z → 2026-08-10T12:00:00.001000Z  2 events  1 call  cli\\u001b]0;pwned\\u0007\\u001b[2J\\nsess-forged  2026-01-01T00:00:00Z  srv\\u009b31m\\u202eevil  no surface",
    ]);
    const json = JSON.parse((await run(["--list", "--format=json", path])).stdout) as Record<string, unknown>[];
    expect(json[0]).toMatchObject({ session_id: "sess-\u001b[1mbold", client, server });
  });

  test("an event read twice counts once in --list too, as in the report (same event_id rule)", async () => {
    const text = await Bun.file(REALISTIC).text();
    const twice = join(dir, "list-twice.jsonl");
    await Bun.write(twice, text + text);
    const report = JSON.parse((await run([twice, "--format", "json"])).stdout) as ReportSummary;
    const [once] = JSON.parse((await run(["--list", "--format=json", REALISTIC])).stdout) as Record<string, unknown>[];
    const listed = await run(["--list", "--format=json", twice]);
    expect(listed.code).toBe(0);
    const [doubled] = JSON.parse(listed.stdout) as { events: number; calls: number }[];
    expect(doubled).toEqual(once as typeof doubled);
    expect(doubled).toMatchObject({ events: report.totals.events, calls: report.totals.calls });
    expect(listed.stderr).toBe(
      `baton-proxy report: skipped ${text.trim().split("\n").length} duplicate events in ${twice} (an event_id read more than once)\n`,
    );
    // Another session in order beside it keeps its counts; the Markdown listing says the same.
    const other = makeCall(1, "z1", "zeta", {}, { durationMs: 3 }, 90_000_000).map((e) => ({
      ...e,
      session_id: "other",
    }));
    const mixed = join(dir, "list-twice-mixed.jsonl");
    await Bun.write(mixed, `${text}${other.map((e) => JSON.stringify(e)).join("\n")}\n${text}`);
    const lines = (await run(["--list", mixed])).stdout;
    expect(lines).toContain(`  ${report.totals.events} events  ${report.totals.calls} calls  `);
    expect(lines).toContain("other  ");
    expect(lines).toContain("  2 events  1 call  ");
  });

  test("--list --format json is an array of sessions", async () => {
    const path = await writeTwoSessions("list-json.jsonl");
    const sessions = JSON.parse((await run(["--list", "--format=json", path])).stdout) as {
      session_id: string;
      events: number;
    }[];
    expect(sessions.map((s) => [s.session_id, s.events])).toEqual([
      ["sess-old-1", 2],
      ["sess-new-2", 2],
    ]);
  });
});

describe("report errors and usage", () => {
  // The default file is in world-writable /tmp: another user can create it first, with sessions of their making.
  // Root chowns directly; anyone else through passwordless sudo (CI runners); skipped only where neither works.
  const probe = join(dir, "owner-probe");
  writeFileSync(probe, "");
  const otherUid = giveToAnotherUser(probe);
  test.skipIf(otherUid === undefined)(
    "a file owned by another user is read with a warning that your proxy did not write it (the file sink refuses such a file)",
    async () => {
      const mine = await writeTwoSessions("mine.jsonl");
      expect((await run([mine])).stderr).toBe("");
      const path = await writeTwoSessions("foreign.jsonl");
      giveToAnotherUser(path);
      const result = await run([path]);
      expect(result.code).toBe(0);
      expect(result.stderr).toBe(
        `baton-proxy report: warn: ${path} is owned by uid ${otherUid}, not by this user: the proxy's file sink refuses such a file, so these events were not written by your proxy\n`,
      );
    },
  );

  test("a directory given as FILE is said to be one, with the event files in it, not 'no event file at' a path that exists", async () => {
    const folder = join(dir, "events-folder");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "events.jsonl"), "");
    const result = await run([folder]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toContain(`${folder} is a directory`);
    expect(result.stderr).toContain(join(folder, "events.jsonl"));
    expect(result.stderr).not.toContain("no event file at");
  });

  test("a missing file is exit 1 naming the path", async () => {
    const path = join(dir, "does-not-exist.jsonl");
    const result = await run([path]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe(`baton-proxy report: no event file at ${path} (pass FILE, or check BATON_EVENT_SINK)\n`);
  });

  test.each([
    [["--bogus"], "unknown option --bogus"],
    [["--list=yes"], "--list takes no value"],
    [["--session="], "--session needs a value (ID)"],
    [["--format", "xml"], '--format must be md or json (got "xml")'],
    [["--slow-ms", "0"], '--slow-ms must be a positive whole number of milliseconds (got "0")'],
    [["--slow-ms", "1.5"], '--slow-ms must be a positive whole number of milliseconds (got "1.5")'],
    [["--session"], "--session needs a value (ID)"],
    [["--list", "--session", "abc"], "--list takes no --session (it lists every session)"],
    [["--list", "--slow-ms", "5"], "--list takes no --slow-ms (it lists every session)"],
    [["a.jsonl", "b.jsonl"], 'unexpected argument "b.jsonl" (only one FILE may be given)'],
  ])("%j is a usage error (exit 2)", async (args, reason) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `baton-proxy report: ${reason}\n${renderSynopsis(REPORT_SPEC)}\nRun "baton-proxy report --help" for details.\n`,
    );
  });

  test("--help prints the usage on stdout, every option included", async () => {
    const result = await run(["--help"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toStartWith(renderSynopsis(REPORT_SPEC));
    for (const option of ["--session ID", "--format md|json", "--list", "--slow-ms N", "-h, --help"])
      expect(result.stdout).toContain(option);
    // --list's columns as it prints them (the server's name between the client and the surface hash).
    expect(result.stdout).toContain("(id, first → last, events, calls, client, server, surface hash)");
  });
});

describe("the event file rotated while the report reads it", () => {
  test("renamed and replaced between two passes (logrotate's create, a /tmp cleaner): every pass reads the file first opened", async () => {
    // Each pass opened the path again: the index found the session in the old file, the fold read the
    // new empty one, and the report said "Nothing captured yet" (exit 0) for a session of 32 000 calls.
    const path = await writeTwoSessions("rotated.jsonl");
    const lines = await openFileLines(path, () => {}, { unterminated: false });
    try {
      const first: string[] = [];
      for await (const line of lines()) first.push(line);
      expect(first.length).toBeGreaterThan(0);
      renameSync(path, `${path}.1`);
      writeFileSync(path, "");
      const second: string[] = [];
      for await (const line of lines()) second.push(line);
      expect(second).toEqual(first);
    } finally {
      await lines.close();
    }
  });
});
