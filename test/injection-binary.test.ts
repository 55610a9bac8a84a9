// Black-box: what the compiled proxy adds: the instructions join, and baton_annotate keeping what the agent wrote (events checked against the schema).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { INSTRUCTIONS_SUFFIX } from "../src/proxy/injected-tools.ts";
import { readValidatedEvents } from "./support/events.ts";
import { fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

const dir = tempDir("baton-injection-binary-");

describe("instructions join", () => {
  test.each([
    ["ending in a newline", "Use the search tool first.\n"],
    ["ending in blank lines and spaces", "Use the search tool first.\n\n  \n"],
    ["ending in CRLF", "Use the search tool first.\r\n"],
    ["ending in text", "Use the search tool first."],
  ])(
    "server instructions %s: exactly one blank line before ours, the server's text otherwise unchanged",
    async (_name, own) => {
      const proxy = await startProxy(fixture("instructions"), {
        env: { BATON_EVENT_SINK: "stderr:", FIXTURE_INSTRUCTIONS: JSON.stringify(own) },
      });
      const init = await proxy.request(1, "initialize", INIT_PARAMS);
      expect(init.result.instructions).toBe(`Use the search tool first.\n\n${INSTRUCTIONS_SUFFIX}`);
      expect(await proxy.close()).toBe(0);
    },
  );
});

describe("baton_annotate keeps what the agent wrote", () => {
  test("an invented signal_type is recorded as other with the label kept, and the result says so", async () => {
    const events = join(dir, "annotate.jsonl");
    const proxy = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await proxy.request(1, "initialize", INIT_PARAMS);
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const answer = await proxy.request(2, "tools/call", {
      name: "baton_annotate",
      arguments: { intent: "find the invoice", signal_type: "confusing_error", tool_name: "echo", severity: "high" },
    });
    expect(answer.result.isError).toBeUndefined();
    const text: string = answer.result.content[0].text;
    expect(text).toStartWith("Annotation recorded for the server's maintainers.");
    expect(text).toContain('"signal_type" "confusing_error" is not one of');
    expect(text).toContain('recorded as "other" with your label kept in context.signal_type_given');
    expect(text).toContain("Unknown fields were kept under context.unknown_fields: severity.");
    expect(await proxy.close()).toBe(0);
    const annotations = readValidatedEvents(events).filter((e) => e.event_type === "annotation");
    expect(annotations).toHaveLength(1);
    expect(annotations[0]?.payload).toMatchObject({
      intent: "find the invoice",
      signal_type: "other",
      tool_name: "echo",
      context: { signal_type_given: "confusing_error", unknown_fields: { severity: "high" } },
    });
  });
});

describe("a call to our own tool over the 8 MiB inspection cap", () => {
  test("never reaches the server: the proxy answers it with a JSON-RPC error (id first or last), and the session goes on", async () => {
    const events = join(dir, "oversized.jsonl");
    const proxy = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await proxy.request(1, "initialize", INIT_PARAMS);
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const intent = "x".repeat(9 * 1024 * 1024);
    // Python SDKs write the id first, the TypeScript SDK last: both must be answered.
    proxy.send({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent } },
    });
    proxy.send({
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent } },
      jsonrpc: "2.0",
      id: 3,
    });
    const answers = [await proxy.next((m) => m?.id === 2, 30_000), await proxy.next((m) => m?.id === 3, 30_000)];
    for (const answer of answers) {
      expect(answer.result).toBeUndefined();
      expect(answer.error.code).toBe(-32602);
      expect(answer.error.message).toStartWith("baton-proxy: baton_annotate was not recorded: the request is 9 MiB,");
    }
    // The server's input is still whole lines: the next call is answered by the server as usual.
    const echo = await proxy.request(4, "tools/call", { name: "echo", arguments: { text: "after" } });
    expect(echo.result.content[0].text).toBe("after");
    expect(await proxy.close()).toBe(0);
    // The server never saw our tool (its own baton_annotate would have answered); each id was answered once.
    expect(proxy.lines.join("\n")).not.toContain("the server's own baton_annotate");
    expect(proxy.lines.filter((l) => /"id":[23][,}]/.test(l))).toHaveLength(2);
    expect(readValidatedEvents(events).filter((e) => e.event_type === "annotation")).toHaveLength(0);
  }, 60_000);
});
