// Black-box: raw wire behaviour of the compiled proxy — junk, huge lines, split writes, batches, server→client requests, pagination, shadowing, backpressure, cancellation.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { eventually, fixture, fixturePid, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";
import { WireClient } from "./support/wire-client.ts";

const MiB = 1024 * 1024;
const INJECTED = ["baton_annotate", "baton_session_report"];

/** The byte-level client (test/support/wire-client.ts) in front of `command`. */
const startWire = (command: string[], env: Record<string, string>): Promise<WireClient> =>
  WireClient.start(command, { env });

/** The exact line the fixture writes for `huge` with `bytes` (text of "é", 2 bytes each). */
function hugeLineParts(id: number): { prefix: Buffer; suffix: Buffer } {
  const [prefix, suffix] = JSON.stringify({
    jsonrpc: "2.0",
    id,
    result: { content: [{ type: "text", text: "@@BODY@@" }] },
  }).split("@@BODY@@") as [string, string];
  return { prefix: Buffer.from(prefix, "utf8"), suffix: Buffer.from(suffix, "utf8") };
}

/** True when `line` is exactly the fixture's `huge` answer to `id` with `bytes` bytes of text. */
function isHugeAnswer(line: Buffer, id: number, bytes: number, body: Buffer): boolean {
  const { prefix, suffix } = hugeLineParts(id);
  if (line.length !== prefix.length + bytes + suffix.length) return false;
  return (
    line.subarray(0, prefix.length).equals(prefix) &&
    line.subarray(prefix.length, prefix.length + bytes).equals(body.subarray(0, bytes)) &&
    line.subarray(prefix.length + bytes).equals(suffix)
  );
}

function vmRssBytes(pid: number): number {
  const match = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return match ? Number(match[1]) * 1024 : 0;
}

const ids = (lines: readonly string[]): unknown[] =>
  lines.flatMap((l) => {
    try {
      const m = JSON.parse(l);
      return m && !("method" in m) && "id" in m ? [m.id] : [];
    } catch {
      return [];
    }
  });

describe("junk", () => {
  test("noisy server: its non-JSON and blank lines reach the client byte-for-byte, are logged, and the proxy adds nothing of its own", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("noisy"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await p.request(1, "tools/list", {});
    const echo = await p.request(2, "tools/call", { name: "echo", arguments: { text: "through the noise" } });
    expect(echo.result.content[0].text).toBe("through the noise");
    expect(await p.close()).toBe(0);

    const noise = "noise: about to answer";
    expect(p.lines[0]).toBe("Starting fixture server v1.0 (this line is not JSON)");
    // Per answer the fixture writes: noise, a blank line, the JSON answer. Nothing else may appear.
    expect(p.lines.slice(1).map((l) => (l === noise || l === "" ? l : "<json>"))).toEqual([
      noise,
      "",
      "<json>",
      noise,
      "",
      "<json>",
      noise,
      "",
      "<json>",
    ]);
    expect(ids(p.lines)).toEqual([0, 1, 2]);
    expect(p.lines[9]).toBe(
      JSON.stringify({ jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "through the noise" }] } }),
    );
    expect(p.stderr()).toContain("Starting fixture server v1.0");
    expect(p.stderr()).toMatch(/not JSON from the server/);
    expect(p.stderr()).toMatch(/blank line from the server/);
    const everything = readValidatedEvents(events);
    expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
    const all = everything.filter((e) => e.event_type !== "surface_snapshot");
    checkCallPairs(all);
    expect(all.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
  });

  test("client junk: a non-JSON line and non-JSON-RPC JSON reach the server; the proxy keeps working", async () => {
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:" } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send("this line is not json at all\n");
    await p.waitForStderr("fixture got a non-JSON line: this line is not json at all");
    p.send('{"hello":"not json-rpc"}\n');
    expect((await p.request(1, "ping")).result).toEqual({});
    expect(p.stderr()).toMatch(/not JSON from the client/);
    expect(p.stderr()).toMatch(/not a JSON-RPC message from the client/);
    const echo = await p.request(2, "tools/call", { name: "echo", arguments: { text: "still fine" } });
    expect(echo.result.content[0].text).toBe("still fine");
    expect(await p.close()).toBe(0);
  });

  test("a call with an empty _meta then a nested top-level member keeps the proxy up, its start and end recorded", async () => {
    // The byte scan once took the end of "x"'s inner object for the end of `_meta` (fixed in line-facts.ts): the proxy exited 70.
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"},"_meta":{}},"x":{"y":{"z":1}}}\n',
    );
    p.send('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}},"x":[[1]]}\n');
    expect((await p.next((m) => m?.id === 2)).result).toBeDefined();
    expect((await p.request(3, "tools/call", { name: "echo", arguments: { text: "after" } })).result).toBeDefined();
    expect(await p.close()).toBe(0);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.filter((e) => e.event_type === "tool_call_start").map((e) => e.payload.params)).toEqual([
      { text: "a" },
      {},
      { text: "after" },
    ]);
  });

  test("a junk line's excerpt in the proxy's own log has its secrets redacted; the line reaches the server unchanged", async () => {
    const log = join(tempDir(), "proxy.log");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log } });
    await p.request(0, "initialize", INIT_PARAMS);
    // The token crosses the excerpt's length: half of it must not be quoted either.
    const line = `debug: alice@example.com via https://admin:hunter2@db.example ${"x".repeat(40)} token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 end`;
    p.send(`${line}\n`);
    await p.waitForStderr(`fixture got a non-JSON line: ${line.slice(0, 80)}\n`); // what the fixture quotes of it
    expect((await p.request(1, "ping")).result).toEqual({});
    expect(await p.close()).toBe(0);
    const logged = readFileSync(log, "utf8");
    expect(logged).toContain("not JSON from the client unchanged");
    for (const secret of ["alice@", "hunter2", "ghp_A1"]) expect(logged).not.toContain(secret);
  });

  test("a junk line that is a JSON log record has its secret-named values redacted in the proxy's log", async () => {
    const log = join(tempDir(), "proxy.log");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log } });
    await p.request(0, "initialize", INIT_PARAMS);
    // JSON, but not JSON-RPC: a structured logger writing to the wrong stream.
    p.send('{"level":"debug","msg":"login","password":"hunter2-Winter","db":"DB_PASSWORD=s3cr3t-db"}\n');
    expect((await p.request(1, "ping")).result).toEqual({});
    expect(await p.close()).toBe(0);
    const logged = readFileSync(log, "utf8");
    expect(logged).toContain("JSON that is not a JSON-RPC message from the client unchanged");
    expect(logged).toContain("[redacted:password]");
    for (const secret of ["hunter2-Winter", "s3cr3t-db"]) expect(logged).not.toContain(secret);
  });

  test("a junk line's key named in BATON_SCRUB_KEYS is redacted in the proxy's log, as in events", async () => {
    const log = join(tempDir(), "proxy.log");
    const p = await startProxy(fixture("echo"), {
      env: { BATON_EVENT_SINK: "stderr:", BATON_PROXY_LOG_FILE: log, BATON_SCRUB_KEYS: "member_no" },
    });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send('{"level":"debug","msg":"lookup","member_no":"M-7781-2290"}\n');
    expect((await p.request(1, "ping")).result).toEqual({});
    expect(await p.close()).toBe(0);
    const logged = readFileSync(log, "utf8");
    expect(logged).toContain("JSON that is not a JSON-RPC message from the client unchanged");
    expect(logged).toContain("[redacted:member_no]");
    expect(logged).not.toContain("M-7781-2290");
  });

  test("client batches: [ping, ping] and [ping, tools/call] are forwarded and every member answered; calls observed; an injected member is answered by the proxy", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send([
      { jsonrpc: "2.0", id: "b-1", method: "ping" },
      { jsonrpc: "2.0", id: "b-2", method: "ping" },
    ]);
    const [first, second] = await Promise.all([p.next((m) => m.id === "b-1"), p.next((m) => m.id === "b-2")]);
    expect(first.result).toEqual({});
    expect(second.result).toEqual({});
    p.send([
      { jsonrpc: "2.0", id: "b-3", method: "ping" },
      { jsonrpc: "2.0", id: "b-4", method: "tools/call", params: { name: "echo", arguments: { text: "in a batch" } } },
    ]);
    expect((await p.next((m) => m.id === "b-4")).result.content[0].text).toBe("in a batch");
    expect((await p.next((m) => m.id === "b-3")).result).toEqual({});
    // An injected-tool member is answered by the proxy; the rest of the batch still reaches the server.
    p.send([
      { jsonrpc: "2.0", id: "b-5", method: "ping" },
      {
        jsonrpc: "2.0",
        id: "b-6",
        method: "tools/call",
        params: { name: "baton_annotate", arguments: { intent: "annotate from a batch" } },
      },
    ]);
    expect((await p.next((m) => m.id === "b-6")).result.content[0].text).toContain("Annotation recorded");
    expect((await p.next((m) => m.id === "b-5")).result).toEqual({});
    expect(await p.close()).toBe(0);
    expect(p.stderr()).not.toContain("unknown tool baton_annotate");
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.map((e) => [e.event_type, e.payload.tool_name ?? e.payload.intent])).toEqual([
      ["tool_call_start", "echo"],
      ["tool_call_end", "echo"],
      ["annotation", "annotate from a batch"],
    ]);
  });
});

describe("framing", () => {
  test("a request written one byte at a time, with multi-byte UTF-8 split across writes, arrives intact", async () => {
    const c = await startWire(fixture("echo"), { BATON_EVENT_SINK: "stderr:" });
    await c.request(0, "initialize", INIT_PARAMS);
    const text = "héllo wörld ✓ — 日本語 🎉 Ω";
    const bytes = new TextEncoder().encode(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text } } })}\n`,
    );
    for (const byte of bytes) await c.write(new Uint8Array([byte]));
    const echo = await c.response(1);
    expect(echo.result.content[0].text).toBe(text);
    expect(await c.close()).toBe(0);
  });

  test("a 4 MiB result (inspected) and a 40 MiB result (over the 8 MiB cap, streamed uninspected) arrive intact, each answered once", async () => {
    const events = join(tempDir(), "events.jsonl");
    const c = await startWire(fixture("echo"), { BATON_EVENT_SINK: `file://${events}` });
    await c.request(0, "initialize", INIT_PARAMS);
    const body = Buffer.from("é".repeat(20 * MiB), "utf8"); // 40 MiB
    const seen: { id: number; length: number; ok: boolean }[] = [];
    c.consume = (line) => {
      if (line.length < MiB) return false;
      const id = line
        .subarray(0, 40)
        .toString("latin1")
        .match(/"id":(\d+)/)?.[1];
      const bytes = id === "1" ? 4 * MiB : 40 * MiB;
      seen.push({ id: Number(id), length: line.length, ok: isHugeAnswer(line, Number(id), bytes, body) });
      return true;
    };
    await c.send({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "huge", arguments: { bytes: 4 * MiB } },
    });
    await c.until(() => (seen.length >= 1 ? true : undefined), "the 4 MiB answer", 20_000);
    await c.send({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "huge", arguments: { bytes: 40 * MiB } },
    });
    await c.until(() => (seen.length >= 2 ? true : undefined), "the 40 MiB answer", 20_000);
    expect(seen.map(({ id, ok }) => ({ id, ok }))).toEqual([
      { id: 1, ok: true },
      { id: 2, ok: true },
    ]);
    expect((await c.request(3, "ping")).result).toEqual({});
    await c.until(
      () => (/longer than the 8 MiB inspection limit/.test(c.stderr()) ? true : undefined),
      "the over-cap warning",
    );
    expect(await c.close()).toBe(0);
    await c.stdoutEnded;
    // Nothing more for ids 1 and 2 after their answers: no shutdown error for an answer the proxy streamed
    // through uninspected, and the call it could not inspect is not reported as cut off by the shutdown.
    const late = c.lines.map((l) => l.toString("utf8")).filter((l) => /"id":(1|2)[,}]/.test(l));
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    const ends = all.filter((e) => e.payload.tool_name === "huge" && e.event_type !== "tool_call_start");
    const outcomes = ends.map((e) => (e.event_type === "tool_call_error" ? e.payload.error_type : e.event_type));
    expect({ late, outcomes }).toEqual({ late: [], outcomes: ["tool_call_end", "tool_call_end"] });
    expect(JSON.stringify(ends[0]?.payload.result)).not.toContain("not inspected");
    expect(JSON.stringify(ends[1]?.payload.result)).toContain("not inspected");
    expect(ends[1]?.runtime_meta["baton/truncated"]).toBe(1); // the placeholder is a cut, like the 4 MiB one's 64 KiB cut
    for (const event of all) expect(JSON.stringify(event).length).toBeLessThan(MiB); // events stay bounded
  }, 60_000);
});

describe("client calls over the 8 MiB inspection cap", () => {
  test("are forwarded intact and still recorded (start not inspected, outcome), and a call left open gets its -32603 at shutdown", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(1, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const pad = "x".repeat(9 * MiB);
    // id first (Python SDKs), then id last (the TypeScript SDK)
    p.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "slow", arguments: { ms: 1, pad } } });
    expect((await p.next((m) => m?.id === 2, 30_000)).result.content[0].text).toBeString();
    p.send({ method: "tools/call", params: { name: "never", arguments: { pad } }, jsonrpc: "2.0", id: 3 });
    expect((await p.request(4, "tools/call", { name: "echo", arguments: { text: "after" } })).result).toBeDefined();
    expect(await p.close()).toBe(0);
    const left = p.lines.map((l) => JSON.parse(l)).find((m) => m.id === 3);
    expect(left?.error?.code).toBe(-32603);
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    const calls = all
      .filter((e) => e.event_type.startsWith("tool_call_"))
      .map((e) => [e.event_type, e.payload.tool_name, e.payload.error_type]);
    expect(calls).toEqual([
      ["tool_call_start", "slow", undefined],
      ["tool_call_end", "slow", undefined],
      ["tool_call_start", "never", undefined],
      ["tool_call_start", "echo", undefined],
      ["tool_call_end", "echo", undefined],
      ["tool_call_error", "never", "proxy_shutdown"],
    ]);
    const start = all.find((e) => e.event_type === "tool_call_start");
    expect(JSON.stringify(start?.payload.params)).toContain("over the 8 MiB inspection limit");
  }, 60_000);
});

describe("routing", () => {
  test("server→client request (roots/list) round-trips, even when its id equals a pending client request id", async () => {
    const c = await startWire(fixture("echo"), { BATON_EVENT_SINK: "stderr:" });
    await c.request(0, "initialize", INIT_PARAMS);
    // The fixture numbers its own requests srv-0, srv-1, …: give the client's call the same id.
    await c.send({
      jsonrpc: "2.0",
      id: "srv-0",
      method: "tools/call",
      params: { name: "ask", arguments: { method: "roots/list" } },
    });
    const asked = await c.until(() => {
      for (const line of c.lines) {
        const m = JSON.parse(line.toString("utf8"));
        if (m.method === "roots/list") return m as Record<string, any>;
      }
      return undefined;
    }, "the server's roots/list request");
    expect(asked.id).toBe("srv-0");
    await c.send({ jsonrpc: "2.0", id: asked.id, result: { roots: [{ uri: "file:///work", name: "work" }] } });
    const answer = await c.response("srv-0");
    expect(JSON.parse(answer.result.content[0].text)).toEqual({ roots: [{ uri: "file:///work", name: "work" }] });
    expect(await c.close()).toBe(0);
  });

  test("paginated tools/list: the injected tools appear exactly once, on the last page only; cursors untouched", async () => {
    const p = await startProxy(fixture("paginated"), { env: { BATON_EVENT_SINK: "stderr:" } });
    await p.request(0, "initialize", INIT_PARAMS);
    for (let walk = 0; walk < 2; walk++) {
      const pages: string[][] = [];
      let cursor: string | undefined;
      let id = 100 * (walk + 1);
      do {
        const r = await p.request(id++, "tools/list", cursor === undefined ? {} : { cursor });
        pages.push(r.result.tools.map((t: { name: string }) => t.name));
        cursor = r.result.nextCursor;
        if (pages.length < 3) expect(cursor).toBe(String(pages.length));
      } while (cursor !== undefined);
      expect(pages.length).toBe(3);
      expect(pages[0]?.some((n) => n.startsWith("baton_"))).toBe(false);
      expect(pages[1]?.some((n) => n.startsWith("baton_"))).toBe(false);
      expect(pages[2]?.slice(-2)).toEqual(INJECTED);
      const all = pages.flat();
      for (const name of INJECTED) expect(all.filter((n) => n === name).length).toBe(1);
      expect(all.length).toBe(13 + 2);
    }
    expect(await p.close()).toBe(0);
  });

  test("shadowing server: its own baton_annotate is listed once (ours kept out), calls reach the server, a warning is logged", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("shadowing"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    const init = await p.request(0, "initialize", INIT_PARAMS);
    const listed = await p.request(1, "tools/list", {});
    const tools = listed.result.tools as { name: string; description: string }[];
    expect(tools.filter((t) => t.name === "baton_annotate")).toEqual([
      { name: "baton_annotate", description: "the server's own", inputSchema: { type: "object" } } as never,
    ]);
    // The instructions came before the list: they name our tool by its description too, which the
    // server's own tool of that name lacks, and say what to do then (no note to the server's tool).
    const instructions = init.result.instructions as string;
    const named = /`baton_annotate` tool whose description begins "([^"]+)"/.exec(instructions)?.[1];
    expect(named).toBeDefined();
    expect(tools.some((t) => t.description.startsWith(named as string))).toBe(false);
    expect(instructions).toContain("if no listed tool has that description");
    expect(instructions).toContain("leave no notes then");
    expect(tools.filter((t) => t.name === "baton_session_report").length).toBe(1);
    await p.waitForStderr(/has its own tool named "baton_annotate"/);
    const call = await p.request(2, "tools/call", { name: "baton_annotate", arguments: { intent: "for the server" } });
    expect(call.result.content[0].text).toBe("the server's own baton_annotate");
    expect(await p.close()).toBe(0);
    const everything = readValidatedEvents(events);
    expect(everything.filter((e) => e.event_type === "surface_snapshot")).toHaveLength(1); // the server's surface, once
    const all = everything.filter((e) => e.event_type !== "surface_snapshot");
    checkCallPairs(all);
    expect(all.map((e) => [e.event_type, e.payload.tool_name])).toEqual([
      ["tool_call_start", "baton_annotate"],
      ["tool_call_end", "baton_annotate"],
    ]);
  });

  test("cancellation: a never-answered call cancelled by the client ends as tool_call_error cancelled, with no late response", async () => {
    const events = join(tempDir(), "events.jsonl");
    const p = await startProxy(fixture("echo"), { env: { BATON_EVENT_SINK: `file://${events}` } });
    await p.request(0, "initialize", INIT_PARAMS);
    p.send({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "never", arguments: {} } });
    p.send({
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 7, reason: "user pressed stop" },
    });
    expect((await p.request(8, "ping")).result).toEqual({});
    expect(await p.close()).toBe(0);
    expect(ids(p.lines)).toEqual([0, 8]); // the cancelled call is not answered (not even at shutdown)
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_error"]);
    expect(all[1]?.payload).toMatchObject({ tool_name: "never", error_type: "cancelled" });
    expect(all[1]?.payload.error_body).toContain("user pressed stop");
  });
});

describe("the proxy's own answers and a server line going out in pieces", () => {
  test("baton_annotate called while a 16 MiB answer is still passing through: both arrive whole, each on its own line", async () => {
    const BYTES = 16 * MiB;
    const c = await startWire(fixture("echo"), { BATON_EVENT_SINK: "stderr:" });
    await c.request(0, "initialize", INIT_PARAMS);
    const body = Buffer.from("é".repeat(BYTES / 2), "utf8");
    let huge: boolean | undefined;
    c.consume = (line) => {
      if (line.length < MiB) return false;
      huge = isHugeAnswer(line, 1, BYTES, body);
      return true;
    };
    await c.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "huge", arguments: { bytes: BYTES } } })}\n`,
    );
    await c.until(() => (c.partialBytes > 0 ? true : undefined), "the answer to start arriving");
    c.pause(); // now it cannot finish: it is still passing through when our tool is called
    await c.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "baton_annotate", arguments: { intent: "note" } } })}\n`,
    );
    c.resume();
    await c.until(() => (huge !== undefined ? true : undefined), "the huge answer", 30_000);
    const note = await c.until(
      () => c.lines.map((l) => l.toString("utf8")).find((l) => l.includes('"id":2')),
      "the annotate answer",
    );
    expect(huge).toBe(true);
    expect(JSON.parse(note).result.content[0].text).toContain("Annotation recorded");
    expect(c.lines.every((l) => l.length === 0 || (JSON.parse(l.toString("utf8")) as unknown) !== undefined)).toBe(
      true,
    );
    expect(await c.close()).toBe(0);
  });
});

describe("backpressure", () => {
  test.skipIf(process.platform !== "linux")(
    "a client that stops reading: the proxy's memory stays bounded, then all 20 × 16 MiB answers arrive complete and in order",
    async () => {
      const CALLS = 20;
      const BYTES = 16 * MiB;
      const PROXY_RSS_LIMIT = 200 * MiB;
      const c = await startWire(fixture("echo"), { BATON_EVENT_SINK: "stderr:" });
      await c.request(0, "initialize", INIT_PARAMS);
      const serverPid = fixturePid(c.stderr());
      const body = Buffer.from("é".repeat(BYTES / 2), "utf8");
      const arrived: { id: number; ok: boolean }[] = [];
      c.consume = (line) => {
        if (line.length < MiB) return false;
        const id = Number(
          line
            .subarray(0, 40)
            .toString("latin1")
            .match(/"id":(\d+)/)?.[1],
        );
        arrived.push({ id, ok: isHugeAnswer(line, id, BYTES, body) });
        return true;
      };

      c.pause();
      const requests = Array.from({ length: CALLS }, (_, i) =>
        JSON.stringify({
          jsonrpc: "2.0",
          id: i + 1,
          method: "tools/call",
          params: { name: "huge", arguments: { bytes: BYTES } },
        }),
      ).join("\n");
      await c.write(`${requests}\n`);
      // Watch the proxy while the server has produced most of the data and the client reads nothing:
      // at least 2 s, and until the server holds >= 200 MiB of unsent output (bounded at 20 s).
      const started = Date.now();
      let maxProxyRss = 0;
      let maxServerRss = 0;
      await eventually(
        () => {
          maxProxyRss = Math.max(maxProxyRss, vmRssBytes(c.proc.pid));
          maxServerRss = Math.max(maxServerRss, vmRssBytes(serverPid));
          return Date.now() - started >= 2000 && maxServerRss >= 200 * MiB;
        },
        20_000,
        "the server to hold the unread output",
      );
      expect(arrived.length).toBeLessThan(CALLS);
      expect(maxProxyRss).toBeLessThan(PROXY_RSS_LIMIT);

      c.resume();
      await c.until(() => (arrived.length === CALLS ? true : undefined), "all answers after reading resumes", 60_000);
      expect(arrived.map((a) => a.id)).toEqual(Array.from({ length: CALLS }, (_, i) => i + 1));
      expect(arrived.every((a) => a.ok)).toBe(true);
      expect(await c.close()).toBe(0);
    },
    120_000,
  );
});
