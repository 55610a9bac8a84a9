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
