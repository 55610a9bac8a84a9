// Measures what inspection costs the pumps' thread per tool call (split, pass-through check, classify, engine in and out) in-process, and prints ONE JSON line. Not a test: never asserts.

import { loadConfig } from "../src/config.ts";
import { createSessionEngine } from "../src/engine/session-engine.ts";
import type { Logger } from "../src/log.ts";
import type { LazyDraft, TelemetryHub } from "../src/telemetry/telemetry-hub.ts";
import { LineSplitter, type Frame } from "../src/wire/framing.ts";
import { classifyLine, encodeUtf8 } from "../src/wire/jsonrpc.ts";

/** Calls per chunk, as a pipelining client and a fast server deliver them. */
const CALLS_PER_CHUNK = 100;
/** Distinct chunks cycled through (ids repeat only after every call was answered). */
const CHUNKS = 50;
const WARMUP_CALLS = 40_000;
const MEASURED_CALLS = 200_000;

/** A hub that takes every event and keeps none; `build` also builds drafts given as functions (what the background does). */
function discardingHub(build: boolean): TelemetryHub {
  let kept: unknown;
  return {
    openSession: () => ({
      sessionId: "bench",
      emit: (draft: LazyDraft) => {
        kept = build && typeof draft === "function" ? draft() : draft;
      },
      now: () => Date.now(),
      close: () => undefined,
    }),
    settle: () => void kept,
    dropped: 0,
    droppedBy: () => 0,
    needsTurn: false,
    shutdown: async () => undefined,
  };
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function lines(from: number, make: (id: number, i: number) => unknown): Uint8Array {
  let text = "";
  for (let i = 0; i < CALLS_PER_CHUNK; i++) text += `${JSON.stringify(make(from + i, i))}\n`;
  return encodeUtf8(text);
}

/** CPU µs per call (a request and its answer) of the hot path; with `build`, plus the drafts built later. */
export function measure(build: boolean): number {
  const loaded = loadConfig({ BATON_EVENT_SINK: "stderr:" });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const engine = createSessionEngine({
    config: loaded.config,
    logger: silent,
    now: () => performance.now(),
    telemetry: discardingHub(build),
  });
  const send = (side: "client" | "server", message: unknown) => {
    const raw = encodeUtf8(`${JSON.stringify(message)}\n`);
    const line = classifyLine(raw.subarray(0, raw.length - 1));
    return side === "client" ? engine.fromClient(raw, line) : engine.fromServer(raw, line);
  };
  send("client", { jsonrpc: "2.0", id: 0, method: "initialize", params: { clientInfo: { name: "bench" } } });
  send("server", { jsonrpc: "2.0", id: 0, result: { capabilities: { tools: {} }, serverInfo: { name: "fake" } } });
  const chunks = Array.from({ length: CHUNKS }, (_, k) => [
    lines(1 + k * CALLS_PER_CHUNK, (id, i) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "echo", arguments: { text: `b${i}` } },
    })),
    lines(1 + k * CALLS_PER_CHUNK, (id, i) => ({
      jsonrpc: "2.0",
      id,
      result: { content: [{ type: "text", text: `b${i}` }] },
    })),
  ]);
  const fromClient = new LineSplitter();
  const fromServer = new LineSplitter();
  const frames: Frame[] = [];
  let sink = 0;
  const round = (k: number): void => {
    const [requests, answers] = chunks[k % CHUNKS] as [Uint8Array, Uint8Array];
    fromClient.push(requests, frames);
    for (const frame of frames) {
      if (frame.kind !== "line") continue;
      if (engine.clientLinePassesUnchanged(frame.body)) sink++;
      sink += engine.fromClient(frame.raw, classifyLine(frame.body)).length;
    }
    frames.length = 0;
    fromServer.push(answers, frames);
    for (const frame of frames) {
      if (frame.kind !== "line") continue;
      if (engine.serverLinesPassUnchanged()) sink++;
      sink += engine.fromServer(frame.raw, classifyLine(frame.body), true).length;
    }
    frames.length = 0;
  };
  for (let k = 0; k < WARMUP_CALLS / CALLS_PER_CHUNK; k++) round(k);
  const before = process.cpuUsage();
  for (let k = 0; k < MEASURED_CALLS / CALLS_PER_CHUNK; k++) round(k);
  const used = process.cpuUsage(before);
  if (sink === 0) throw new Error("nothing was handled");
  return (used.user + used.system) / MEASURED_CALLS;
}

if (import.meta.main) {
  const hot = measure(false);
  const withDrafts = measure(true);
  console.log(
    JSON.stringify({
      calls: MEASURED_CALLS,
      hot_path_us_per_call: Number(hot.toFixed(2)),
      with_drafts_built_us_per_call: Number(withDrafts.toFixed(2)),
    }),
  );
}
