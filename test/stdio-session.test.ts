// Unit: the stdio session loop in-process, with a fake upstream and fake client pipes (ordering, backpressure, cut-through, shutdown paths).

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine } from "../src/engine/session-engine.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { runStdioSession } from "../src/transport/stdio-session.ts";
import { MAX_QUEUED_BYTES } from "../src/transport/wire-writer.ts";
import type { ByteSink, Upstream } from "../src/transport/upstream.ts";
import { memorySink } from "./support/memory-sink.ts";
import { createKeyMatcher } from "../src/telemetry/scrub-keys.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const line = (message: unknown) => `${JSON.stringify(message)}\n`;

/** A stream the test feeds by hand. */
function handFed() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { stream, push: (text: string) => controller.enqueue(encoder.encode(text)), end: () => controller.close() };
}

/** A sink that records what it was given; `hold()` makes the next flushes wait until released. */
function recordingSink() {
  const chunks: Uint8Array[] = [];
  let gate: { promise: Promise<number>; release: () => void } | undefined;
  const sink: ByteSink & { text(): string; lines(): any[]; hold(): () => void } = {
    write: (bytes) => (chunks.push(bytes.slice()), bytes.length),
    flush: () => gate?.promise ?? 0,
    text: () => chunks.map((c) => decoder.decode(c)).join(""),
    lines: () =>
      sink
        .text()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l)),
    hold() {
      let release!: () => void;
      const promise = new Promise<number>((resolve) => (release = () => resolve(0)));
      gate = {
        promise,
        release: () => {
          gate = undefined;
          release();
        },
      };
      return gate.release;
    },
  };
  return sink;
}

function fakeUpstream(output: ReadableStream<Uint8Array>) {
  const calls: string[] = [];
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  let status = "running";
  const input = recordingSink();
  const upstream: Upstream = {
    input,
    output,
    exited,
    describeExit: () => status,
    close: () => void calls.push("close"),
    signal: (signal) => void calls.push(`signal ${signal}`),
    release: async () => void calls.push("release"),
  };
  return {
    upstream,
    input,
    calls,
    exit: (code: number) => {
      status = `exit code ${code}`;
      exit(code);
    },
  };
}

function session(
  serverOutput: ReadableStream<Uint8Array> = handFed().stream,
  now: () => number = () => 0,
  withClock = false,
) {
  const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:" });
  if (!loaded.ok) throw new Error("config");
  const logger = createMemoryLogger();
  const events: BatonEvent[] = [];
  const hub = createTelemetryHub({
    config: loaded.config,
    logger,
    sinks: [memorySink(events)],
  });
  const engine = createSessionEngine({ config: loaded.config, logger, now, telemetry: hub });
  const client = handFed();
  const clientOut = recordingSink();
  const server = fakeUpstream(serverOutput);
  let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  const pokes = { count: 0 };
  const done = runStdioSession({
    engine,
    upstream: server.upstream,
    client: { input: client.stream, output: clientOut },
    logger,
    secretKeys: createKeyMatcher([]),
    onSignal: (handler) => ((signalHandler = handler), () => (signalHandler = undefined)),
    telemetryNeedsTurn: () => hub.needsTurn,
    telemetryPoke: () => void pokes.count++,
    ...(withClock ? { now } : {}),
  });
  return {
    client,
    clientOut,
    server,
    done,
    hub,
    events,
    logger,
    pokes,
    signal: (s: NodeJS.Signals) => signalHandler?.(s),
  };
}

/** Lets queued reads and writes run. */
const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

const call = (id: number, name: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {} },
});

/** The first piece of the server's answer to call 1, its line not ended yet. */
const ANSWER_HEAD = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"aaaa';

/** A session where the client sent `clientLines` and the server has written {@link ANSWER_HEAD} so far. */
async function answerHalfWritten(clientLines: string) {
  const serverOut = handFed();
  const s = session(serverOut.stream);
  s.client.push(clientLines);
  await settle();
  serverOut.push(ANSWER_HEAD);
  await settle();
  return { serverOut, s };
}

describe("ordering", () => {
  test("client lines reach the server byte for byte; answers reach the client in the server's order", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    const init = line({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    const odd = '{"jsonrpc":"2.0",  "id":1,"method":"ping"}\n';
    s.client.push(init + odd);
    await settle();
    expect(s.server.input.text()).toBe(init + odd);
    expect(s.pokes.count).toBe(1); // telemetry hears of every chunk handled (its paced background work goes on)
    serverOut.push(
      line({ jsonrpc: "2.0", id: 1, result: {} }) +
        line({ jsonrpc: "2.0", id: 0, result: { capabilities: { tools: {} }, serverInfo: { name: "f" } } }),
    );
    await settle();
    expect(s.clientOut.lines().map((m) => m.id)).toEqual([1, 0]);
    expect(s.pokes.count).toBe(2);
    expect(s.clientOut.lines()[1].result.instructions).toContain("baton_annotate");
    s.client.end();
    serverOut.end();
    s.server.exit(0);
    expect(await s.done).toBe(0);
  });

  test("a server line still arriving goes out before its end when nothing pending could need a rewrite (cut-through)", async () => {
    const { serverOut, s } = await answerHalfWritten(line(call(1, "huge")));
    expect(s.clientOut.text()).toBe(ANSWER_HEAD);
    serverOut.push('bbbb"}]}}\n');
    await settle();
    expect(JSON.parse(s.clientOut.text()).result.content[0].text).toBe("aaaabbbb");
    s.client.end();
    serverOut.end();
    s.server.exit(0);
    await s.done;
    await s.hub.shutdown(500);
    expect(s.events.map((e) => e.event_type)).toEqual(["tool_call_start", "tool_call_end"]);
  });
});

describe("a server line going out in pieces is never cut by the proxy's own messages", () => {
  const annotate = (id: number) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "baton_annotate", arguments: { intent: "note while a big answer streams" } },
  });

  test("an injected tool's answer made while a server line streams through waits for that line's end", async () => {
    const { serverOut, s } = await answerHalfWritten(line(call(1, "huge")));
    s.client.push(line(annotate(2))); // a parallel call of our own tool, answered by the proxy
    await settle();
    serverOut.push('bbbb"}]}}\n');
    await settle();
    const lines = s.clientOut.lines(); // every line parses
    expect(lines.map((m) => m.id)).toEqual([1, 2]);
    expect(lines[0].result.content[0].text).toBe("aaaabbbb");
    expect(lines[1].result.content[0].text).toContain("Annotation recorded");
    s.client.end();
    serverOut.end();
    s.server.exit(0);
    expect(await s.done).toBe(0);
  });

  test("answers held for an unfinished server line stop the client's reading past MAX_QUEUED_BYTES, until the line ends", async () => {
    const { serverOut, s } = await answerHalfWritten(line(call(1, "huge")));
    // Each answer is over 100 bytes: more than MAX_QUEUED_BYTES of them wait for the line's end.
    const count = Math.ceil(MAX_QUEUED_BYTES / 100);
    s.client.push(Array.from({ length: count }, (_, i) => line(annotate(2 + i))).join(""));
    await settle();
    s.client.push(line(call(1_000_000, "after")));
    await settle(20);
    expect(s.server.input.text()).not.toContain('"id":1000000'); // not read: the held answers bound our memory
    serverOut.push('bbbb"}]}}\n');
    await settle(20);
    expect(s.server.input.text()).toContain('"id":1000000');
    const ids = s.clientOut.lines().map((m) => m.id); // every line parses, in order
    expect(ids).toEqual(Array.from({ length: count + 1 }, (_, i) => 1 + i));
    s.client.end();
    serverOut.end();
    s.server.exit(0);
    expect(await s.done).toBe(0);
  });

  test("the server dies in the middle of a line: the broken line is ended before the proxy's errors, each on its own line", async () => {
    const { serverOut, s } = await answerHalfWritten(line(call(1, "huge")) + line(call(2, "echo")));
    serverOut.end();
    s.server.exit(3);
    expect(await s.done).toBe(3);
    const [broken, ...rest] = s.clientOut.text().split("\n");
    expect(broken).toBe(ANSWER_HEAD);
    expect(rest.filter((l) => l !== "").map((l) => [JSON.parse(l).id, JSON.parse(l).error.code])).toEqual([
      [1, -32603],
      [2, -32603],
    ]);
  });
});

describe("large answers inspected in an idle turn", () => {
  test("forwarded at once; inspected with their arrival time; before the next client line, which may reuse the id", async () => {
    let ticks = 0;
    const serverOut = handFed();
    const s = session(serverOut.stream, () => ++ticks, true);
    s.client.push(line(call(1, "big"))); // the engine reads the clock: 1
    await settle();
    const big = line({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "x".repeat(100_000) }] } });
    serverOut.push(big); // arrives at 2; inspecting it later must not read the clock again
    s.client.push(line(call(1, "again"))); // the same id, right after the answer
    await settle();
    expect(s.clientOut.text()).toBe(big);
    expect(s.server.input.text()).toBe(line(call(1, "big")) + line(call(1, "again")));
    s.client.end();
    serverOut.end();
    s.server.exit(0);
    await s.done;
    await s.hub.shutdown(500);
    const calls = s.events.map((e) => [e.event_type, (e.payload as { tool_name?: string }).tool_name]);
    expect(calls).toEqual([
      ["tool_call_start", "big"],
      ["tool_call_end", "big"],
      ["tool_call_start", "again"],
      ["tool_call_error", "again"],
    ]);
    const payload = (i: number) => (s.events[i]?.payload ?? {}) as { duration_ms?: number; error_type?: string };
    expect(payload(1).duration_ms).toBe(1);
    expect(JSON.stringify(payload(1))).toContain("truncated"); // the result was parsed and bounded
    expect(payload(3).error_type).toBe("proxy_shutdown"); // not "evicted"
  });
});

describe("backpressure", () => {
  test("the server's output is not read further while the client has not taken the previous chunk", async () => {
    let pulls = 0;
    const chunks = [
      line({ jsonrpc: "2.0", method: "notifications/one" }),
      line({ jsonrpc: "2.0", method: "notifications/two" }),
    ];
    const serverOut = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(encoder.encode(next));
        },
      },
      { highWaterMark: 0 },
    );
    const s = session(serverOut);
    const release = s.clientOut.hold();
    await settle(10);
    expect(pulls).toBe(1);
    expect(s.clientOut.lines().map((m) => m.method)).toEqual(["notifications/one"]);
    release();
    await settle(10);
    expect(pulls).toBeGreaterThanOrEqual(2);
    expect(s.clientOut.lines().map((m) => m.method)).toEqual(["notifications/one", "notifications/two"]);
    s.client.end();
    s.server.exit(0);
    await s.done;
  });
});

describe("shutdown paths", () => {
  test("client EOF: the upstream is closed; a call still in flight is answered as proxy_shutdown; the server's status is returned", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.client.push(line(call(4, "never")));
    await settle();
    s.client.end();
    await settle();
    expect(s.server.calls).toEqual(["close"]);
    serverOut.end();
    s.server.exit(0);
    expect(await s.done).toBe(0);
    expect(s.clientOut.lines()).toEqual([
      {
        jsonrpc: "2.0",
        id: 4,
        error: { code: -32603, message: expect.stringContaining("shutting down (the client closed stdin)") },
      },
    ]);
    expect(s.server.calls).toEqual(["close", "release"]);
    await s.hub.shutdown(500);
    expect(s.events.map((e) => (e.payload as Record<string, unknown>).error_type ?? e.event_type)).toEqual([
      "tool_call_start",
      "proxy_shutdown",
    ]);
  });

  test("the server ends by itself: in-flight requests get the JSON-RPC error naming its exit, and its status is returned", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.client.push(line(call(9, "crash")));
    await settle();
    serverOut.end();
    s.server.exit(3);
    expect(await s.done).toBe(3);
    expect(s.clientOut.lines()[0].error.message).toBe(
      "baton-proxy: the MCP server exited (exit code 3) before answering",
    );
    expect(s.logger.lines.some((l) => l.includes("exited by itself (exit code 3)"))).toBe(true);
  });

  test("the server exits while something it started holds its output open: the session still ends, in-flight answered", async () => {
    const serverOut = handFed(); // never ended: a descendant holds the pipe
    const s = session(serverOut.stream);
    s.client.push(line(call(5, "crash")) + line(call(6, "echo")));
    await settle();
    serverOut.push(line({ jsonrpc: "2.0", id: 6, result: { content: [] } })); // written just before dying
    s.server.exit(3);
    expect(await s.done).toBe(3);
    expect(s.clientOut.lines().map((m) => [m.id, m.error?.code ?? "ok"])).toEqual([
      [6, "ok"],
      [5, -32603],
    ]);
    expect(s.server.calls).toEqual(["release"]); // no close: the server is gone; release stops its group
  });

  test("the server writes its last answer and exits while the client is not reading: the answer still arrives whole", async () => {
    const serverOut = handFed(); // never ended: a descendant holds the pipe
    const s = session(serverOut.stream);
    s.client.push(line(call(7, "big")));
    await settle();
    const release = s.clientOut.hold(); // the client pauses reading
    serverOut.push(line({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } }));
    await settle();
    const answer = line({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "y".repeat(100_000) }] } });
    serverOut.push(answer); // still in the pipe: the pump waits for the client to take the line before
    s.server.exit(0);
    await Bun.sleep(300); // the client's pause, longer than the server's output may stay silent
    release();
    expect(await s.done).toBe(0);
    expect(s.clientOut.lines().map((m) => [m.id ?? m.method, m.error?.code ?? "ok"])).toEqual([
      ["notifications/message", "ok"],
      [7, "ok"],
    ]);
    expect(s.clientOut.text().endsWith(answer)).toBe(true);
  });

  test("after the server's exit, a client that takes nothing does not hold the session", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.client.push(line(call(8, "never")));
    await settle();
    s.clientOut.hold(); // never released
    serverOut.push(line({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } }));
    await settle();
    serverOut.push(line({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "z" } }));
    s.server.exit(0);
    expect(await s.done).toBe(0);
  });

  test("after the server's exit, a descendant flooding its pipe does not hold the session", async () => {
    const flood = new TextEncoder().encode(
      line({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "f".repeat(65_000) } }),
    );
    const serverOut = new ReadableStream<Uint8Array>({ pull: (controller) => controller.enqueue(flood) });
    const s = session(serverOut);
    s.server.exit(0);
    expect(await s.done).toBe(0);
    expect(s.logger.lines.some((l) => l.includes("floods its stdout"))).toBe(true);
  });

  test("the client stops reading (EPIPE on our output): the upstream is closed and the session ends in order", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.clientOut.flush = () => Promise.reject(Object.assign(new Error("broken pipe"), { code: "EPIPE" }));
    s.client.push(line(call(1, "echo")));
    await settle();
    serverOut.push(line({ jsonrpc: "2.0", id: 1, result: { content: [] } }));
    await settle();
    expect(s.server.calls).toEqual(["close"]);
    expect(s.logger.lines.some((l) => l.includes("stopped writing to the client") && l.includes("EPIPE"))).toBe(true);
    serverOut.end();
    s.server.exit(0);
    expect(await s.done).toBe(0);
  });

  test("a stop signal to the proxy is passed to the upstream as it comes", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.signal("SIGINT");
    s.signal("SIGTERM");
    expect(s.server.calls).toEqual(["signal SIGINT", "signal SIGTERM"]);
    serverOut.end();
    s.server.exit(130);
    expect(await s.done).toBe(130);
  });
});

describe("a last line without its newline (most stdio readers still take it as a message)", () => {
  const kinds = (events: BatonEvent[]) =>
    events.map((e) => [e.event_type, (e.payload as { error_type?: string }).error_type ?? null]);

  test("the client's last line, a call to baton_annotate: answered by the proxy, never sent to the server", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    const note = {
      jsonrpc: "2.0",
      id: 5,
      method: "tools/call",
      params: { name: "baton_annotate", arguments: { intent: "the last thing I say", signal_type: "other" } },
    };
    s.client.push(line(call(1, "echo")) + JSON.stringify(note));
    s.client.end();
    await settle();
    expect(s.server.input.text()).toBe(line(call(1, "echo")));
    serverOut.push(line({ jsonrpc: "2.0", id: 1, result: { content: [] } }));
    serverOut.end();
    s.server.exit(0);
    await s.done;
    expect(s.clientOut.lines().map((m) => [m.id, m.result?.content?.[0]?.text ?? null])).toEqual([
      [5, expect.stringContaining("Annotation recorded")],
      [1, null],
    ]);
    await s.hub.shutdown(500);
    expect(kinds(s.events)).toEqual([
      ["tool_call_start", null],
      ["annotation", null],
      ["tool_call_end", null],
    ]);
  });

  test("the client's last line, a server call: passed on byte for byte (still without a newline) and tracked", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    const last = JSON.stringify(call(7, "echo"));
    s.client.push(last);
    s.client.end();
    await settle();
    expect(s.server.input.text()).toBe(last);
    serverOut.push(line({ jsonrpc: "2.0", id: 7, result: { content: [] } }));
    serverOut.end();
    s.server.exit(0);
    await s.done;
    expect(s.clientOut.lines().map((m) => m.id)).toEqual([7]);
    await s.hub.shutdown(500);
    expect(kinds(s.events)).toEqual([
      ["tool_call_start", null],
      ["tool_call_end", null],
    ]);
  });

  test("the server's last line, an answer: its call ends with it, and gets no second answer when the server exits", async () => {
    const serverOut = handFed();
    const s = session(serverOut.stream);
    s.client.push(line(call(1, "slow")) + line(call(2, "echo")));
    await settle();
    serverOut.push(JSON.stringify({ jsonrpc: "2.0", id: 2, result: { content: [] } }));
    serverOut.end();
    s.server.exit(0);
    await s.done;
    expect(s.clientOut.lines().map((m) => [m.id, m.error?.code ?? null])).toEqual([
      [2, null],
      [1, -32603],
    ]);
    await s.hub.shutdown(500);
    expect(kinds(s.events)).toEqual([
      ["tool_call_start", null],
      ["tool_call_start", null],
      ["tool_call_end", null],
      ["tool_call_error", "upstream_exit"],
    ]);
  });
});
