// Black-box, table-driven: version negotiation through the stdio proxy against servers that speak only older protocol
// versions, refuse the client's, or exit on the 2026-07-28 probe. Each cell runs the same short SDK session directly and
// through the binary; what the client negotiates and sees must be the same but for the proxy's documented additions.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport as V1Stdio } from "@modelcontextprotocol/sdk/client/stdio.js";
import { Client as V2Client } from "@modelcontextprotocol/client";
import { StdioClientTransport as V2Stdio } from "@modelcontextprotocol/client/stdio";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { binaryPath } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { cleanEnv, fixture, tempDir } from "./support/proxy-process.ts";
import { textOf } from "./support/tool-text.ts";

type ClientKind = "sdk-v1" | "sdk-v2-legacy" | "sdk-v2-auto";
const INJECTED = ["baton_annotate", "baton_session_report"];

/** What a session showed its client, in the terms the direct and proxied runs are compared by. */
interface Outcome {
  connect: string;
  version?: string;
  instructions?: string;
  tools?: string[];
  add?: string;
  failIsError?: boolean;
}

async function session(kind: ClientKind, command: string[], env: Record<string, string>): Promise<Outcome> {
  const params = { command: command[0] as string, args: command.slice(1), env: cleanEnv(env), stderr: "pipe" as const };
  const versions: string[] = [];
  let client: V1Client | V2Client;
  let transport: V1Stdio | V2Stdio;
  if (kind === "sdk-v1") {
    client = new V1Client({ name: kind, version: "1.0.0" });
    transport = new V1Stdio(params);
  } else {
    client = new V2Client(
      { name: kind, version: "2.0.0" },
      kind === "sdk-v2-auto" ? { versionNegotiation: { mode: "auto" } } : {},
    );
    transport = new V2Stdio(params);
  }
  // The negotiated version, read off the wire (SDK v1 has no getter for it).
  const start = transport.start.bind(transport);
  transport.start = async () => {
    const deliver = transport.onmessage;
    transport.onmessage = (message: any, ...rest: any[]) => {
      if (typeof message?.result?.protocolVersion === "string") versions.push(message.result.protocolVersion);
      (deliver as (...a: unknown[]) => void)(message, ...rest);
    };
    return start();
  };
  try {
    await client.connect(transport as never);
  } catch (error) {
    return { connect: `error ${(error as { code?: unknown }).code ?? ""}: ${(error as Error).message}` };
  }
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    const add = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    const fail = await client.callTool({ name: "fail", arguments: {} });
    return {
      connect: "ok",
      version: versions.at(-1),
      instructions: client.getInstructions(),
      tools,
      add: textOf(add),
      failIsError: fail.isError === true,
    };
  } finally {
    await client.close();
  }
}

/** The proxied outcome without the proxy's documented additions (instructions paragraph, its tools). */
function withoutAdditions(outcome: Outcome): Outcome {
  const { instructions, tools } = outcome;
  return {
    ...outcome,
    ...(instructions === undefined ? {} : { instructions: instructions.replace(`\n\n${INSTRUCTIONS_SUFFIX}`, "") }),
    ...(tools === undefined ? {} : { tools: tools.filter((t) => !INJECTED.includes(t)) }),
  };
}

const SERVERS: Record<string, string[]> = {
  "2024-11-05 only": ["2024-11-05"],
  "2025-03-26 and 2024-11-05": ["2025-03-26", "2024-11-05"],
  "2025-06-18 only, refusing others": ["2025-06-18", "--refuse"],
  "exits on server/discover": ["2025-11-25", "--exit-on-discover"],
};
const CELLS: [ClientKind, string, string][] = [
  ["sdk-v1", "2024-11-05 only", "connects at 2024-11-05"],
  ["sdk-v2-legacy", "2024-11-05 only", "connects at 2024-11-05"],
  ["sdk-v2-auto", "2024-11-05 only", "probes, falls back, connects at 2024-11-05"],
  ["sdk-v1", "2025-03-26 and 2024-11-05", "connects at 2025-03-26"],
  ["sdk-v2-auto", "2025-03-26 and 2024-11-05", "probes, falls back, connects at 2025-03-26"],
  ["sdk-v1", "2025-06-18 only, refusing others", "fails with the server's -32602"],
  ["sdk-v2-auto", "2025-06-18 only, refusing others", "probes, falls back, fails with the server's -32602"],
  ["sdk-v2-auto", "exits on server/discover", "probe's process dies, falls back, connects"],
];

describe("version negotiation through the stdio proxy, direct vs proxied", () => {
  for (const [kind, server, expected] of CELLS) {
    test(`${kind} × server speaking ${server}: ${expected}, the same as direct`, async () => {
      const command = [...fixture("versioned"), ...(SERVERS[server] as string[])];
      const direct = await session(kind, command, {});
      const events = join(tempDir(), "events.jsonl");
      const proxied = await session(kind, [await binaryPath(), "--", ...command], {
        BATON_EVENT_SINK: `file://${events}`,
      });
      expect(withoutAdditions(proxied)).toEqual(direct);
      if (direct.connect !== "ok") {
        expect(direct.connect).toContain("-32602");
        return;
      }
      expect(proxied.tools?.filter((t) => INJECTED.includes(t))).toEqual(INJECTED);
      expect(proxied.instructions).toBe(`Versioned fixture.\n\n${INSTRUCTIONS_SUFFIX}`);
      // The events: the session's client and server by name, the calls and nothing for the probe's -32601 or death.
      const all = readValidatedEvents(events);
      expect(all.map((e) => `${e.event_type}:${e.payload.tool_name ?? ""}:${e.payload.error_type ?? ""}`)).toEqual([
        "surface_snapshot::",
        "tool_call_start:add:",
        "tool_call_end:add:",
        "tool_call_start:fail:",
        "tool_call_error:fail:tool_error",
      ]);
      for (const event of all) expect(event.agent_runtime).toBe(kind);
      expect(all[0]?.payload.server_info.name).toStartWith("versioned-");
    });
  }
});
