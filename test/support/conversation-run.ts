// Plays a generated conversation (conversation-model.ts) through the compiled stdio proxy, or with no proxy at all, the test being both the client (the proxy's stdin/stdout) and the server (over socket-relay-server.ts), and checks what arrived against the model.

import { expect } from "bun:test";
import { existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { INSTRUCTIONS_SUFFIX } from "../../src/proxy/injected-tools.ts";
import { binaryPath } from "./binary.ts";
import { checkCallPairs, readValidatedEvents } from "./events.ts";
import { picker, type Pick } from "./jsonrpc-fuzz.ts";
import {
  INJECTED_ID_PREFIX,
  type ModelCall,
  UNREAD,
  type Expected,
  type ReportTotals,
  type Scenario,
} from "./conversation-model.ts";
import { cleanEnv, FIXTURES, tempDir } from "./proxy-process.ts";

const NEWLINE = 0x0a;
const INTENT = ["user_goal", "expected_result"];
const OURS = ["baton_annotate", "baton_session_report"];
/** Lines past this are never parsed here (the model never makes proxy answers this long). */
const PARSE_LIMIT = 1024 * 1024;

/** Splits a byte stream into lines (Buffers, newline cut off). */
function lineSplitter() {
  const lines: Buffer[] = [];
  let partial: Buffer[] = [];
  return {
    lines,
    push(chunk: Uint8Array): void {
      let start = 0;
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
        partial.push(Buffer.from(buf.subarray(start, nl)));
        lines.push(Buffer.concat(partial));
        partial = [];
        start = nl + 1;
      }
      if (start < buf.length) partial.push(Buffer.from(buf.subarray(start)));
    },
    rest: (): number => partial.reduce((n, p) => n + p.length, 0),
  };
}

async function until(done: () => boolean, what: string, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(1);
  }
}

/** A line the proxy wrote of its own: an answer to a request it answers itself (ids `"inj-…"`) or one it owes at the end. */
function proxyAnswer(line: Buffer): Record<string, any> | undefined {
  if (line.length > PARSE_LIMIT) return undefined;
  try {
    const m = JSON.parse(line.toString("utf8"));
    if (
      m &&
      typeof m === "object" &&
      !Array.isArray(m) &&
      !("method" in m) &&
      typeof m.id === "string" &&
      m.id.startsWith(INJECTED_ID_PREFIX)
    )
      return m;
  } catch {
    // not JSON: a forwarded line
  }
  return undefined;
}

export interface ConversationRun {
  readonly toServer: Buffer[];
  /** The client's lines that the server wrote (the proxy's own answers taken out). */
  readonly toClient: Buffer[];
  /** The proxy's own answers, in order. */
  readonly answers: Record<string, any>[];
  /** Lines after the script's end: the answers the proxy owed at exit. */
  readonly tail: Buffer[];
  readonly events: Record<string, any>[];
  readonly reports: { text: string; expected: ReportTotals }[];
  readonly exitCode: number;
  readonly stderr: string;
}

/** Runs `scenario` through the proxy (`proxy: true`) or straight into the relay (no proxy: the reference). */
export async function runConversation(
  scenario: Scenario,
  proxy: boolean,
  env: Record<string, string> = {},
): Promise<ConversationRun> {
  const dir = tempDir("baton-model-");
  const eventsFile = join(dir, "events.jsonl");
  const fromProxyToServer = lineSplitter();
  let socket: Socket | undefined;
  let serverEnded = false;
  // Half-open: the server still answers after the client's EOF reached it.
  const listener = createServer({ allowHalfOpen: true }, (s) => {
    socket = s;
    s.on("data", (chunk: Buffer) => fromProxyToServer.push(chunk));
    s.on("end", () => {
      serverEnded = true;
    });
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  const relay = [process.execPath, join(FIXTURES, "socket-relay-server.ts"), String(port)];
  const proc = Bun.spawn(proxy ? [await binaryPath(), "--", ...relay] : relay, {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: cleanEnv({
      BATON_EVENT_SINK: `file://${eventsFile}`,
      ...(scenario.intentOff ? { BATON_INTENT_PARAM: "off" } : {}),
      ...env,
    }),
  });
  const toClient = lineSplitter();
  const reading = (async () => {
    for await (const chunk of proc.stdout) toClient.push(chunk);
  })();
  const stderr = new Response(proc.stderr).text();
  const forwarded: Buffer[] = [];
  const answers: Record<string, any>[] = [];
  let sorted = 0;
  /** Sorts newly arrived client lines into forwarded ones and the proxy's own answers. */
  const sort = (): void => {
    for (; sorted < toClient.lines.length; sorted++) {
      const line = toClient.lines[sorted] as Buffer;
      const own = proxy ? proxyAnswer(line) : undefined;
      if (own === undefined) forwarded.push(line);
      else answers.push(own);
    }
  };
  const reports: ConversationRun["reports"] = [];
  // How lines are cut into writes: seeded too, so a run can be repeated.
  const pick = picker(scenario.seed ^ 0x5eed);
  let exitCode = -1;
  try {
    await until(() => socket !== undefined, "the relay's connection");
    const server = socket as Socket;
    let clientSteps = 0;
    let serverSteps = 0;
    // Lines held back to go out together with the next ones of their side (several lines in one
    // read); written before any wait, so nothing waits on a held line.
    const held: Record<"client" | "server", string[]> = { client: [], server: [] };
    const writeSide = async (side: "client" | "server", text: string): Promise<void> => {
      const bytes = Buffer.from(text);
      if (side === "server") await writePieces(bytes, pick, async (piece) => void server.write(piece));
      else
        await writePieces(bytes, pick, async (piece) => {
          proc.stdin.write(piece);
          await proc.stdin.flush();
        });
    };
    const flush = async (): Promise<void> => {
      for (const side of ["client", "server"] as const) {
        if (held[side].length === 0) continue;
        const text = held[side].join("");
        held[side] = [];
        await writeSide(side, text);
      }
    };
    const wait = async (done: () => boolean, what: string): Promise<void> => {
      if (done()) return;
      await flush();
      await until(done, what);
    };
    for (const step of scenario.steps) {
      if (step.afterEof) continue;
      if (step.from === "server") {
        // Without the proxy the server gets every client line, ours included: count those instead.
        const need = proxy ? step.after : clientStepsBefore(scenario, step.after);
        await wait(
          () => fromProxyToServer.lines.length >= need,
          `server input ${need} before: ${step.text.slice(0, 200)}`,
        );
        held.server.push(`${step.text}\n`);
        if (!pick.chance(0.4)) await flush();
        serverSteps++;
        continue;
      }
      await wait(
        () => (sort(), forwarded.length >= step.after),
        `client input ${step.after} before: ${step.text.slice(0, 200)}`,
      );
      const settle = step.settle;
      if (proxy && settle !== undefined) {
        await flush();
        await until(
          () => (
            sort(),
            fromProxyToServer.lines.length >= settle.server &&
              forwarded.length >= settle.client &&
              answers.length >= settle.answers
          ),
          "a settled state before a report call",
        );
      }
      held.client.push(`${step.text}\n`);
      if (step.report !== undefined || !pick.chance(0.4)) await flush();
      clientSteps++;
      if (proxy && step.report !== undefined) {
        await until(() => (sort(), answers.length >= (settle?.answers ?? 0) + 1), "the report's answer");
        const answer = answers[answers.length - 1] as Record<string, any>;
        reports.push({
          text: String(answer.result?.content?.[0]?.text ?? JSON.stringify(answer)),
          expected: step.report,
        });
      }
    }
    await flush();
    // Everything the script made must arrive before it ends.
    const wantServer = proxy ? scenario.toServer.length : clientSteps;
    const late = scenario.steps.filter((step) => step.afterEof);
    const wantClient = proxy ? scenario.toClient.length - late.length : serverSteps;
    const wantAnswers = proxy ? injectedCalls(scenario) : 0;
    await until(
      () => (
        sort(),
        fromProxyToServer.lines.length >= wantServer && forwarded.length >= wantClient && answers.length >= wantAnswers
      ),
      `every line (server ${fromProxyToServer.lines.length}/${wantServer}, client ${forwarded.length}/${wantClient}, answers ${answers.length}/${wantAnswers})`,
    );
    sort();
    const before = toClient.lines.length;
    const forwardedBefore = forwarded.slice(0, wantClient);
    if (scenario.end === "eof") {
      proc.stdin.end();
      await until(() => serverEnded, "the server's stdin to close");
      for (const step of late) server.write(`${step.text}\n`);
      server.end();
    } else {
      // The server dies with the client still there (its last words written just before, not waited
      // for): the proxy must pass them on, then exit on its own.
      for (const step of late) server.write(`${step.text}\n`);
      if (late.length > 0) server.end();
      else server.destroy();
      await proc.exited;
      try {
        proc.stdin.end();
      } catch {
        // the pipe is already gone
      }
    }
    exitCode = await proc.exited;
    await reading;
    sort();
    // After the end: the server's late lines first (written before it went), then what the proxy owed.
    const after = toClient.lines.slice(before);
    const tail = after.slice(late.length);
    const serverLines = [...fromProxyToServer.lines];
    return {
      toServer: serverLines,
      toClient: [...forwardedBefore, ...after.slice(0, late.length)],
      answers,
      tail,
      events: proxy && existsSync(eventsFile) ? readValidatedEvents(eventsFile) : [],
      reports,
      exitCode,
      stderr: await stderr,
    };
  } finally {
    proc.kill();
    socket?.destroy();
    listener.close();
  }
}

/** Writes `bytes` whole, or (one line in four) in two or three pieces cut anywhere, a macrotask apart, so reads end mid-line and mid-character. */
async function writePieces(bytes: Buffer, pick: Pick, write: (piece: Buffer) => Promise<void>): Promise<void> {
  if (bytes.length < 2 || !pick.chance(0.25)) return write(bytes);
  const cuts = [1 + pick.int(bytes.length - 1), 1 + pick.int(bytes.length - 1)].sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= at) continue;
    await write(bytes.subarray(at, cut));
    at = cut;
    await Bun.sleep(0);
  }
}

/** Calls of our tools in the script (each answered by the proxy). */
export function injectedCalls(scenario: Scenario): number {
  return scenario.steps
    .filter((s) => s.from === "client" && !s.text.includes('"notifications/cancelled"'))
    .reduce((n, s) => n + s.text.split(`"id":"${INJECTED_ID_PREFIX}`).length - 1, 0);
}

/** A line the proxy answers itself and never forwards (a batch loses only those members). */
const isInjected = (text: string): boolean =>
  text.startsWith("{") && text.includes(`"id":"${INJECTED_ID_PREFIX}`) && !text.includes('"notifications/cancelled"');

/** How many client lines a server without the proxy has got once `forwarded` of them would have passed the proxy. */
function clientStepsBefore(scenario: Scenario, forwarded: number): number {
  let all = 0;
  let passed = 0;
  for (const s of scenario.steps) {
    if (s.from !== "client") continue;
    if (passed >= forwarded) break;
    all++;
    if (!isInjected(s.text)) passed++;
  }
  return all;
}

const parse = (text: string | Buffer): any => JSON.parse(typeof text === "string" ? text : text.toString("utf8"));

/** The line the peer got against what its sender wrote, as the README's table allows. */
export function checkLine(got: Buffer, expected: Expected, intentOff: boolean, where: string): void {
  if (expected.check === "bytes") {
    if (!got.equals(Buffer.from(expected.text))) {
      expect(`${where}: ${got.toString("utf8").slice(0, 600)}`).toBe(`${where}: ${expected.text.slice(0, 600)}`);
    }
    return;
  }
  const actual = parse(got);
  const sent = parse(expected.text);
  if (expected.check === "cut") {
    expect(actual, where).toEqual(sent);
    return;
  }
  if (expected.check === "handshake") {
    const own = sent.result.instructions;
    const want =
      typeof own === "string" && own.trim() !== "" ? `${own.trimEnd()}\n\n${INSTRUCTIONS_SUFFIX}` : INSTRUCTIONS_SUFFIX;
    // A server with no tools gets the capability (the proxy then answers tools/list).
    const capabilities = { tools: {}, ...sent.result.capabilities };
    expect(actual, where).toEqual({ ...sent, result: { ...sent.result, capabilities, instructions: want } });
    return;
  }
  // A tools/list page.
  const last = expected.check === "last-page";
  const tools = actual.result.tools as Record<string, any>[];
  const theirs = sent.result.tools as Record<string, any>[];
  expect(
    tools.slice(theirs.length).map((t) => t.name),
    where,
  ).toEqual(last ? OURS : []);
  const withIntent = theirs.map((t) =>
    intentOff
      ? t
      : {
          ...t,
          inputSchema: {
            ...t.inputSchema,
            properties: {
              ...t.inputSchema.properties,
              ...Object.fromEntries(INTENT.map((k) => [k, tools[0]?.inputSchema.properties[k]])),
            },
          },
        },
  );
  for (const t of tools.slice(0, theirs.length))
    if (!intentOff) for (const k of INTENT) expect(t.inputSchema.properties[k]?.type, `${where}: ${k}`).toBe("string");
  expect({ ...actual, result: { ...actual.result, tools: tools.slice(0, theirs.length) } }, where).toEqual({
    ...sent,
    result: { ...sent.result, tools: withIntent },
  });
}

/** The event names of each tracked kind of request. */
const EVENT_PREFIX: Record<ModelCall["method"], string> = {
  "tools/call": "tool_call",
  "resources/read": "resource_read",
  "resources/list": "resource_list",
  "prompts/get": "prompt_get",
  "prompts/list": "prompt_list",
};
const STARTS = new Set(Object.values(EVENT_PREFIX).map((p) => `${p}_start`));

/** What a start or outcome event is about: the tool, the uri, the prompt ("" for a list). */
function subjectOf(event: Record<string, any>): string {
  return event.payload.tool_name ?? event.payload.uri ?? event.payload.name ?? "";
}

/** `got` rearranged to the model's order where a line matches (the rest left in their order, for the comparison to show). */
export function inModelOrder(got: readonly Buffer[], expected: readonly Expected[]): Buffer[] {
  const left = [...got];
  const placed = expected.map((e) => {
    const at = left.findIndex((line) =>
      e.check === "cut" ? Bun.deepEquals(parse(line), parse(e.text)) : line.equals(Buffer.from(e.text)),
    );
    return at === -1 ? undefined : left.splice(at, 1)[0];
  });
  return placed.map((line) => line ?? (left.shift() as Buffer));
}

/** `starts` rearranged to the model's calls: each call's the first left with its subject and arguments. */
function startsInModelOrder(
  starts: readonly Record<string, any>[],
  calls: readonly ModelCall[],
): Record<string, any>[] {
  const left = [...starts];
  const placed = calls.map((c) => {
    const same = (e: Record<string, any>): boolean =>
      `${e.event_type} ${subjectOf(e)}` === `${EVENT_PREFIX[c.method]}_start ${c.tool}`;
    // Long arguments are cut in events: their `n` tells the calls apart.
    const n = (c.params as { n?: unknown } | undefined)?.n;
    let at = left.findIndex(
      (e) =>
        same(e) &&
        (c.method !== "tools/call" ||
          Bun.deepEquals(e.payload.params, c.params) ||
          (n !== undefined && e.runtime_meta["baton/truncated"] !== undefined && e.payload.params?.n === n)),
    );
    if (at === -1) at = left.findIndex(same);
    return at === -1 ? undefined : left.splice(at, 1)[0];
  });
  return placed.map((e) => e ?? (left.shift() as Record<string, any>));
}

/** Every invariant of one run through the proxy against the model. */
/**
 * `posted`: the server's side is POSTs, each sent at once, which may reach the upstream in any
 * order (README, --url): every line must arrive exactly once, in whatever order.
 */
export function checkRun(
  scenario: Scenario,
  run: ConversationRun,
  posted = false,
  owedAtEnd: readonly string[] = scenario.owedAtEnd,
  concurrent = false,
): void {
  const label = `seed ${scenario.seed} (${scenario.era}${scenario.intentOff ? ", intent off" : ""}, ${scenario.end})`;
  // Each direction: exactly the model's lines, in order, nothing more.
  expect(run.toServer.length, `${label}: lines to the server`).toBe(scenario.toServer.length);
  const toServer = posted ? inModelOrder(run.toServer, scenario.toServer) : run.toServer;
  scenario.toServer.forEach((e, i) =>
    checkLine(toServer[i] as Buffer, e, scenario.intentOff, `${label}: to server #${i}`),
  );
  scenario.toClient.forEach((e, i) =>
    checkLine(run.toClient[i] as Buffer, e, scenario.intentOff, `${label}: to client #${i}`),
  );
  // The proxy's own answers: one per call of our tools, none an error.
  expect(run.answers.length, `${label}: answers to our tools' calls`).toBe(injectedCalls(scenario));
  for (const a of run.answers) {
    expect(a.error, `${label}: ${JSON.stringify(a).slice(0, 300)}`).toBeUndefined();
    // A stateless-era result says it is complete (MCP-NOTES §1.3).
    if (scenario.era === "2026-07-28")
      expect(a.result.resultType, `${label}: ${JSON.stringify(a).slice(0, 300)}`).toBe("complete");
  }
  // After the script: one error for each request still owed, nothing else.
  const tailIds = run.tail.map((l) => {
    const m = parse(l);
    expect(m.error?.code, `${label}: the tail ${l.toString().slice(0, 300)}`).toBe(-32603);
    return JSON.stringify(m.id);
  });
  expect(tailIds.sort(), `${label}: requests answered at exit`).toEqual([...owedAtEnd].sort());
  expect(run.exitCode, `${label}: exit status`).toBe(0);
  expect(run.stderr, label).not.toContain("internal:");

  // Events: one start per call (and resource or prompt request) in order, one outcome each of the model's kind.
  checkCallPairs(run.events);
  const starts = run.events.filter((e) => STARTS.has(e.event_type));
  // `concurrent` (serve): each call is its own HTTP request, started in whatever order they reach the proxy.
  if (concurrent) starts.splice(0, starts.length, ...startsInModelOrder(starts, scenario.calls));
  expect(
    starts.map((e) => `${e.event_type} ${subjectOf(e)}`),
    `${label}: the calls started`,
  ).toEqual(scenario.calls.map((c) => `${EVENT_PREFIX[c.method]}_start ${c.tool}`));
  const outcomes = new Map<string, Record<string, any>[]>();
  for (const e of run.events)
    if (/_(end|error)$/.test(e.event_type)) {
      const id = e.runtime_meta["baton/call_id"];
      outcomes.set(id, [...(outcomes.get(id) ?? []), e]);
    }
  const exitTypes = scenario.end === "eof" ? ["upstream_exit", "proxy_shutdown"] : ["upstream_exit"];
  scenario.calls.forEach((call, i) => {
    const start = starts[i] as Record<string, any>;
    const where = `${label}: call #${i} (${call.method} ${call.tool}, ${call.outcome})`;
    // Long strings are cut in events (the privacy stage's size caps, marked in baton/truncated).
    if (call.method !== "tools/call") {
      // a resource or prompt start has no tool arguments to compare
    } else if (call.params === UNREAD) expect(Object.keys(start.payload.params), where).toEqual(["[truncated]"]);
    else if (JSON.stringify(call.params).length < 32_768) expect(start.payload.params, where).toEqual(call.params);
    else expect(start.runtime_meta["baton/truncated"], where).toBeDefined();
    if (call.method === "tools/call") {
      expect([start.payload.call_intent, start.payload.call_expected], `${where}: intent`).toEqual([
        call.intent,
        call.expected,
      ]);
      const fromParams = call.intent !== undefined || call.expected !== undefined ? "injected_param" : undefined;
      expect(start.payload.intent_source, `${where}: intent_source`).toBe(fromParams);
    }
    const ends = outcomes.get(start.runtime_meta["baton/call_id"]) ?? [];
    expect(ends.length, `${where}: outcome events`).toBe(1);
    const outcome = ends[0] as Record<string, any>;
    const prefix = EVENT_PREFIX[call.method];
    expect([`${prefix}_end`, `${prefix}_error`], where).toContain(outcome.event_type);
    expect(subjectOf(outcome), where).toBe(call.tool);
    const got = outcome.event_type.endsWith("_end") ? "end" : outcome.payload.error_type;
    // A cancellation that crossed the answer: whichever reached the proxy first.
    const crossed = call.alternative !== undefined && got === call.alternative.outcome && got !== call.outcome;
    if (call.outcome === "exit") expect(exitTypes, `${where}: ${got}`).toContain(got);
    else if (call.alternative !== undefined) expect([call.outcome, call.alternative.outcome], where).toContain(got);
    else expect(got, where).toBe(call.outcome);
    const detail =
      got !== "end"
        ? outcome.payload.error_body
        : call.method === "tools/call"
          ? outcome.payload.result
          : outcome.payload.count;
    const wanted = crossed ? call.alternative?.detail : call.detail;
    if (wanted !== undefined) expect(detail, where).toEqual(wanted);
    const rounds = call.inputRounds === undefined ? undefined : call.inputRounds + 1;
    expect(outcome.runtime_meta["baton/rounds"], `${where}: rounds`).toBe(rounds);
  });
  expect(
    run.events.filter((e) => e.event_type === "annotation" && e.payload.intent_source === "baton_annotate").length,
    label,
  ).toBe(scenario.annotations);
  expect(
    run.events.filter((e) => e.event_type === "annotation" && e.payload.intent_source === "injected_param").length,
    label,
  ).toBe(scenario.goalAnnotation ? 1 : 0);
  expect(run.events.filter((e) => e.event_type === "surface_snapshot").length, `${label}: snapshots`).toBe(
    scenario.snapshots,
  );
  // The annotation made from the first goal comes just before that call's start.
  const goal = run.events.findIndex(
    (e) => e.event_type === "annotation" && e.payload.intent_source === "injected_param",
  );
  if (goal !== -1) {
    const next = run.events[goal + 1] as Record<string, any>;
    expect(next.event_type, `${label}: after the goal's annotation`).toBe("tool_call_start");
    expect(next.payload.call_intent, label).toBe(run.events[goal]?.payload.intent);
  }
  // The report at each point: its totals are the model's.
  for (const report of run.reports) {
    const { calls, errors, errorsMin, inFlight, annotations } = report.expected;
    const where = `${label}: report ${report.text.slice(0, 600)}`;
    const number = (name: string): number | undefined => {
      const found = new RegExp(`\\*\\*${name}:\\*\\* (\\d+)`).exec(report.text)?.[1];
      return found === undefined ? undefined : Number(found);
    };
    expect(number("Calls"), where).toBe(calls);
    const got = number("Errors") ?? -1;
    expect(got >= errorsMin && got <= errors, `${where}\nerrors ${got}, model ${errorsMin}..${errors}`).toBe(true);
    expect(number("In flight") ?? 0, where).toBe(inFlight);
    expect(number("Annotations"), where).toBe(annotations);
  }
}
