// Plays a generated conversation (conversation-model.ts) through `baton-proxy serve`: the test is an HTTP client POSTing each of the client's lines (answers read as JSON or SSE, the server's own messages also down a GET stream) and, behind the proxy, an in-process upstream that holds each POST until the script answers it (JSON, or an SSE stream whose events carry ids or not), with no `Mcp-Session-Id` (one event session: the client's group).

import { expect } from "bun:test";
import { type ConversationRun, checkRun, injectedCalls } from "./conversation-run.ts";
import { INJECTED_ID_PREFIX, type Scenario } from "./conversation-model.ts";
import { readValidatedEvents } from "./events.ts";
import { picker } from "./jsonrpc-fuzz.ts";
import { startServe } from "./serve-process.ts";
import { idKey, until } from "./conversation-url.ts";

const encoder = new TextEncoder();
/** Long enough for the drain's last writes to go out before its deadline (a tenth of it, at least one 50 ms poll). */
const DRAIN_MS = process.env.MODEL_SERVE_DRAIN_MS ?? "1000";
/** The ping the proxy sends before answering a call of its own tools (src/serve/session-probe.ts). */
const PROBE_ID = '"baton-proxy-session-probe"';

function requestKey(body: string): string | undefined {
  const parsed = JSON.parse(body);
  const members = Array.isArray(parsed) ? parsed : [parsed];
  // Our tools' calls (straight against the upstream, the reference run) are nobody's to answer.
  const request = members.find(
    (m) => m && typeof m === "object" && "method" in m && "id" in m && !String(m.id).startsWith(INJECTED_ID_PREFIX),
  );
  return request === undefined ? undefined : idKey(request.id);
}

function answerKey(text: string): string | undefined {
  const parsed = JSON.parse(text);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return first && typeof first === "object" && !("method" in first) && "id" in first ? idKey(first.id) : undefined;
}

/** A POST the proxy answers alone: one request of ours (a cancellation naming one is forwarded). */
const isLoneOwnCall = (text: string): boolean =>
  text.startsWith("{") && text.includes(`"id":"${INJECTED_ID_PREFIX}`) && !text.includes('"notifications/cancelled"');

/** The ids of the tools/call requests of a POST body. */
function toolCallIds(body: string): Set<string> {
  const parsed = JSON.parse(body);
  return new Set(
    (Array.isArray(parsed) ? parsed : [parsed])
      .filter((m) => m && typeof m === "object" && m.method === "tools/call" && "id" in m)
      .map((m) => idKey(m.id)),
  );
}

const isOwn = (m: unknown): m is Record<string, any> =>
  typeof m === "object" &&
  m !== null &&
  !Array.isArray(m) &&
  !("method" in m) &&
  typeof (m as { id?: unknown }).id === "string" &&
  ((m as { id: string }).id.startsWith(INJECTED_ID_PREFIX) || (m as { id: string }).id === "ghost");

/** The data of each complete SSE event in `text` (one `data:` line each here), and the rest. */
function sseEvents(text: string): { data: string[]; rest: string } {
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  const data = blocks.flatMap((b) =>
    b
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, "")),
  );
  return { data, rest };
}

/** What the metrics page counts, by series (`name{labels}` → value). */
export function metricValues(text: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      const at = line.lastIndexOf(" ");
      values.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  return values;
}

export interface ServeRun extends ConversationRun {
  /** `/metrics` once every line was delivered, before the drain. */
  readonly metricsBefore: string;
  /** Forwarded batches the proxy merged its own answers into. */
  readonly rebuilt: number;
  /** The tools/call requests answered before the drain, by the answer's outcome (ok, tool_error, error). */
  readonly answeredCalls: Record<string, number>;
}

export async function runConversationServe(scenario: Scenario, direct = false): Promise<ServeRun> {
  const pick = picker(scenario.seed ^ 0x5e7);
  const posts: string[] = [];
  const held = new Map<string, ((line: string) => void)[]>();
  const openStreams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const streamOf = new Map<string, ReadableStreamDefaultController<Uint8Array>>();
  const cancelledKeys = new Set<string>();
  const letGo = new Set<ReadableStreamDefaultController<Uint8Array>>();
  /** Event ids on the streams that carry them (the upstream could replay them). */
  const eventIds = new Map<ReadableStreamDefaultController<Uint8Array>, number>();
  const frame = (stream: ReadableStreamDefaultController<Uint8Array>, line: string): Uint8Array => {
    headSent.add(postOf.get(stream) ?? "");
    const id = eventIds.get(stream);
    if (id !== undefined) eventIds.set(stream, id + 1);
    return encoder.encode(`${id === undefined ? "" : `id: ${id}\n`}event: message\ndata: ${line}\n\n`);
  };
  let getStream: ReadableStreamDefaultController<Uint8Array> | undefined;
  let arrived = 0;
  /** POSTs (the client's `x-model-post` numbers) whose answer's head the upstream has sent. */
  const headSent = new Set<string>();
  const postOf = new Map<ReadableStreamDefaultController<Uint8Array>, string>();
  /** How the upstream answers each request id (for a failure's message). */
  const shapes = new Map<string, string>();
  const upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(request) {
      if (request.method === "GET") {
        return new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              getStream = controller;
              if (pick.chance(0.5)) eventIds.set(controller, 1);
              controller.enqueue(encoder.encode(": open\n\n"));
            },
            cancel() {
              getStream = undefined;
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      if (request.method !== "POST") return new Response(null, { status: 405 });
      arrived++;
      const body = await request.text();
      const key = requestKey(body);
      const post = request.headers.get("x-model-post") ?? "";
      if (key === PROBE_ID) return Response.json({ jsonrpc: "2.0", id: "baton-proxy-session-probe", result: {} });
      posts.push(body);
      if (key === undefined) return new Response(null, { status: 202 });
      const hold = (resolve: (line: string) => void): void => {
        const queue = held.get(key) ?? [];
        queue.push(resolve);
        held.set(key, queue);
      };
      if (pick.chance(0.5)) {
        shapes.set(key, "json");
        const line = await new Promise<string>(hold);
        headSent.add(post);
        return new Response(line, { headers: { "content-type": "application/json" } });
      }
      let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
      const events = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
          openStreams.add(controller);
          if (pick.chance(0.5)) eventIds.set(controller, 1);
          shapes.set(key, eventIds.has(controller) ? "sse-ids" : "sse");
          postOf.set(controller, post);
          // Bun sends the head with the first bytes: some streams open with a comment at once.
          if (pick.chance(0.5)) {
            controller.enqueue(encoder.encode(": open\n\n"));
            headSent.add(post);
          }
          if (cancelledKeys.has(key)) letGo.add(controller);
          streamOf.set(key, controller);
        },
        cancel() {
          if (stream !== undefined) openStreams.delete(stream);
        },
      });
      hold((line) => {
        if (stream === undefined || !openStreams.delete(stream)) return;
        stream.enqueue(frame(stream, line));
        stream.close();
      });
      return new Response(events, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const upstreamUrl = `http://127.0.0.1:${upstream.port}/mcp`;
  const serve = direct
    ? undefined
    : await startServe(["--upstream", upstreamUrl, "--drain-timeout-ms", DRAIN_MS], {
        ...(scenario.intentOff ? { BATON_INTENT_PARAM: "off" } : {}),
      });
  const target = serve?.url ?? upstreamUrl;

  /** What the client got: forwarded messages (server lines), the proxy's own answers, rebuilt batches. */
  const forwarded: Buffer[] = [];
  const answers: Record<string, any>[] = [];
  /** Forwarded batches the proxy merged its own answers into: compared as JSON, not bytes. */
  let rebuilt = 0;
  /** Each tools/call the client got an answer to on its POST, by outcome (what `baton_tool_calls_total` counts). */
  const toolAnswers = new Map<string, number>();
  const receive = (text: string, calls?: Set<string>): void => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      forwarded.push(Buffer.from(text));
      return;
    }
    for (const m of Array.isArray(parsed) ? parsed : [parsed])
      if (calls !== undefined && m && typeof m === "object" && !("method" in m) && calls.delete(idKey(m.id))) {
        const outcome = m.error !== undefined ? "error" : m.result?.isError === true ? "tool_error" : "ok";
        toolAnswers.set(outcome, (toolAnswers.get(outcome) ?? 0) + 1);
      }
    if (isOwn(parsed)) {
      answers.push(parsed);
      return;
    }
    if (Array.isArray(parsed) && parsed.some(isOwn)) {
      for (const m of parsed) if (isOwn(m)) answers.push(m);
      const rest = parsed.filter((m) => !isOwn(m));
      if (rest.length > 0) {
        rebuilt++;
        forwarded.push(Buffer.from(JSON.stringify(rest)));
      }
      return;
    }
    forwarded.push(Buffer.from(text));
  };
  const reading: Promise<void>[] = [];
  const readAnswer = async (response: Response, calls?: Set<string>): Promise<void> => {
    const type = response.headers.get("content-type") ?? "";
    if (type.startsWith("text/event-stream")) {
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const chunk of response.body as ReadableStream<Uint8Array>) {
        const { data, rest } = sseEvents(buffer + decoder.decode(chunk, { stream: true }));
        buffer = rest;
        for (const d of data) receive(d, calls);
      }
      return;
    }
    const text = await response.text();
    if (text !== "") receive(text, calls);
  };
  const headersFor = (text: string): Record<string, string> => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": scenario.era,
    };
    const m = JSON.parse(text);
    if (scenario.era === "2026-07-28" && !Array.isArray(m) && typeof m.method === "string") {
      headers["mcp-method"] = m.method;
      const name = m.params?.name ?? m.params?.uri;
      if (typeof name === "string") headers["mcp-name"] = name;
    }
    return headers;
  };
  const getAbort = new AbortController();
  const reports: ConversationRun["reports"] = [];
  /** POSTs whose answer broke (a reset instead of an answer or a clean end). */
  const broken: string[] = [];
  let serverSteps = 0;
  let postCount = 0;
  let heldOwn = 0;
  /** POSTs that reach the upstream (all but lone calls of our tools, which the proxy answers itself). */
  let forwardedPosts = 0;
  let settledPosts = 0;
  const postState = new Map<string, string>();
  try {
    // The GET stream: the server's messages sent outside any POST, opened once the handshake is
    // answered (as SDK clients do; before it there is no client group for it to join).
    let getOpen = false;
    const openGet = async (): Promise<void> => {
      getOpen = true;
      reading.push(
        fetch(target, {
          headers: { accept: "text/event-stream", "mcp-protocol-version": scenario.era },
          signal: getAbort.signal,
        })
          .then((response) => readAnswer(response))
          .catch(() => undefined),
      );
      await until(() => getStream !== undefined, "the GET stream");
    };
    for (const step of scenario.steps) {
      if (!getOpen && forwarded.length > 0) await openGet();
      if (step.from === "server") {
        await until(() => posts.length >= step.after, `POST ${step.after} before: ${step.text.slice(0, 200)}`);
        await until(
          () => forwarded.length >= serverSteps,
          () =>
            `client message ${serverSteps}; got ${forwarded.length}: ${forwarded
              .slice(-2)
              .map((l) => l.toString().slice(0, 200))
              .join(" | ")}`,
        );
        const key = answerKey(step.text);
        if (key !== undefined && !key.startsWith('"ghost-'))
          await until(() => (held.get(key)?.length ?? 0) > 0, `the POST of ${key}`);
        const queue = key === undefined ? undefined : held.get(key);
        const resolve = queue?.shift();
        if (queue !== undefined && queue.length === 0) held.delete(key as string);
        if (resolve !== undefined) resolve(step.text);
        else if ([...openStreams].some((c) => !letGo.has(c)) && pick.chance(0.5)) {
          const stream = pick.one([...openStreams].filter((c) => !letGo.has(c)));
          stream.enqueue(frame(stream, step.text));
        } else {
          const stream = getStream as ReadableStreamDefaultController<Uint8Array>;
          stream.enqueue(frame(stream, step.text));
        }
        serverSteps++;
        continue;
      }
      await until(() => forwarded.length >= step.after, `client message ${step.after}`);
      // Straight against the upstream nobody answers our tools' calls: no settled report.
      const settle = direct ? undefined : step.settle;
      if (settle !== undefined)
        await until(
          () =>
            posts.length >= settle.server &&
            forwarded.length >= settle.client &&
            answers.length + heldOwn >= settle.answers,
          () =>
            `a settled state before a report call (POSTs ${posts.length}/${settle.server}, client ${forwarded.length}/${settle.client}, answers ${answers.length}/${settle.answers})`,
        );
      const cancelled = /"method":"notifications\/cancelled","params":\{"requestId":("[^"]*"|\d+)/.exec(step.text)?.[1];
      // A client cancels a request it sent a while ago: over HTTP its POST could otherwise still be on
      // its way when the cancellation (another request) reaches the proxy, which then has nothing to end.
      if (cancelled !== undefined) await until(() => posts.length >= forwardedPosts, "the POSTs before a cancellation");
      if (cancelled !== undefined) cancelledKeys.add(cancelled);
      const gone = cancelled === undefined ? undefined : streamOf.get(cancelled);
      if (gone !== undefined) letGo.add(gone);
      const before = answers.length;
      const post = String(postCount++);
      if (direct || !isLoneOwnCall(step.text)) forwardedPosts++;
      // Our answers to a batch's calls of our tools travel with the upstream's answer to the batch
      // (README: merged into its JSON, or ahead of its SSE events), so they wait for it.
      const own = step.text.startsWith("[") ? step.text.split(`"id":"${INJECTED_ID_PREFIX}`).length - 1 : 0;
      heldOwn += own;
      reading.push(
        fetch(target, { method: "POST", headers: { ...headersFor(step.text), "x-model-post": post }, body: step.text })
          .then((response) => {
            postState.set(post, `${response.status} ${response.headers.get("content-type")}`);
            return readAnswer(response, toolCallIds(step.text));
          })
          .finally(() => {
            settledPosts++;
            heldOwn -= own;
          })
          .catch((error) => {
            const key = /"id":("[^"]*"|\d+)/.exec(step.text)?.[1] ?? "";
            // Every POST gets an answer or a clean end, even one still waiting for its upstream's head
            // at the drain's deadline (the proxy answers its requests itself then).
            broken.push(
              `${shapes.get(key)} ${cancelledKeys.has(key) ? "cancelled " : ""}${step.text.slice(0, 100)}: ${String(error).slice(0, 40)}`,
            );
          }),
      );
      if (step.report !== undefined && !direct) {
        await until(() => answers.length > before, "the report's answer");
        const answer = answers[answers.length - 1] as Record<string, any>;
        reports.push({
          text: String(answer.result?.content?.[0]?.text ?? JSON.stringify(answer)),
          expected: step.report,
        });
      }
    }
    const wantAnswers = direct ? 0 : injectedCalls(scenario);
    const wantPosts = direct ? scenario.steps.filter((s) => s.from === "client").length : scenario.toServer.length;
    await until(
      () =>
        posts.length >= wantPosts &&
        forwarded.length >= scenario.toClient.length &&
        answers.length + heldOwn >= wantAnswers,
      () =>
        `every line (POSTs ${posts.length}/${wantPosts}, client ${forwarded.length}/${scenario.toClient.length}, answers ${answers.length}/${wantAnswers}, ${heldOwn} held with their batch's answer, held upstream ${[...held.keys()].join(",")}); POSTs missing: ${scenario.toServer
          .filter((e) => !posts.some((p) => p === e.text || Bun.deepEquals(JSON.parse(p), JSON.parse(e.text))))
          .map((e) => e.text.slice(0, 300))
          .join(
            " | ",
          )}; POST heads ${arrived}, client POSTs ${postCount}, settled ${settledPosts}, last ${postState.get(String(postCount - 1))}; POSTs not in the model: ${posts
          .filter(
            (p) => !scenario.toServer.some((e) => p === e.text || Bun.deepEquals(JSON.parse(p), JSON.parse(e.text))),
          )
          .map((p) => p.slice(0, 300))
          .join(" | ")}`,
    );
    const metricsBefore = serve === undefined ? "" : await (await fetch(`${serve.adminUrl}/metrics`)).text();
    const answeredCalls = Object.fromEntries(toolAnswers);
    const delivered = forwarded.length;
    // The end: the drain answers every request still owed (-32603) and ends its call.
    if (serve !== undefined) serve.process.kill("SIGTERM");
    else for (const queue of held.values()) for (const r of queue) r('{"jsonrpc":"2.0","id":null,"result":{}}');
    getStream?.close();
    await Promise.all(reading);
    const exitCode = serve === undefined ? 0 : await serve.process.exited;
    if (serve !== undefined) expect(broken, "POST answers that broke").toEqual([]);
    return {
      toServer: posts.map((p) => Buffer.from(p)),
      toClient: forwarded.slice(0, scenario.toClient.length),
      answers,
      tail: forwarded.slice(delivered),
      events: serve === undefined ? [] : readValidatedEvents(serve.eventsFile),
      reports,
      exitCode,
      stderr: serve?.log.join("\n") ?? "",
      metricsBefore,
      rebuilt,
      answeredCalls,
    };
  } finally {
    getAbort.abort();
    for (const queue of held.values()) for (const resolve of queue) resolve('{"jsonrpc":"2.0","id":null,"result":{}}');
    await serve?.stop();
    upstream.stop(true);
  }
}

const parseLine = (line: Buffer | string): any => JSON.parse(String(line));

/** The same JSON; a rebuilt batch of one (the upstream's lone answer to a batch, merged with ours) as its member. */
const sameJson = (a: unknown, b: unknown): boolean =>
  Bun.deepEquals(a, b) || (Array.isArray(a) && a.length === 1 && !Array.isArray(b) && Bun.deepEquals(a[0], b));

/** Whether `got` is the delivery of the model's line `e`: the same bytes, the same JSON (a batch the proxy rebuilt), or an answer to the same id (a rewritten handshake or page). */
function sameLine(got: Buffer, e: { text: string; check: string }): boolean {
  if (got.equals(Buffer.from(e.text))) return true;
  let a: any;
  try {
    a = parseLine(got);
  } catch {
    return false;
  }
  const b = parseLine(e.text);
  if (e.check === "bytes" || e.check === "cut") return sameJson(a, b);
  return !Array.isArray(a) && !("method" in a) && Bun.deepEquals(a.id, b.id);
}

/**
 * The invariants of checkRun for a run through `serve`, where the client's messages come on several
 * HTTP answers (in whatever order between them), the server's on several POSTs, and the drain is the
 * end: each request still owed gets its -32603 (a cancelled request still held by the upstream may
 * too: the client gave up on it). Plus `/metrics` against the events.
 */
export function checkServeRun(scenario: Scenario, run: ServeRun): void {
  const label = `seed ${scenario.seed} (${scenario.era}, serve)`;
  const left = [...run.toClient];
  const toClient = scenario.toClient.map((e) => {
    const at = left.findIndex((line) => sameLine(line, e));
    return at === -1 ? undefined : left.splice(at, 1)[0];
  });
  const placed = toClient.map((line) => line ?? (left.shift() as Buffer));
  // A rebuilt batch compares as JSON: put the model's bytes in its place once it matched.
  const client = placed.map((line, i) => {
    const e = scenario.toClient[i];
    if (line === undefined || e === undefined || e.check !== "bytes" || line.equals(Buffer.from(e.text))) return line;
    return sameJson(parseLine(line), parseLine(e.text)) ? Buffer.from(e.text) : line;
  });
  const owed = new Set(scenario.owedAtEnd);
  // A batch still waiting for its upstream's head at the drain's deadline is answered as one array.
  const tail = run.tail.flatMap((line) => {
    const parsed = JSON.parse(String(line));
    return Array.isArray(parsed) ? parsed.map((m) => Buffer.from(JSON.stringify(m))) : [line];
  });
  const ended = tail.filter((line) => {
    const m = parseLine(line);
    expect(m.error?.code, `${label}: the tail ${String(line).slice(0, 300)}`).toBe(-32603);
    return (
      owed.has(JSON.stringify(m.id)) ||
      !scenario.steps.some(
        (s) => s.text.includes('"notifications/cancelled"') && s.text.includes(`"requestId":${JSON.stringify(m.id)}`),
      )
    );
  });
  checkRun(scenario, { ...run, toClient: client, tail: ended }, true, [...owed], true);
  // /metrics before the drain: each tools/call answered by then, by the answer's outcome (README:
  // a task-augmented call counts by its task handle, our tools' calls too).
  const counted = metricValues(run.metricsBefore, "baton_tool_calls_total");
  const metrics = Object.fromEntries([...counted].map(([k, v]) => [/outcome="([^"]*)"/.exec(k)?.[1] ?? k, v]));
  expect(metrics, `${label}: baton_tool_calls_total`).toEqual(run.answeredCalls);
}
