// Black-box: `bun scripts/demo.ts` runs end to end, prints the friction report, and leaves a valid event file behind.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { cleanEnv } from "./support/proxy-process.ts";

const SERVER_TOOLS = ["search_invoices", "get_invoice", "send_email", "export_report"];

describe("bun run demo", () => {
  let stdout = "";
  let stderr = "";
  let exitCode: number | null = null;
  let eventsFile = "";

  afterAll(() => {
    // The demo keeps its temp dir for the user; the test removes it.
    if (eventsFile !== "" && basename(dirname(eventsFile)).startsWith("baton-demo-"))
      rmSync(dirname(eventsFile), { recursive: true, force: true });
  });

  test("exits 0 and finishes", async () => {
    const proc = Bun.spawn([process.execPath, join(ROOT, "scripts", "demo.ts")], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: cleanEnv(),
    });
    [stdout, stderr, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    eventsFile = /^events {2}(\S+)$/m.exec(stdout)?.[1] ?? "";
    if (exitCode !== 0) throw new Error(`demo exited ${exitCode}\nstderr:\n${stderr}\nstdout:\n${stdout.slice(-3000)}`);
    expect(stdout).toContain("nothing left running");
    expect(stdout).toMatch(/Demo finished in \d+\.\d s\./);
  }, 30_000);

  test("shows the injected tools and the JSON-RPC error on the way", () => {
    expect(stdout).toContain("added by proxy:   baton_annotate, baton_session_report");
    expect(stdout).toContain("← JSON-RPC error -32602:");
    expect(stdout).toContain("← isError: Attachments too large");
  });

  test("prints the report: headings, per-tool table, errored calls, slow call, annotations", () => {
    expect(stdout).toContain("## Baton friction report");
    expect(stdout).toContain("- **Calls:** 6 · **Errors:** 2");
    expect(stdout).toContain("| Tool | Calls | Errors | Error rate |");
    for (const tool of SERVER_TOOLS) expect(stdout).toContain(`| ${tool.replaceAll("_", "\\_")} |`);
    expect(stdout).toContain("### Errored calls (2)");
    expect(stdout).toContain("`search_invoices` — `jsonrpc_-32602`");
    expect(stdout).toContain("`send_email` — `tool_error`");
    expect(stdout).toMatch(/### Slow calls \(≥ 1,000 ms\): 1\n\n1\. `export_report` took \*\*1\.\d s\*\*/);
    expect(stdout).toContain("intent params:    user_goal, expected_result on every server tool");
    expect(stdout).toContain(
      "   - The agent wanted: Find ACME's overdue invoices so they can be chased\n   - It expected: The ACME invoices that are past their due date\n",
    );
    expect(stdout).toContain("   - The agent wanted: Email ACME its two overdue invoices\n");
    expect(stdout).toContain("### Annotations (3)"); // the first intent became a proactive note
    expect(stdout).toContain("### Server surface");
    expect(stdout).toContain("**parameter\\_confusion** about `search_invoices`");
    expect(stdout).toContain("**feature\\_gap** about `send_email`");
    expect(stdout).toContain("(identical to the report in step 3)");
  });

  test("the event file it names exists and every line is a valid event; calls pair up", () => {
    expect(existsSync(eventsFile)).toBe(true);
    const events = readValidatedEvents(eventsFile);
    checkCallPairs(events);
    const errorTypes = events
      .filter((e) => e.event_type === "tool_call_error")
      .map((e) => `${e.payload.tool_name}:${e.payload.error_type}`);
    expect(errorTypes).toEqual(["search_invoices:jsonrpc_-32602", "send_email:tool_error"]);
    const signals = events.filter((e) => e.event_type === "annotation").map((e) => e.payload.signal_type);
    expect(signals).toEqual([null, "parameter_confusion", "feature_gap"]); // null: the proactive note made from the first user_goal
    const starts = events.filter((e) => e.event_type === "tool_call_start");
    expect(
      starts.every((e) => e.payload.params.user_goal === undefined && e.payload.params.expected_result === undefined),
    ).toBe(true);
    expect(starts.filter((e) => e.payload.intent_source === "injected_param").map((e) => e.payload.tool_name)).toEqual([
      "search_invoices",
      "search_invoices",
      "send_email",
    ]);
    expect(new Set(events.filter((e) => e.event_type === "tool_call_start").map((e) => e.payload.tool_name))).toEqual(
      new Set(SERVER_TOOLS),
    );
  });

  test("the instructions it shows: the server's own length as the snapshot records it, and the note's cut said", () => {
    const snapshot = readValidatedEvents(eventsFile).find((e) => e.event_type === "surface_snapshot");
    const own = snapshot?.payload.instructions as string;
    expect(stdout).toContain(`instructions:     the server's own (${own.length} chars), then the proxy's note`);
    expect(stdout).toMatch(/\n {2}│ … \d+ more lines\n/);
  });
});

test("a TMPDIR that does not exist: the demo says which directory and which variable, not only mkdtemp's ENOENT", async () => {
  const missing = join(ROOT, "no-such-temp-dir-for-the-demo");
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts", "demo.ts")], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...cleanEnv(), TMPDIR: missing },
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(1);
  expect(stderr).toContain(`demo failed: cannot create the demo's directory in ${missing}`);
  expect(stderr).toContain("TMPDIR");
  expect(existsSync(missing)).toBe(false);
}, 30_000);
