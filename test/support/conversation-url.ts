// Plays a generated conversation (conversation-model.ts) through `baton-proxy --url` in front of an HTTP upstream the test scripts: each POSTed request is held until the script answers it (as JSON or an SSE event, out of order), the server's own messages go down the GET stream.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { binaryPath } from "./binary.ts";
import { type ConversationRun, injectedCalls } from "./conversation-run.ts";
import { INJECTED_ID_PREFIX, type Scenario } from "./conversation-model.ts";
import { readValidatedEvents } from "./events.ts";
import { picker } from "./jsonrpc-fuzz.ts";
import { cleanEnv, tempDir } from "./proxy-process.ts";

const encoder = new TextEncoder();

/** Polls `done` every millisecond until it holds; throws naming `what` (read when it times out, so it tells the state then) after `ms`. */
export async function until(done: () => boolean, what: string | (() => string), ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await Bun.sleep(1);
  }
}

/** The key of a JSON-RPC id as written (1 and "1" apart). */
export const idKey = (id: unknown): string => JSON.stringify(id);

/** The first request id of a POST body (a batch's first request), if any. */
function requestKey(body: string): string | undefined {
  const parsed = JSON.parse(body);
  const members = Array.isArray(parsed) ? parsed : [parsed];
  const request = members.find((m) => m && typeof m === "object" && "method" in m && "id" in m);
  return request === undefined ? undefined : idKey(request.id);
}

/** Where a server line goes: the held POST of the request it answers, or the GET stream. */
function answerKey(text: string): string | undefined {
  const parsed = JSON.parse(text);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return first && typeof first === "object" && !("method" in first) && "id" in first ? idKey(first.id) : undefined;
}

export async function runConversationUrl(scenario: Scenario): Promise<ConversationRun> {
  const dir = tempDir("baton-model-url-");
  const eventsFile = join(dir, "events.jsonl");
  const pick = picker(scenario.seed ^ 0x0e1);
  const posts: string[] = [];
  /** POSTs waiting for their answer, by request id, oldest first: each takes its answer line. */
  const held = new Map<string, ((line: string) => void)[]>();
  /** The event streams of POSTs still open: the server's own messages may go down one of them. */
  const openStreams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  /** Those streams by request id: a cancelled request's stream is let go by the proxy (README), so nothing is sent there. */
  const streamOf = new Map<string, ReadableStreamDefaultController<Uint8Array>>();
  /** Requests the client cancelled (the model never reuses their ids). */
  const cancelledKeys = new Set<string>();
  /** Open streams the proxy lets go (their requests were cancelled): the server's own messages avoid them. */
  const letGo = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let getStream: ReadableStreamDefaultController<Uint8Array> | undefined;
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
      const body = await request.text();
      posts.push(body);
      const key = requestKey(body);
      if (key === undefined) return new Response(null, { status: 202 });
      const hold = (resolve: (line: string) => void): void => {
        const queue = held.get(key) ?? [];
        queue.push(resolve);
        held.set(key, queue);
      };
      // The answer as JSON once it comes, or an SSE stream open at once that the server's own
      // messages may use before the answer ends it.
      if (pick.chance(0.5)) {
        const line = await new Promise<string>(hold);
        return new Response(line, { headers: { "content-type": "application/json" } });
      }
      let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
      const events = new ReadableStream<Uint8Array>({
        start(controller) {
          stream = controller;
          openStreams.add(controller);
          // A cancellation may overtake its own POST (README): its stream is let go all the same.
          if (cancelledKeys.has(key)) letGo.add(controller);
          streamOf.set(key, controller);
        },
        cancel() {
          if (stream !== undefined) openStreams.delete(stream);
        },
      });
      hold((line) => {
        if (stream === undefined || !openStreams.delete(stream)) return;
        stream.enqueue(encoder.encode(`event: message\ndata: ${line}\n\n`));
        stream.close();
      });
      return new Response(events, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const proc = Bun.spawn([await binaryPath(), "--url", `http://127.0.0.1:${upstream.port}/mcp`], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: cleanEnv({
      BATON_EVENT_SINK: `file://${eventsFile}`,
      ...(scenario.intentOff ? { BATON_INTENT_PARAM: "off" } : {}),
    }),
  });
  const lines: Buffer[] = [];
  let partial = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      const parts = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) lines.push(Buffer.from(p));
    }
  })();
  let stderrText = "";
  const stderr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderrText += decoder.decode(chunk, { stream: true });
    return stderrText;
  })();
  const forwarded: Buffer[] = [];
  const answers: Record<string, any>[] = [];
  let sorted = 0;
  const sort = (): void => {
    for (; sorted < lines.length; sorted++) {
      const line = lines[sorted] as Buffer;
      let own: Record<string, any> | undefined;
      try {
        const m = JSON.parse(line.toString("utf8"));
        if (m && !("method" in m) && typeof m.id === "string" && m.id.startsWith(INJECTED_ID_PREFIX)) own = m;
      } catch {
        // a forwarded line
      }
      if (own === undefined) forwarded.push(line);
      else answers.push(own);
    }
  };
  const reports: ConversationRun["reports"] = [];
  let serverSteps = 0;
  let lastServer = "";
  /** The request whose stream carried the last server message sent on one (for a failure's message). */
  let lastStream: string | undefined;
  try {
    for (const step of scenario.steps) {
      if (step.from === "server") {
        await until(() => posts.length >= step.after, `POST ${step.after} before: ${step.text.slice(0, 200)}`);
        // One server line at a time: lines on different HTTP streams have no order between them.
        await until(
          () => (sort(), forwarded.length >= serverSteps),
          () =>
            `client line ${serverSteps} (${lastServer.slice(0, 200)}, on the stream of ${lastStream}); got ${forwarded.length}: ${forwarded
              .slice(-2)
              .map((l) => l.toString().slice(0, 200))
              .join(" | ")}\nproxy stderr: ${stderrText.slice(-1500)}`,
        );
        lastServer = step.text;
        const key = answerKey(step.text);
        // POSTs race each other: the count can be reached before the very request this answers is in.
        if (key !== undefined && !key.startsWith('"ghost-'))
          await until(() => (held.get(key)?.length ?? 0) > 0, `the POST of ${key}`);
        const queue = key === undefined ? undefined : held.get(key);
        const resolve = queue?.shift();
        if (queue !== undefined && queue.length === 0) held.delete(key as string);
        lastStream = undefined;
        if (resolve !== undefined) resolve(step.text);
        else if ([...openStreams].some((c) => !letGo.has(c)) && pick.chance(0.5)) {
          // On a call's stream, before its answer (progress, sampling during a tool call).
          const stream = pick.one([...openStreams].filter((c) => !letGo.has(c)));
          lastStream = [...streamOf].find(([, c]) => c === stream)?.[0];
          stream.enqueue(encoder.encode(`event: message\ndata: ${step.text}\n\n`));
        } else {
          await until(() => getStream !== undefined, `the GET stream for ${step.text.slice(0, 300)}`);
          getStream?.enqueue(encoder.encode(`event: message\ndata: ${step.text}\n\n`));
        }
        serverSteps++;
        continue;
      }
      await until(() => (sort(), forwarded.length >= step.after), `client line ${step.after}`);
      const settle = step.settle;
      if (settle !== undefined)
        await until(
          () => (
            sort(),
            posts.length >= settle.server && forwarded.length >= settle.client && answers.length >= settle.answers
          ),
          "a settled state before a report call",
        );
      const cancelled = /"method":"notifications\/cancelled","params":\{"requestId":("[^"]*"|\d+)/.exec(step.text)?.[1];
      if (cancelled !== undefined) cancelledKeys.add(cancelled);
      const gone = cancelled === undefined ? undefined : streamOf.get(cancelled);
      if (gone !== undefined) letGo.add(gone);
      proc.stdin.write(`${step.text}\n`);
      await proc.stdin.flush();
      if (step.report !== undefined) {
        await until(() => (sort(), answers.length >= (settle?.answers ?? 0) + 1), "the report's answer");
        const answer = answers[answers.length - 1] as Record<string, any>;
        reports.push({
          text: String(answer.result?.content?.[0]?.text ?? JSON.stringify(answer)),
          expected: step.report,
        });
      }
    }
    const wantAnswers = injectedCalls(scenario);
    await until(
      () => (
        sort(),
        posts.length >= scenario.toServer.length &&
          forwarded.length >= scenario.toClient.length &&
          answers.length >= wantAnswers
      ),
      `every line (POSTs ${posts.length}/${scenario.toServer.length}, client ${forwarded.length}/${scenario.toClient.length}, answers ${answers.length}/${wantAnswers})`,
    );
    sort();
    const before = lines.length;
    proc.stdin.end();
    const exitCode = await proc.exited;
    await reading;
    return {
      toServer: posts.map((p) => Buffer.from(p)),
      toClient: forwarded.slice(0, scenario.toClient.length),
      answers,
      tail: lines.slice(before),
      events: existsSync(eventsFile) ? readValidatedEvents(eventsFile) : [],
      reports,
      exitCode,
      stderr: await stderr,
    };
  } finally {
    proc.kill();
    for (const queue of held.values()) for (const resolve of queue) resolve('{"jsonrpc":"2.0","id":null,"result":{}}');
    getStream?.close();
    upstream.stop(true);
  }
}
