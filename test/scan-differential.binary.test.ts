// Black-box differential, seeded: hostile sessions (see support/hostile-lines.ts) through the compiled proxy, the test playing both the client and the server (socket-relay-server.ts), each line's bytes checked on the far side against what the session engine forwards when only a full parse reads the lines, and every event against that engine's events.
//
// FUZZ_SEEDS=1-50, FUZZ_STREAMS=100 (streams per process) and FUZZ_TIMEOUT (ms per seed) hunt further;
// FUZZ_DUMP=<file> writes each line sent (side, base64), FUZZ_REPLAY=<file> sends such a file's lines instead.

import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { createSessionEngine, type WireAction } from "../src/engine/session-engine.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createTelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { classifyText } from "../src/wire/jsonrpc.ts";
import { decodeUtf8 } from "../src/wire/utf8.ts";
import { binaryPath } from "./support/binary.ts";
import { readValidatedEvents } from "./support/events.ts";
import { fuzzSeeds, hostileStream, opening, SETTINGS } from "./support/hostile-lines.ts";
import { picker } from "./support/jsonrpc-fuzz.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { memorySink } from "./support/memory-sink.ts";
import { FIXTURES, cleanEnv, tempDir } from "./support/proxy-process.ts";

const STREAMS = Number(process.env.FUZZ_STREAMS ?? 4);
const STREAM_LINES = 40;
const encoder = new TextEncoder();

/** The bytes one side has received and not yet checked, and a way to wait for more. */
class Received {
  private chunks: Buffer[] = [];
  /** Bytes received and not yet taken. */
  length = 0;
  private wake: (() => void) | undefined;
  push(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk));
    this.length += chunk.length;
    this.wake?.();
  }
  /** The next `count` bytes (fewer when fewer came), taken. */
  take(count: number): Buffer {
    const joined = Buffer.concat(this.chunks);
    const taken = joined.subarray(0, count);
    this.chunks = [joined.subarray(taken.length)];
    this.length -= taken.length;
    return taken;
  }
  /** Resolves once `length` bytes wait, or after `ms` (the caller then compares what came). */
  async until(length: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.length < length && Date.now() < deadline)
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 20);
      });
  }
}

/** The session engine reading every line with a full parse: what the proxy must forward and emit. */
function reference(env: Record<string, string>) {
  const loaded = loadConfig({ BATON_EVENT_SINK: "file:/dev/null", ...env });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const logger = createMemoryLogger();
  const events: BatonEvent[] = [];
  const hub = createTelemetryHub({ config: loaded.config, logger, sinks: [memorySink(events)] });
  let clock = 0;
  const engine = createSessionEngine({ config: loaded.config, logger, now: () => clock++, telemetry: hub });
  const bytesOf = (actions: WireAction[], to: "client" | "server"): Uint8Array[] =>
    actions
      .filter((action) => action.to === to)
      .map((action) => ("bytes" in action ? action.bytes : encoder.encode(`${JSON.stringify(action.message)}\n`)));
  return {
    events,
    /** The bytes each side gets for `raw` (one line with its newline) from `side`. */
    line(side: "client" | "server", raw: Uint8Array) {
      const line = classifyText(decodeUtf8(raw.subarray(0, raw.length - 1)));
      const actions = side === "client" ? engine.fromClient(raw, line) : engine.fromServer(raw, line);
      return { server: bytesOf(actions, "server"), client: bytesOf(actions, "client") };
    },
    async end(reason: string): Promise<Uint8Array[]> {
      const out = bytesOf(engine.failPending("proxy_shutdown", reason), "client");
      engine.close();
      hub.settle();
      await hub.shutdown(1_000);
      return out;
    },
  };
}

const RawJson = JSON as unknown as { rawJSON(text: string): unknown };

/** An event's JSON text without what differs between two runs of one session (ids, times, durations, the session); numbers as written. */
function comparable(line: string): string {
  const event = JSON.parse(line, (_key, value, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined ? RawJson.rawJSON(context.source) : value,
  ) as Record<string, unknown>;
  const { event_id, session_id, captured_at, sequence_number, ...rest } = event;
  void [event_id, session_id, captured_at, sequence_number];
  return JSON.stringify(rest, (key, value) => (key === "duration_ms" ? 0 : value));
}

async function run(seed: number): Promise<{ lines: number; streams: number }> {
  const pick = picker(seed * 104729);
  const env = pick.one(SETTINGS);
  const dir = tempDir();
  const eventsPath = join(dir, "events.jsonl");
  const toServer = new Received();
  const toClient = new Received();
  const binary = await binaryPath();
  let socket!: Socket;
  const listener = createServer();
  const connected = new Promise<void>((resolve) =>
    listener.once("connection", (s: Socket) => {
      socket = s;
      s.on("data", (chunk: Buffer) => toServer.push(chunk));
      listener.close();
      resolve();
    }),
  );
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  const proc = Bun.spawn([binary, "--", process.execPath, join(FIXTURES, "socket-relay-server.ts"), String(port)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
    env: cleanEnv({ ...env, BATON_EVENT_SINK: `file://${eventsPath}` }),
  });
  void (async () => {
    for await (const chunk of proc.stdout) toClient.push(chunk);
  })();
  await connected;
  const model = reference(env);
  const steps = [...opening(pick)];
  for (let s = 0; s < STREAMS; s++) steps.push(...hostileStream(pick, STREAM_LINES, false));
  // The wire's lines: a newline in a generated line (JSON whitespace, or a raw one in a broken string) ends one.
  let wire: ["client" | "server", Uint8Array][] = [];
  for (const [side, body] of steps) {
    const bytes = Buffer.concat([body, Buffer.from("\n")]);
    for (let from = 0, nl = bytes.indexOf(0x0a); nl >= 0; from = nl + 1, nl = bytes.indexOf(0x0a, from))
      wire.push([side, bytes.subarray(from, nl + 1)]);
  }
  if (process.env.FUZZ_REPLAY !== undefined)
    wire = readFileSync(process.env.FUZZ_REPLAY, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const [side, base64] = JSON.parse(line) as ["client" | "server", string];
        return [side, new Uint8Array(Buffer.from(base64, "base64"))];
      });
  const check = (to: "client" | "server", want: Uint8Array[], after: string): void => {
    const expected = Buffer.concat(want);
    const got = (to === "server" ? toServer : toClient).take(expected.length);
    if (got.equals(expected)) return;
    let at = 0;
    while (got[at] === expected[at]) at++;
    throw new Error(
      `seed ${seed}: the ${to} got other bytes after ${after}\n` +
        `got:      ${JSON.stringify(decodeUtf8(got.subarray(at, at + 300)))}\nexpected: ${JSON.stringify(decodeUtf8(expected.subarray(at, at + 300)))}`,
    );
  };
  // Consecutive lines of one side go in one write (the proxy reads them as one chunk, or a few).
  for (let i = 0; i < wire.length; ) {
    const side = (wire[i] as ["client" | "server", Uint8Array])[0];
    const group: Uint8Array[] = [];
    const want = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
    for (; i < wire.length && wire[i]?.[0] === side; i++) {
      const raw = (wire[i] as ["client" | "server", Uint8Array])[1];
      if (process.env.FUZZ_DUMP !== undefined)
        appendFileSync(process.env.FUZZ_DUMP, `${JSON.stringify([side, Buffer.from(raw).toString("base64")])}\n`);
      group.push(raw);
      const out = model.line(side, raw);
      want.server.push(...out.server);
      want.client.push(...out.client);
    }
    if (side === "client") {
      proc.stdin.write(Buffer.concat(group));
      await proc.stdin.flush();
    } else socket.write(Buffer.concat(group));
    const sizes = { client: Buffer.concat(want.client).length, server: Buffer.concat(want.server).length };
    await Promise.all([toServer.until(sizes.server, 3_000), toClient.until(sizes.client, 3_000)]);
    const after = `the ${side} lines ${JSON.stringify(group.map((raw) => decodeUtf8(raw))).slice(0, 600)}`;
    check("server", want.server, after);
    check("client", want.client, after);
  }
  // The client leaves: the calls still open fail as the proxy shuts down.
  proc.stdin.end();
  const last = await model.end("the proxy is shutting down (the client closed stdin) before the server answered");
  await new Promise<void>((resolve) => socket.on("end", resolve));
  socket.end();
  await proc.exited;
  check("client", last, "the client left");
  expect([toClient.length, toServer.length]).toEqual([0, 0]); // nothing more than that
  // No event at all (nothing captured was called): the file is never made.
  if (model.events.length === 0 && !existsSync(eventsPath)) return { lines: wire.length, streams: STREAMS };
  readValidatedEvents(eventsPath);
  // The file's text, not its parse: JSON.parse would change the numbers events keep as written.
  const got = readFileSync(eventsPath, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map(comparable);
  const want = model.events.map((event) => comparable(JSON.stringify(event)));
  for (let i = 0; i < Math.max(got.length, want.length); i++)
    if (got[i] !== want[i])
      throw new Error(
        `seed ${seed} (${JSON.stringify(env)}): event ${i} differs\nbinary:    ${got[i]?.slice(0, 1500)}\nreference: ${want[i]?.slice(0, 1500)}`,
      );
  return { lines: wire.length, streams: STREAMS };
}

describe("hostile sessions through the compiled proxy", () => {
  test.each(fuzzSeeds([1, 2]))(
    "seed %d: each line's bytes as the full-parse engine forwards them, the same events",
    async (seed) => {
      const { lines } = await run(seed);
      expect(lines).toBeGreaterThan(STREAMS * STREAM_LINES);
    },
    Number(process.env.FUZZ_TIMEOUT ?? 120_000),
  );
});
