// Black-box: the privacy stage works on events only — the MCP wire keeps the exact bytes.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readValidatedEvents } from "./support/events.ts";
import { fixture, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";

const EMAIL = "bob.smith@example.com";
const TOKEN = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";

async function echoThroughProxy(env: Record<string, string>) {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}`, ...env } });
  await p.request(0, "initialize", INIT_PARAMS);
  const text = `please mail ${EMAIL} the key ${TOKEN}`;
  const reply = await p.request(1, "tools/call", {
    name: "echo",
    arguments: { text, member_no: "M-991", api_key: "abc" },
  });
  expect(await p.close()).toBe(0);
  return { reply, text, events: readValidatedEvents(events), raw: readFileSync(events, "utf8") };
}

describe("privacy on the real binary", () => {
  test("an email and a token reach the server and the client intact, but not the event file", async () => {
    const { reply, text, events, raw } = await echoThroughProxy({});
    // The fixture echoes what it received: the server saw the exact text, and so does the client.
    expect(reply.result.content[0].text).toBe(text);
    expect(raw).not.toContain(EMAIL);
    expect(raw).not.toContain(TOKEN);
    const start = events.find((e) => e.event_type === "tool_call_start");
    const end = events.find((e) => e.event_type === "tool_call_end");
    expect(start?.payload.params.text).toBe("please mail [email] the key [token]");
    expect(start?.payload.params.api_key).toBe("[redacted:api_key]");
    expect(end?.payload.result[0].text).toBe("please mail [email] the key [token]");
    expect(start?.runtime_meta["baton/scrubbed"]).toMatchObject({ email: 1, token: 1 });
  });

  test("BATON_SCRUB_KEYS adds key names; BATON_SCRUB=off keeps values (sizes still bounded)", async () => {
    const extra = await echoThroughProxy({ BATON_SCRUB_KEYS: "member_no" });
    expect(extra.events.find((e) => e.event_type === "tool_call_start")?.payload.params.member_no).toMatch(
      /^\[redacted/,
    );
    const off = await echoThroughProxy({ BATON_SCRUB: "off" });
    expect(off.raw).toContain(EMAIL);
    expect(off.events.find((e) => e.event_type === "tool_call_start")?.runtime_meta["baton/scrubbed"]).toBeUndefined();
  });
});

describe("privacy on the real binary: a result written as JSON text", () => {
  test("a secret-named key inside the result's text is redacted like the same key in the arguments", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    // The fixture's `args` tool answers with its arguments as JSON text, as many real tools answer with records.
    const args = { account: "acme", api_key: "k-9f8e7d6c5b4a", password: "hunter2-Winter" };
    const reply = await p.request(1, "tools/call", { name: "args", arguments: args });
    expect(await p.close()).toBe(0);
    expect(reply.result.content[0].text).toBe(JSON.stringify(args)); // the wire is untouched
    const raw = readFileSync(events, "utf8");
    expect(raw).not.toContain("k-9f8e7d6c5b4a");
    expect(raw).not.toContain("hunter2-Winter");
    const end = readValidatedEvents(events).find((e) => e.event_type === "tool_call_end");
    expect(JSON.parse(end?.payload.result[0].text)).toEqual({
      account: "acme",
      api_key: "[redacted:api_key]",
      password: "[redacted:password]",
    });
  });
});

describe("privacy on the real binary: headers as a list of name/value pairs", () => {
  test("the value of an Authorization pair in the arguments reaches the server but not the event file", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const headers = [
      { name: "Authorization", value: "Token 9f8e7d6c5b4a" },
      { name: "Accept", value: "application/json" },
    ];
    const reply = await p.request(1, "tools/call", {
      name: "args",
      arguments: { url: "https://example.com", headers },
    });
    expect(await p.close()).toBe(0);
    expect(JSON.parse(reply.result.content[0].text).headers).toEqual(headers);
    expect(readFileSync(events, "utf8")).not.toContain("9f8e7d6c5b4a");
    const start = readValidatedEvents(events).find((e) => e.event_type === "tool_call_start");
    expect(start?.payload.params.headers).toEqual([
      { name: "Authorization", value: "[redacted:authorization]" },
      { name: "Accept", value: "application/json" },
    ]);
  });
});

describe("privacy on the real binary: internationalised email addresses", () => {
  test("an address with non-ASCII letters reaches the server but not the event file", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const text = "write to jörg.weiß@müller.de and иван@пример.рф";
    const reply = await p.request(1, "tools/call", { name: "echo", arguments: { text } });
    expect(await p.close()).toBe(0);
    expect(reply.result.content[0].text).toBe(text);
    const raw = readFileSync(events, "utf8");
    for (const part of ["jörg", "weiß", "müller", "иван", "пример"]) expect(raw).not.toContain(part);
    const start = readValidatedEvents(events).find((e) => e.event_type === "tool_call_start");
    expect(start?.payload.params.text).toBe("write to [email] and [email]");
  });
});

describe("privacy on the real binary: URL-encoded email addresses", () => {
  test("an address in a query string reaches the server but not the event file", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const text = "GET https://api.example.com/v1/users?email=bob.smith%40example.com failed: 404";
    const reply = await p.request(1, "tools/call", { name: "echo", arguments: { text } });
    expect(await p.close()).toBe(0);
    expect(reply.result.content[0].text).toBe(text);
    expect(readFileSync(events, "utf8")).not.toContain("bob.smith");
    const end = readValidatedEvents(events).find((e) => e.event_type === "tool_call_end");
    expect(end?.payload.result[0].text).toBe("GET https://api.example.com/v1/users?email=[email] failed: 404");
  });
});

describe("privacy on the real binary: more provider credentials", () => {
  test("a Slack webhook URL and a Stripe webhook secret reach the server but not the event file", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const text =
      "webhook https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx signed with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const reply = await p.request(1, "tools/call", { name: "echo", arguments: { text } });
    expect(await p.close()).toBe(0);
    expect(reply.result.content[0].text).toBe(text);
    const raw = readFileSync(events, "utf8");
    expect(raw).not.toContain("AbCdEfGhIjKlMnOpQrStUvWx");
    expect(raw).not.toContain("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  });
});

describe("privacy on the real binary: long keys", () => {
  test("an argument keyed by a long URL with a token crossing the 256-character key cut keeps no part of it", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const url = `https://api.example.com/${"v1/items/".repeat(24)}?access ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8`;
    await p.request(1, "tools/call", { name: "echo", arguments: { text: "x", status: { [url]: 200 } } });
    expect(await p.close()).toBe(0);
    expect(readFileSync(events, "utf8")).not.toContain("ghp_A1b2");
  });
});

describe("privacy on the real binary: a remote server's error text in the proxy's log", () => {
  test("an HTTP error's message quoting a token and an email is logged without them", async () => {
    const quoted = "unknown session for bob.smith@example.com (key ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8)";
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request) => {
        const body = JSON.parse(await request.text());
        if (body.method === "initialize")
          return Response.json({
            jsonrpc: "2.0",
            id: body.id,
            result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "r", version: "1" } },
          });
        return Response.json(
          { jsonrpc: "2.0", id: body.id ?? null, error: { code: -32600, message: quoted } },
          { status: 400 },
        );
      },
    });
    const log = join(tempDir(), "proxy.log");
    const p = await startProxy([], {
      args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
      env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log },
    });
    try {
      await p.request(0, "initialize", INIT_PARAMS);
      p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      await p.waitForStderr("was not delivered");
      // A request's JSON-RPC error is the server's answer: relayed as it came (the wire is not scrubbed).
      expect((await p.request(1, "ping")).error.message).toBe(quoted);
      await p.close();
      const logged = readFileSync(log, "utf8");
      expect(logged).toContain("unknown session for [email] (key [token])");
      for (const part of ["bob.smith", "ghp_A1b2"]) expect(logged).not.toContain(part);
    } finally {
      await p.close();
      server.stop(true);
    }
  });
});

test("privacy on the real binary: a remote server's error text keeps no value of a BATON_SCRUB_KEYS name in the log", async () => {
  const quoted = "unknown session for member_no=M-7781-2290";
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const body = JSON.parse(await request.text());
      if (body.method === "initialize")
        return Response.json({
          jsonrpc: "2.0",
          id: body.id,
          result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "r", version: "1" } },
        });
      return Response.json({ jsonrpc: "2.0", error: { code: -32600, message: quoted } }, { status: 400 });
    },
  });
  const log = join(tempDir(), "proxy.log");
  const p = await startProxy([], {
    args: ["--url", `http://127.0.0.1:${server.port}/mcp`],
    env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log, BATON_SCRUB_KEYS: "member_no" },
  });
  try {
    await p.request(0, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await p.waitForStderr("was not delivered");
    await p.close();
    const logged = readFileSync(log, "utf8");
    expect(logged).toContain("unknown session for member_no=[redacted:member_no]");
    expect(logged).not.toContain("M-7781");
  } finally {
    await p.close();
    server.stop(true);
  }
});

describe("privacy on the real binary: what the report needs stays", () => {
  test("a UUID and a hash whose leading digits pass a card's checks reach the event file whole", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    const text = "order 46957166-1177-4678-9dd7-f089fcafff57 at 3230436328066bc7fb6380ff88400558aa526ccc";
    await p.request(1, "tools/call", { name: "echo", arguments: { text } });
    expect(await p.close()).toBe(0);
    const all = readValidatedEvents(events);
    expect(all.find((e) => e.event_type === "tool_call_start")?.payload.params.text).toBe(text);
    expect(all.find((e) => e.event_type === "tool_call_end")?.payload.result[0].text).toBe(text);
  });
});

test("privacy on the real binary: a git remote in scp form reaches the event file whole", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await p.request(0, "initialize", INIT_PARAMS);
  const text = "fatal: could not read from git@github.com:acme/billing.git";
  await p.request(1, "tools/call", { name: "echo", arguments: { text } });
  expect(await p.close()).toBe(0);
  const end = readValidatedEvents(events).find((e) => e.event_type === "tool_call_end");
  expect(end?.payload.result[0].text).toBe(text);
});

test("privacy on the real binary: a Python dict printed as a tool's text keeps no secret-named value", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await p.request(0, "initialize", INIT_PARAMS);
  const text = "[{'id': 7, 'user': 'bob', 'password': 'hunter2-Winter', 'api_key': 'k-9f8e7d6c5b4a'}]";
  await p.request(1, "tools/call", { name: "echo", arguments: { text } });
  expect(await p.close()).toBe(0);
  const raw = readFileSync(events, "utf8");
  for (const secret of ["hunter2-Winter", "k-9f8e7d6c5b4a"]) expect(raw).not.toContain(secret);
  const end = readValidatedEvents(events).find((e) => e.event_type === "tool_call_end");
  expect(end?.payload.result[0].text).toBe(
    "[{'id': 7, 'user': 'bob', 'password': '[redacted:password]', 'api_key': '[redacted:api_key]'}]",
  );
});

test("privacy on the real binary: a query result as CSV keeps no cell of a secret-named column", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await p.request(0, "initialize", INIT_PARAMS);
  const text = "id,login,api_key\n1,bob,k-9f8e7d6c5b4a\n2,ann,k-1a2b3c4d5e6f\n";
  const reply = await p.request(1, "tools/call", { name: "echo", arguments: { text } });
  expect(await p.close()).toBe(0);
  expect(reply.result.content[0].text).toBe(text);
  const raw = readFileSync(events, "utf8");
  for (const secret of ["k-9f8e7d6c5b4a", "k-1a2b3c4d5e6f"]) expect(raw).not.toContain(secret);
  const end = readValidatedEvents(events).find((e) => e.event_type === "tool_call_end");
  expect(end?.payload.result[0].text).toBe("id,login,api_key\n1,bob,[redacted:api_key]\n2,ann,[redacted:api_key]\n");
});

test("privacy on the real binary: a shell command's credentials are not in the event file", async () => {
  const events = join(tempDir(), "events.jsonl");
  const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
  await p.request(0, "initialize", INIT_PARAMS);
  const text = `curl -u bob:hunter2-Winter -H "X-Api-Key: k-9f8e7d6c5b4a" https://api.example.com/v1/items`;
  await p.request(1, "tools/call", { name: "echo", arguments: { text } });
  expect(await p.close()).toBe(0);
  const raw = readFileSync(events, "utf8");
  for (const secret of ["hunter2-Winter", "k-9f8e7d6c5b4a"]) expect(raw).not.toContain(secret);
  const start = readValidatedEvents(events).find((e) => e.event_type === "tool_call_start");
  expect(start?.payload.params.text).toBe(
    `curl -u bob:[redacted:password] -H "X-Api-Key: [redacted:api_key]" https://api.example.com/v1/items`,
  );
});
