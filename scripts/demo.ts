// `bun run demo`: builds dist/baton-proxy if needed, then plays a scripted agent session through it (real SDK v1 client, scripts/demo-server.ts) and prints the transcript and the friction report.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { buildIfStale, HOST_BINARY } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const BINARY = HOST_BINARY;
const DEMO_SERVER = join(ROOT, "scripts", "demo-server.ts");
export const EVENTS_FILE_NAME = "baton-demo-events.jsonl";
/** Per-request ceiling: the slowest demo call takes ~1.2 s, so anything near this is a hang. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Lines of a tool's text result echoed in the transcript. */
const MAX_RESULT_LINES = 4;
/** Lines of the offline report echoed at the end. */
const OFFLINE_PREVIEW_LINES = 9;
const INJECTED_TOOLS = ["baton_annotate", "baton_session_report"];

/** Where the transcript goes, and whether it may use ANSI styles. */
export interface DemoOutput {
  line(text?: string): void;
  color: boolean;
}

/** Builds the binary when stale (see scripts/build.ts), with a readable error. */
async function ensureBinary(): Promise<"built just now" | "up to date"> {
  try {
    return (await buildIfStale(BINARY)) ? "built just now" : "up to date";
  } catch (error) {
    throw new Error(
      `cannot build ${relative(ROOT, BINARY)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live children of `pid` (Linux /proc; empty elsewhere), to check the server is gone too. */
function childPids(pid: number): number[] {
  if (process.platform !== "linux") return [];
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === "text" ? block.text : `[${block.type}]`)).join("\n");
}

/** The SDK prefixes "MCP error <code>: " on the server and again on the client; the transcript shows the message once. */
function wireMessage(error: McpError): string {
  return error.message.replace(/^(MCP error -?\d+: )+/, "");
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * The demo's own directory under the system's temp directory. One that cannot be made (a TMPDIR
 * naming a directory that does not exist) is named with the variable it came from: mkdtemp's
 * ENOENT names only the path it tried.
 */
function makeDemoDir(): string {
  const base = tmpdir();
  try {
    return mkdtempSync(join(base, "baton-demo-"));
  } catch (error) {
    const names = process.platform === "win32" ? ["TEMP", "TMP"] : ["TMPDIR", "TMP", "TEMP"];
    const from = names.find((name) => process.env[name] !== undefined && process.env[name] !== "");
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const source = from === undefined ? "the system's temp directory" : `${from}, the temp directory`;
    const fix =
      from === undefined
        ? "set TMPDIR to a directory that exists"
        : `set ${from} to a directory that exists, or unset it`;
    throw new Error(`cannot create the demo's directory in ${base} (${source}): ${code}; ${fix}`, { cause: error });
  }
}

/** Runs the whole demo, writing the transcript to `out`. Throws (after cleaning up) when any step does not go as scripted. */
export async function runDemo(out: DemoOutput): Promise<{ eventsFile: string }> {
  const started = performance.now();
  const style = (code: string) => (text: string) => (out.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const bold = style("1");
  const dim = style("2");
  const heading = (text: string) => out.line(`\n${bold(`== ${text} ==`)}\n`);
  const shown = (path: string) =>
    relative(process.cwd(), path).startsWith("..") ? path : relative(process.cwd(), path);

  out.line(bold("baton-proxy demo: a scripted agent session with the example acme-invoices server"));
  const build = await ensureBinary();
  const dir = makeDemoDir();
  const eventsFile = join(dir, EVENTS_FILE_NAME);
  out.line(`proxy   ${shown(BINARY)} (${build})`);
  out.line(`server  bun ${shown(DEMO_SERVER)}`);
  out.line(`events  ${eventsFile}`);

  const transport = new StdioClientTransport({
    command: BINARY,
    args: ["--", process.execPath, DEMO_SERVER],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      BATON_EVENT_SINK: `file://${eventsFile}`,
    },
    stderr: "pipe",
  });
  let proxyStderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (proxyStderr += chunk.toString("utf8")));
  const client = new Client({ name: "baton-demo-agent", version: "1.0.0" });
  const options = { timeout: REQUEST_TIMEOUT_MS };

  /** One tool call as an agent transcript line pair (up to `maxLines` of the result; 0: just count them); returns the result, or the JSON-RPC error. */
  const call = async (
    name: string,
    args: Record<string, unknown>,
    maxLines = MAX_RESULT_LINES,
  ): Promise<CallToolResult | McpError> => {
    out.line(`→ ${name} ${JSON.stringify(args)}`);
    const t0 = performance.now();
    try {
      const result = (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
      const ms = dim(`(${Math.round(performance.now() - t0)} ms)`);
      const lines = textOf(result).split("\n");
      const flag = result.isError === true ? "isError: " : "";
      if (maxLines === 0) {
        out.line(`← ${flag}${lines.length} lines of text ${ms}`);
        return result;
      }
      const hidden = lines.length - maxLines;
      const more = hidden > 0 ? [`  … ${hidden} more line${hidden === 1 ? "" : "s"}`] : [];
      const [first = "", ...rest] = lines.slice(0, maxLines);
      out.line(`← ${flag}${first} ${ms}`);
      for (const line of [...rest.map((l) => `  ${l}`), ...more]) out.line(line);
      return result;
    } catch (error) {
      if (!(error instanceof McpError) || error.code === -32001) throw error; // -32001: the client's own timeout, not a server answer
      out.line(
        `← JSON-RPC error ${error.code}: ${wireMessage(error)} ${dim(`(${Math.round(performance.now() - t0)} ms)`)}`,
      );
      return error;
    }
  };
  const say = (thought: string) => out.line(dim(`  (agent: ${thought})`));

  let proxyPid = 0;
  let serverPids: number[] = [];
  let liveReport = "";
  try {
    heading("1. Connect and list tools");
    const t0 = performance.now();
    await client.connect(transport, options);
    proxyPid = transport.pid ?? 0;
    const server = client.getServerVersion();
    out.line(
      `connected to ${server?.name} ${server?.version} through baton-proxy (pid ${proxyPid}) in ${Math.round(performance.now() - t0)} ms`,
    );
    const listed = (await client.listTools(undefined, options)).tools;
    const tools = listed.map((t) => t.name);
    const own = tools.filter((t) => !INJECTED_TOOLS.includes(t));
    const injected = tools.filter((t) => INJECTED_TOOLS.includes(t));
    if (injected.length !== INJECTED_TOOLS.length)
      fail(`expected the proxy to inject ${INJECTED_TOOLS.join(" and ")}; tools/list gave: ${tools.join(", ")}`);
    out.line(`server's tools:   ${own.join(", ")}`);
    out.line(`added by proxy:   ${injected.join(", ")}`);
    const withIntent = listed.filter(
      (t) =>
        !INJECTED_TOOLS.includes(t.name) &&
        t.inputSchema.properties?.user_goal !== undefined &&
        t.inputSchema.properties?.expected_result !== undefined,
    );
    if (withIntent.length !== own.length)
      fail("expected every server tool to gain the optional user_goal and expected_result parameters");
    out.line(
      `intent params:    user_goal, expected_result on every server tool (optional; stripped before the server sees them)`,
    );
    const instructions = client.getInstructions() ?? "";
    const suffix = instructions.indexOf("This server is instrumented by baton-proxy");
    if (suffix <= 0) fail("expected the server's instructions followed by the proxy's suffix");
    // The server's own text, without the blank line the proxy joins its note after.
    const serverText = instructions.slice(0, suffix).replace(/\n\n$/, "");
    out.line(`instructions:     the server's own (${serverText.length} chars), then the proxy's note for the model:`);
    const note = instructions.slice(suffix).split("\n");
    for (const line of note.slice(0, 2)) out.line(dim(`  │ ${line}`));
    if (note.length > 2) out.line(dim(`  │ … ${note.length - 2} more lines`));

    heading("2. The agent at work");
    out.line(dim("  user: Chase ACME's overdue invoices and send me Q3 receivables."));
    const goal = {
      user_goal: "Find ACME's overdue invoices so they can be chased",
      expected_result: "The ACME invoices that are past their due date",
    };
    await call("search_invoices", { customer: "ACME", ...goal });
    say("ACME has open invoices; only the overdue ones are wanted");
    const rejected = await call("search_invoices", { customer: "ACME", status: "overdue", ...goal });
    if (!(rejected instanceof McpError))
      fail(`expected a JSON-RPC error for status "overdue", got a result: ${JSON.stringify(rejected)}`);
    say('"status" is a free string in the schema; had to guess. Filing a note, then retrying.');
    await call("baton_annotate", {
      intent: "List ACME's overdue invoices",
      signal_type: "parameter_confusion",
      tool_name: "search_invoices",
      suggested_improvement:
        'Declare status as an enum (open, paid, void) and say that "overdue" means status=open with due_before=today.',
    });
    const retry = await call("search_invoices", { customer: "ACME", status: "open", due_before: "2026-11-01" });
    if (retry instanceof McpError || retry.isError === true) fail("the retried search_invoices should have succeeded");
    await call("get_invoice", { invoice_id: "INV-2041" });
    const sent = await call("send_email", {
      to: "billing@acme.example",
      subject: "Overdue invoices INV-2049 and INV-2041",
      body: "Hello, please find attached the two overdue invoices.",
      attach_invoice_ids: ["INV-2049", "INV-2041"],
      user_goal: "Email ACME its two overdue invoices",
      expected_result: "One email to ACME billing with both invoice PDFs attached",
    });
    if (sent instanceof McpError || sent.isError !== true) fail("expected send_email to answer with isError: true");
    say("no way to send links or split the attachments; noting the gap");
    await call("baton_annotate", {
      intent: "Email ACME its two overdue invoices",
      signal_type: "feature_gap",
      tool_name: "send_email",
      suggested_improvement:
        "Offer invoice links instead of PDFs, or split attachments over several messages automatically.",
      context: { attachments: 2, limit_mb: 10 },
    });
    await call("export_report", { period: "2026-Q3", format: "csv" });

    heading("3. baton_session_report (what the agent hands to the user)");
    const report = await call("baton_session_report", {}, 0);
    if (report instanceof McpError || report.isError === true) fail("baton_session_report failed");
    liveReport = textOf(report).trimEnd();
    out.line();
    out.line(liveReport);

    heading("4. Close");
    serverPids = childPids(proxyPid);
    const t1 = performance.now();
    await client.close();
    const leftovers = [proxyPid, ...serverPids].filter(isRunning);
    if (leftovers.length > 0) fail(`still running after close: pid ${leftovers.join(", ")}`);
    const serverNote = serverPids.length > 0 ? `, server pid ${serverPids.join(", ")}` : "";
    out.line(
      `client closed in ${Math.round(performance.now() - t1)} ms; nothing left running (proxy pid ${proxyPid}${serverNote})`,
    );
  } catch (error) {
    await client.close().catch(() => undefined);
    if (!existsSync(eventsFile)) rmSync(dir, { recursive: true, force: true }); // keep events that might explain the failure
    const tail =
      proxyStderr.trim() === ""
        ? ""
        : `\nproxy stderr (last lines):\n${proxyStderr.trimEnd().split("\n").slice(-15).join("\n")}`;
    throw new Error(`${error instanceof Error ? error.message : String(error)}${tail}`);
  }

  heading("5. The same report, offline");
  const command = `${shown(BINARY)} report ${eventsFile}`;
  out.line(`The events stay in ${eventsFile}; re-render the report any time with:`);
  out.line(`  ${command}`);
  out.line();
  const list = await runBinary(["report", eventsFile, "--list"]);
  out.line(`$ ${shown(BINARY)} report ${eventsFile} --list`);
  out.line(list.trimEnd());
  const offline = (await runBinary(["report", eventsFile])).trimEnd().split("\n");
  out.line(`$ ${command} | head -${OFFLINE_PREVIEW_LINES}`);
  for (const line of offline.slice(0, OFFLINE_PREVIEW_LINES)) out.line(line);
  const same =
    offline.join("\n") === liveReport
      ? "identical to the report in step 3"
      : "it differs from step 3, which was rendered while the session was live";
  out.line(dim(`  … ${offline.length - OFFLINE_PREVIEW_LINES} more lines (${same})`));

  out.line();
  out.line(bold(`Demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s.`));
  return { eventsFile };
}

/** Runs the binary with a clean env; its stdout, or a thrown error with its stderr. */
async function runBinary(args: readonly string[]): Promise<string> {
  const proc = Bun.spawn([BINARY, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) fail(`baton-proxy ${args.join(" ")} exited ${code}: ${stderr.trim()}`);
  return stdout;
}

if (import.meta.main) {
  const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  try {
    await runDemo({ line: (text = "") => process.stdout.write(`${text}\n`), color });
  } catch (error) {
    process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
