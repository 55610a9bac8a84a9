// End-to-end check of a hosted baton-proxy (the kind job in ci.yml, or serve on loopback): an MCP SDK client session through it, then its events read back and validated.
//
//   bun scripts/e2e-hosted.ts client --url http://127.0.0.1:18080/mcp   # session: tools, echo, annotation
//   bun scripts/e2e-hosted.ts events proxy.log                          # the proxy's stderr (stderr: sink)
// Each prints what it saw and exits 0, or prints every problem and exits 1.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";

export const E2E_CLIENT_NAME = "baton-e2e-hosted";
export const E2E_MESSAGE = "hello through the hosted proxy";
const SCHEMA = join(resolve(import.meta.dir, ".."), "test", "fixtures", "baton-spec", "events.schema.json");

type TextBlock = { type: string; text?: string };
const textOf = (result: unknown): string =>
  (((result as { content?: unknown }).content ?? []) as TextBlock[])
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");

/** One MCP session through the proxy at `url`; returns the problems found (empty when all is well). */
export async function runClient(url: string, log: (line: string) => void): Promise<string[]> {
  const problems: string[] = [];
  const client = new Client({ name: E2E_CLIENT_NAME, version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  try {
    log(
      `connected: server ${JSON.stringify(client.getServerVersion())}, session ${transport.sessionId === undefined ? "none" : "issued"}`,
    );
    const tools = (await client.listTools()).tools.map((t) => t.name);
    log(`tools: ${tools.length} (${tools.slice(0, 8).join(", ")}${tools.length > 8 ? ", ..." : ""})`);
    if (!tools.includes("echo")) problems.push("the upstream's echo tool is not listed");
    if (!tools.includes("baton_annotate"))
      problems.push("baton_annotate is not injected: the proxy is not in the path");
    const echo = textOf(await client.callTool({ name: "echo", arguments: { message: E2E_MESSAGE } }));
    log(`echo -> ${echo}`);
    if (!echo.includes(E2E_MESSAGE)) problems.push(`echo answered "${echo}"`);
    const note = await client.callTool({
      name: "baton_annotate",
      arguments: { intent: "check the hosted proxy end to end", signal_type: "other", tool_name: "echo" },
    });
    if (note.isError === true) problems.push(`baton_annotate failed: ${textOf(note)}`);
    await transport.terminateSession().catch((error: unknown) => log(`DELETE session: ${String(error)}`));
  } finally {
    await client.close();
  }
  return problems;
}

/** The parts of an event this check reads. */
interface EventLine {
  readonly event_type?: unknown;
  readonly payload?: { readonly tool_name?: unknown };
  readonly runtime_meta?: Readonly<Record<string, unknown>>;
}

/** Checks the events among `lines` (the proxy's stderr): schema-valid, with the client's echo call and annotation. */
export function checkEvents(lines: readonly string[]): { problems: string[]; summary: Record<string, number> } {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")));
  const problems: string[] = [];
  const summary: Record<string, number> = {};
  const events: EventLine[] = [];
  for (const line of lines) {
    if (!line.startsWith("{")) continue; // the proxy's own log lines
    let event: EventLine;
    try {
      event = JSON.parse(line) as EventLine;
    } catch {
      continue;
    }
    const type: unknown = event.event_type;
    if (typeof type !== "string") continue;
    events.push(event);
    summary[type] = (summary[type] ?? 0) + 1;
    if (!validate(event)) problems.push(`${type} does not match the schema: ${ajv.errorsText(validate.errors)}`);
  }
  const echoCalls = events.filter((e) => e.event_type === "tool_call_start" && e.payload?.tool_name === "echo");
  if (echoCalls.length === 0) problems.push("no tool_call_start for echo");
  const ids = new Set(echoCalls.map((e) => e.runtime_meta?.["baton/call_id"]));
  if (!events.some((e) => e.event_type === "tool_call_end" && ids.has(e.runtime_meta?.["baton/call_id"])))
    problems.push("no tool_call_end for the echo call");
  if (!events.some((e) => e.event_type === "annotation")) problems.push("no annotation event");
  if (JSON.stringify(events).includes("Mcp-Session-Id")) problems.push("an event mentions Mcp-Session-Id");
  return { problems, summary };
}

async function main(argv: readonly string[]): Promise<number> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const [mode, ...rest] = argv;
  let problems: string[];
  if (mode === "client" && rest[0] === "--url" && rest[1] !== undefined) {
    problems = await runClient(rest[1], out);
  } else if (mode === "events" && rest[0] !== undefined) {
    const result = checkEvents(readFileSync(rest[0], "utf8").split("\n"));
    out(`events: ${JSON.stringify(result.summary)}`);
    problems = result.problems;
  } else {
    process.stderr.write("usage: bun scripts/e2e-hosted.ts client --url URL | events FILE\n");
    return 2;
  }
  for (const problem of problems) process.stderr.write(`FAIL: ${problem}\n`);
  out(problems.length === 0 ? "ok" : `${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`FAIL: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
