// A seeded generator of long MCP conversations for the whole-binary model test, and the model of what the proxy must make of each: the lines each peer gets (byte for byte but for the README's rewrites), every tracked call's one start and one outcome, and the report's totals at any point.

import { picker, type Pick } from "./jsonrpc-fuzz.ts";

export type Side = "client" | "server";

/** How a delivered line is compared with what its sender wrote. */
export type Check =
  /** byte for byte */
  | "bytes"
  /** an `initialize` / `server/discover` result: the instructions paragraph appended, nothing else */
  | "handshake"
  /** a `tools/list` page: intent params on every tool (unless off), our tools appended to the last page of a complete list */
  | "page"
  | "last-page"
  /** a `tools/call` with intent params: the same message without them */
  | "cut";

export interface Expected {
  readonly text: string;
  readonly check: Check;
}

export interface Step {
  readonly from: Side;
  readonly text: string;
  /** Forwarded lines the sender must have received before it writes (the request it answers has arrived). */
  readonly after: number;
  /** Lines each peer must have got first (a report call reads a settled state). */
  readonly settle?: { server: number; client: number; answers: number };
  /** Written by the server at the end: after the client's EOF, or just before it exits. */
  readonly afterEof?: boolean;
  /** A `baton_session_report` call: the model's totals by then. */
  readonly report?: ReportTotals;
}

export interface ReportTotals {
  readonly calls: number;
  readonly errors: number;
  readonly errorsMin: number;
  readonly inFlight: number;
  readonly annotations: number;
}

/** What a tracked request is: a tool call, or a resource or prompt request (their own events). */
export type Tracked = "tools/call" | "resources/read" | "resources/list" | "prompts/get" | "prompts/list";

export interface ModelCall {
  readonly method: Tracked;
  /** The tool's name (a read's uri, a get's prompt name, "" for lists). */
  readonly tool: string;
  /** The arguments the server gets (what the start event records). */
  readonly params: unknown;
  /** `end`, or the error type of the `tool_call_error` (`exit` for a call open when the script ends). */
  outcome: string | undefined;
  /** What the outcome event must carry, when the model knows: the end's `result`, the error's `error_body`. */
  detail?: unknown;
  /** The start's `call_intent` / `call_expected` (the agent's non-blank `user_goal` / `expected_result`). */
  readonly intent?: string;
  readonly expected?: string;
  /** A cancellation that crossed the server's answer: the outcome may be this (the answer's) instead. */
  alternative?: { outcome: string; detail?: unknown };
  /** Cancelled with the server's answer on its way: the answer decides `alternative`. */
  racing?: boolean;
  /** `input_required` answers the call had (2026-07-28 multi-round): its outcome says `baton/rounds` = this + 1. */
  inputRounds?: number;
}

export interface Scenario {
  readonly seed: number;
  readonly era: string;
  readonly intentOff: boolean;
  readonly steps: Step[];
  readonly toServer: Expected[];
  readonly toClient: Expected[];
  /** Calls in the order of their starts. */
  readonly calls: ModelCall[];
  /** `baton_annotate` calls the proxy answers (their ids are strings starting `inj-`). */
  readonly annotations: number;
  /** The annotation made from the first `user_goal` (intent params on). */
  readonly goalAnnotation: boolean;
  /** Distinct surfaces seen whole (one surface_snapshot each). */
  readonly snapshots: number;
  /** The id texts of requests the server still owes when the script ends (the proxy answers them). */
  readonly owedAtEnd: string[];
  /** How the conversation ends. */
  readonly end: "eof" | "server-exit";
}

export const ERAS = ["2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"] as const;
const MODERN = "2026-07-28";
export const INJECTED_ID_PREFIX = "inj-";
/** What the start of a call line over the inspection cap records as its arguments. */
export const UNREAD = "unread";

interface Owed {
  readonly idText: string;
  readonly method: string;
  /** Index in `toServer` of the request: the server answers only once it has it. */
  readonly at: number;
  /** A task-augmented call: answered with a task handle. */
  readonly task?: boolean;
  /** Lines the server must have got before it answers: the client's cancellation of it. */
  cancelledAt?: number;
  /** A cancelled call the server answers without waiting for the cancellation. */
  racing?: ModelCall;
  /** The call's task id, for tasks/get and tasks/result. */
  readonly taskId?: string;
  /** A modern-era call that will ask for input once before completing. */
  rounds?: number;
  /** Tool name (a call): for the MRTR retry. */
  readonly tool?: string;
}

interface TrackedRequest {
  readonly method: string;
  readonly call?: ModelCall;
  /** A `tools/list`: the walk the proxy adds its page to (undefined: a cursor no page it read gave). */
  readonly walk?: ProxyWalk;
}

/** The proxy's view of a paginated listing (src/proxy/listing-walks.ts): the pages it read, by their content. */
interface ProxyWalk {
  readonly pages: number[];
}

/** The intent a start records from the arguments the agent gave: non-blank values only. */
function givenIntent(given: Record<string, string>): { intent?: string; expected?: string } {
  const keep = (value: string | undefined): string | undefined =>
    value === undefined || value.trim() === "" ? undefined : value;
  const intent = keep(given.user_goal);
  const expected = keep(given.expected_result);
  return { ...(intent === undefined ? {} : { intent }), ...(expected === undefined ? {} : { expected }) };
}

/** A generated conversation of about `actions` steps; `huge` adds one answer over the 8 MiB inspection cap. */
export function generateScenario(
  seed: number,
  actions: number,
  options: { huge?: boolean; url?: boolean; serve?: boolean } = {},
): Scenario {
  // `url`: what an HTTP upstream can play: no line that is not JSON, no id in flight twice (each POST has its own answer), no answer after the end.
  // `serve` (implies `url`): nothing before the handshake and no second one: behind an upstream without
  // `Mcp-Session-Id` each `initialize` starts a new event session (README, Hosted mode).
  const serve = options.serve === true;
  const url = options.url === true || serve;
  const pick = picker(seed);
  const era = pick.one(ERAS);
  const modern = era === MODERN;
  const batches = era === "2025-03-26";
  const tasks = era === "2025-11-25";
  const intentOff = pick.chance(0.3);
  // A server with no tools: the proxy adds the capability and answers tools/list itself.
  const toolless = pick.chance(0.15);
  /** Client lines by the time the latest handshake answer arrived. */
  let handshakeAt = 0;
  const steps: Step[] = [];
  const toServer: Expected[] = [];
  const toClient: Expected[] = [];
  const calls: ModelCall[] = [];
  let annotations = 0;
  /** Requests the server has been sent and not answered yet (duplicates of one id included). */
  const owed: Owed[] = [];
  /** What the proxy tracks, by id text: the latest request of that id. */
  const tracked = new Map<string, TrackedRequest>();
  /** Requests of the server the client still owes an answer. */
  const clientOwes: { idText: string; method: string; at: number }[] = [];
  /** Tasks whose call waits for them. */
  const tasksOpen = new Map<string, { call: ModelCall; at: number }>();
  /** Tasks the client sent `tasks/cancel` for: a cancelled status is then its doing (`cancelled`), else the task failed. */
  const cancelAsked = new Set<string>();
  /** Ids the client used that were answered (fit for reuse and late cancellation). */
  const answered = new Map<string, number>();
  /** Client lines a client step must have got first: the answer it reuses an id of, the task it follows (a real client has them). */
  let waitClient = 0;
  /** The client has got the answer to `idText` before its next step. */
  const seen = (idText: string): void => {
    waitClient = Math.max(waitClient, answered.get(idText) ?? 0);
  };
  /** Ids cancelled before their answer: never reused (a late answer could not be told apart). */
  const cancelledIds = new Set<string>();
  let nextId = 1;
  let nextServerId = 0;
  let nextTask = 1;
  /** The listing in progress; `at`: client lines by the time its last page arrived (the next page's request waits for it). */
  let listing: { cursor: string | undefined; pages: number; page: number; at: number; unread?: boolean } | undefined;
  let listingOwed = false;
  let injected = 0;
  let goalAnnotation = false;
  /** A proactive note was filed; a goal was given. */
  let proactive = false;
  let goalSeen = false;
  /** The first goal makes an annotation, unless a proactive note came first. */
  const noteGoal = (): void => {
    if (!goalSeen && !proactive) goalAnnotation = true;
    goalSeen = true;
  };
  /** The client has closed stdin: the server's last answers (no more rounds or tasks). */
  let closing = false;
  /** The surfaces completed walks showed (what surface_snapshot events are deduplicated by). */
  const surfaces = new Set<string>();
  /** The handshake answer's instructions the current surface has. */
  let handshakeSurface = "";
  /** The next page is over the 8 MiB inspection cap: forwarded as it is, no snapshot. */
  let hugePage = false;
  /** Walks waiting for their next page, by cursor, oldest first (the proxy's, as far as it read them). */
  const waitingWalks = new Map<string, ProxyWalk[]>();
  /** The content of the page last made (its number in its listing: page n always lists the same tools). */
  let pageNumber = 0;
  /** Lines over the cap still to make (each is 9 MiB: a few are enough). */
  let hugeLeft = options.huge === true ? 3 : 0;
  /** Whether the next candidate line goes over the cap (and uses one up). */
  const goHuge = (p = 0.3): boolean => {
    if (hugeLeft === 0 || !pick.chance(p)) return false;
    hugeLeft--;
    return true;
  };

  const client = (text: string, expected: Expected | undefined, after = 0, extra: Partial<Step> = {}): void => {
    steps.push({ from: "client", text, after: Math.max(after, waitClient), ...extra });
    waitClient = 0;
    if (expected !== undefined) toServer.push(expected);
  };
  /** While set, the server's lines are gathered here (to go out as one batch) instead of written. */
  let gathering: { text: string; expected: Expected | undefined; after: number }[] | undefined;
  /** The calls the gathered answers close. */
  let gatheredCalls: ModelCall[] | undefined;
  const server = (text: string, expected: Expected | undefined, after: number): void => {
    if (gathering !== undefined) {
      gathering.push({ text, expected, after });
      return;
    }
    steps.push({ from: "server", text, after, ...(closing ? { afterEof: true } : {}) });
    if (expected !== undefined) toClient.push(expected);
  };
  /** Two answers of separate requests in one batch line (2025-03-26), when both pass byte for byte. */
  const answerTwoAsBatch = (): void => {
    gathering = [];
    gatheredCalls = [];
    const ids = [owed[0]?.idText, owed[1]?.idText];
    answerOne(0);
    answerOne(0);
    const gathered = gathering;
    const closed = gatheredCalls;
    gathering = undefined;
    gatheredCalls = undefined;
    const together = gathered.length === 2 && gathered.every((g) => g.expected?.check === "bytes");
    if (!together) {
      for (const g of gathered) server(g.text, g.expected, g.after);
    } else {
      const text = `[${gathered.map((g) => g.text).join(",")}]`;
      // A batch over the cap is read from its members' edges only: their outcome events carry a note, not the answer.
      if (text.length > 8 * 1024 * 1024)
        for (const call of closed) {
          call.detail = undefined;
          if (call.alternative !== undefined) call.alternative.detail = undefined;
        }
      server(text, { text, check: "bytes" }, Math.max(...gathered.map((g) => g.after)));
    }
    // The client has them once the line(s) arrived (a page's next request waits for it too: while
    // gathering, the lines' places were not known yet).
    for (const id of ids) if (id !== undefined && answered.has(id)) answered.set(id, toClient.length);
    if (listing !== undefined && gathered.some((g) => g.text.includes(`"tools":[`)))
      listing.at = Math.max(listing.at, toClient.length);
  };
  const meta = (own?: Record<string, unknown>): Record<string, unknown> | undefined =>
    modern
      ? {
          ...own,
          "io.modelcontextprotocol/protocolVersion": era,
          "io.modelcontextprotocol/clientInfo": { name: "model-client", version: "1" },
        }
      : own;
  const request = (idText: string, method: string, params?: Record<string, unknown>, own?: Record<string, unknown>) => {
    const m = meta(own);
    const all = m === undefined ? params : { ...params, _meta: m };
    return `{"jsonrpc":"2.0","id":${idText},"method":${JSON.stringify(method)}${all === undefined ? "" : `,"params":${JSON.stringify(all)}`}}`;
  };
  const result = (idText: string, value: Record<string, unknown>): string =>
    `{"jsonrpc":"2.0","id":${idText},"result":${JSON.stringify(modern ? { ...value, resultType: value.resultType ?? "complete" } : value)}}`;
  const error = (idText: string, code: number, message: string): string =>
    `{"jsonrpc":"2.0","id":${idText},"error":{"code":${code},"message":${JSON.stringify(message)}}}`;

  const toolCalls = (): ModelCall[] => calls.filter((c) => c.method === "tools/call");

  /** Closes `call` with `outcome` unless something closed it before. */
  const close = (call: ModelCall, outcome: string, detail?: unknown): void => {
    gatheredCalls?.push(call);
    if (call.racing === true) {
      call.racing = false;
      call.alternative = { outcome, detail };
      return;
    }
    if (call.outcome !== undefined) return;
    call.outcome = outcome;
    call.detail = detail;
  };

  /** A fresh id text: numbers and strings, "7" beside 7, reuse of answered ids. */
  const freshId = (): string => {
    const n = nextId++;
    const roll = pick.int(10);
    if (roll < 5) return String(n);
    if (roll < 7) return JSON.stringify(`r-${n}`);
    if (roll < 8) {
      // The other type's twin of an id in flight: "7" beside 7.
      for (const idText of tracked.keys()) {
        const twin = idText.startsWith('"') ? idText.slice(1, -1) : JSON.stringify(idText);
        if (/^"?\d+"?$/.test(twin) && !tracked.has(twin) && !cancelledIds.has(twin) && !owedHas(twin)) {
          seen(twin);
          return twin;
        }
      }
      return JSON.stringify(String(n));
    }
    // Reuse right after an answer.
    const reusable = [...answered.keys()].filter((id) => !tracked.has(id) && !owedHas(id) && !cancelledIds.has(id));
    if (reusable.length === 0) return String(n);
    const id = pick.one(reusable);
    seen(id);
    return id;
  };
  const owedHas = (idText: string): boolean => owed.some((o) => o.idText === idText);

  const toolArgs = (): Record<string, unknown> => {
    const args: Record<string, unknown> = { n: pick.int(1000) };
    if (pick.chance(0.3)) args.s = pick.one(["ünï", "tab\there", 'q"q', "😀", "\u2028", "x".repeat(200)]);
    return args;
  };

  /** The client calls a server tool (maybe with intent params, maybe as a task, maybe reusing an id in flight). */
  const callTool = (duplicate: boolean): void => {
    const inFlightCalls = [...tracked].filter(([, t]) => t.call?.method === "tools/call").map(([id]) => id);
    const idText = duplicate && inFlightCalls.length > 0 ? pick.one(inFlightCalls) : freshId();
    const tool = pick.one(["alpha", "beta", "gamma"]);
    const args = toolArgs();
    const withIntent = pick.chance(0.3);
    // Both, one of the two, or a blank goal (recorded as not given).
    const intent = pick.one<Record<string, string>>([
      { user_goal: "find the thing", expected_result: "the thing" },
      { user_goal: "find the thing" },
      { expected_result: "the thing" },
      { user_goal: "   ", expected_result: "the thing" },
    ]);
    const sent = withIntent ? { ...args, ...intent } : args;
    const asTask = tasks && pick.chance(0.25);
    const params: Record<string, unknown> = { name: tool, arguments: sent };
    if (asTask) params.task = { ttl: 60_000 };
    const own = pick.chance(0.3) ? { progressToken: `p-${nextId}` } : undefined;
    const text = request(idText, "tools/call", params, own);
    const forwarded = withIntent && !intentOff ? JSON.parse(text) : undefined;
    if (forwarded !== undefined) forwarded.params.arguments = args;
    const call: ModelCall = {
      method: "tools/call",
      tool,
      params: withIntent && !intentOff ? args : sent,
      outcome: undefined,
      ...(withIntent && !intentOff ? givenIntent(intent) : {}),
    };
    if (withIntent && !intentOff && call.intent !== undefined) noteGoal();
    const previous = tracked.get(idText);
    if (previous?.call !== undefined && previous.call.outcome === undefined) previous.call.outcome = "evicted";
    calls.push(call);
    tracked.set(idText, { method: "tools/call", call });
    client(
      text,
      forwarded === undefined ? { text, check: "bytes" } : { text: JSON.stringify(forwarded), check: "cut" },
    );
    owed.push({
      idText,
      method: "tools/call",
      at: toServer.length - 1,
      task: asTask,
      tool,
      rounds: modern && pick.chance(0.2) ? 1 : 0,
    });
  };

  /** The server answers one request it owes, picked at random (out of order). */
  /** The server answers the request it owes at `at` (by default one picked at random: out of order). */
  const answerOne = (at?: number): void => {
    const index = at ?? pick.int(owed.length);
    const o = owed.splice(index, 1)[0] as Owed;
    // Once the server has every request of that id and the client's cancellation of it: the proxy then knows which the answer is for.
    const answerAfter = Math.max(
      o.at + 1,
      o.cancelledAt ?? 0,
      ...owed.filter((x) => x.idText === o.idText).map((x) => x.at + 1),
    );
    const t = tracked.get(o.idText);
    // The proxy ties the answer to the latest request of that id (a duplicate's first answer closes the second call).
    if (t !== undefined) tracked.delete(o.idText);
    let text: string;
    // A cancelled call whose answer races the cancellation: either may reach the proxy first.
    const callOf = t?.call ?? o.racing;
    if (o.method === "tools/call") {
      const roll = pick.int(10);
      if (o.task && t !== undefined && !closing) {
        const taskId = `task-${nextTask++}`;
        text = result(o.idText, {
          task: {
            taskId,
            status: "working",
            createdAt: "2026-01-01T00:00:00Z",
            lastUpdatedAt: "2026-01-01T00:00:00Z",
            ttl: 60_000,
          },
        });
        if (callOf !== undefined) tasksOpen.set(taskId, { call: callOf, at: toClient.length + 1 });
      } else if (o.rounds !== undefined && o.rounds > 0 && t !== undefined && callOf !== undefined && !closing) {
        // Multi-round (2026-07-28): the client retries with a new id, the same tool and the request state.
        text = result(o.idText, {
          resultType: "input_required",
          inputRequests: {
            q: {
              method: "elicitation/create",
              params: { message: "which?", requestedSchema: { type: "object", properties: {} } },
            },
          },
          requestState: `state-${o.idText}`,
        });
        server(text, { text, check: "bytes" }, answerAfter);
        answered.set(o.idText, toClient.length);
        if (callOf.outcome === undefined) callOf.inputRounds = (callOf.inputRounds ?? 0) + 1;
        if (pick.chance(0.25)) {
          // The client gives up on the round instead (a timeout crossing the answer): the call ends cancelled.
          seen(o.idText);
          const cancel = `{"jsonrpc":"2.0","method":"notifications/cancelled","params":${JSON.stringify({ requestId: JSON.parse(o.idText), reason: "timed out", _meta: meta() })}}`;
          client(cancel, { text: cancel, check: "bytes" });
          close(callOf, "cancelled");
          return;
        }
        const retryId = String(nextId++);
        const retry = request(retryId, "tools/call", {
          name: callOf.tool,
          arguments: callOf.params,
          inputResponses: { q: { action: "accept", content: {} } },
          requestState: `state-${o.idText}`,
        });
        client(retry, { text: retry, check: "bytes" }, toClient.length);
        tracked.set(retryId, { method: "tools/call", call: callOf });
        owed.push({ idText: retryId, method: "tools/call", at: toServer.length - 1, tool: callOf.tool, rounds: 0 });
        return;
      } else if (goHuge()) {
        text = result(o.idText, { content: [{ type: "text", text: "h".repeat(9 * 1024 * 1024) }] });
        if (callOf !== undefined) close(callOf, "end");
      } else if (roll < 5) {
        const long = pick.chance(0.1) ? "L".repeat(70_000) : "ok";
        const content = [{ type: "text", text: long }];
        text = result(o.idText, { content });
        if (callOf !== undefined) close(callOf, "end", long === "ok" ? content : undefined);
      } else if (roll < 7) {
        text = result(o.idText, { content: [{ type: "text", text: "it broke" }], isError: true });
        if (callOf !== undefined) close(callOf, "tool_error");
      } else {
        const code = pick.one([-32602, -32603, -32000, 42]);
        text = error(o.idText, code, "no such thing");
        if (callOf !== undefined) close(callOf, `jsonrpc_${code}`, "no such thing");
      }
    } else if (o.method === "tasks/result" && o.taskId !== undefined) {
      const waiting = t === undefined ? undefined : tasksOpen.get(o.taskId);
      const roll = pick.int(4);
      let outcome = "end";
      let detail: unknown = [{ type: "text", text: "task done" }];
      if (roll === 0) {
        text = error(o.idText, -32603, "the task broke");
        outcome = "jsonrpc_-32603";
        detail = "the task broke";
      } else {
        const isError = roll === 1;
        if (isError) {
          outcome = "tool_error";
          detail = undefined;
        }
        text = result(o.idText, {
          content: [{ type: "text", text: "task done" }],
          ...(isError ? { isError: true } : {}),
          _meta: { "io.modelcontextprotocol/related-task": { taskId: o.taskId } },
        });
      }
      if (waiting !== undefined) {
        close(waiting.call, outcome, detail);
        tasksOpen.delete(o.taskId);
      }
    } else if (o.method === "tasks/get" && o.taskId !== undefined) {
      const waiting = t === undefined ? undefined : tasksOpen.get(o.taskId);
      const status = pick.one(["working", "working", "input_required", "failed", "cancelled"]);
      text = result(o.idText, {
        taskId: o.taskId,
        status,
        ...(status === "failed" ? { statusMessage: "it fell over" } : {}),
        createdAt: "2026-01-01T00:00:00Z",
        lastUpdatedAt: "2026-01-01T00:00:00Z",
        ttl: 60_000,
      });
      if (waiting !== undefined && (status === "failed" || status === "cancelled")) {
        waiting.call.outcome ??= status === "cancelled" && cancelAsked.has(o.taskId) ? "cancelled" : "task_failed";
        tasksOpen.delete(o.taskId);
      }
    } else if (o.method === "tasks/cancel" && o.taskId !== undefined) {
      const waiting = t === undefined ? undefined : tasksOpen.get(o.taskId);
      if (pick.chance(0.3)) text = error(o.idText, -32602, "the task is already finished");
      else {
        text = result(o.idText, {
          taskId: o.taskId,
          status: "cancelled",
          createdAt: "2026-01-01T00:00:00Z",
          lastUpdatedAt: "2026-01-01T00:00:00Z",
          ttl: 60_000,
        });
        if (waiting !== undefined) {
          close(waiting.call, "cancelled");
          tasksOpen.delete(o.taskId);
        }
      }
    } else if (o.method === "tools/list" && pick.chance(0.1)) {
      // A page that fails: the walk is over, the next listing starts again.
      text = error(o.idText, -32603, "listing failed");
      listing = undefined;
      listingOwed = false;
    } else if (o.method === "tools/list") {
      hugePage = goHuge();
      text = listPage(o.idText);
      if (hugePage) {
        // Over the inspection cap: forwarded as it came, without our additions (README), no snapshot.
        server(text, { text, check: "bytes" }, answerAfter);
        answered.set(o.idText, toClient.length);
        hugePage = false;
        return;
      }
      // A page of a listing the proxy no longer tracks passes as it came.
      const check = t === undefined ? "bytes" : text.includes('"nextCursor"') ? "page" : "last-page";
      const walk = t?.walk;
      if (walk !== undefined) {
        walk.pages.push(pageNumber);
        const cursor = (JSON.parse(text) as { result: { nextCursor?: string } }).result.nextCursor;
        if (cursor !== undefined) waitingWalks.set(cursor, [...(waitingWalks.get(cursor) ?? []), walk]);
        else surfaces.add(`${handshakeSurface}|${walk.pages.join(",")}`);
      }
      server(text, { text, check }, answerAfter);
      answered.set(o.idText, toClient.length);
      return;
    } else if (callOf !== undefined && o.method !== "tools/call") {
      // A resource or prompt request.
      if (pick.chance(0.3)) {
        text = error(o.idText, -32002, "not found");
        close(callOf, "jsonrpc_-32002", "not found");
      } else {
        const count = pick.int(3);
        const items = Array.from({ length: count }, (_, i) => ({ uri: `file:///r/${i}`, name: `r${i}` }));
        text = result(
          o.idText,
          o.method === "resources/read"
            ? { contents: [{ uri: callOf.tool, text: "secret contents" }] }
            : o.method === "resources/list"
              ? { resources: items }
              : o.method === "prompts/get"
                ? { messages: [{ role: "user", content: { type: "text", text: "hi" } }] }
                : { prompts: items.map((r) => ({ name: r.name })) },
        );
        close(callOf, "end", o.method.endsWith("/list") ? count : undefined);
      }
    } else {
      text = pick.chance(0.8) ? result(o.idText, {}) : error(o.idText, -32601, "Method not found");
    }
    server(text, { text, check: "bytes" }, answerAfter);
    answered.set(o.idText, toClient.length);
  };

  /** A page of the listing in progress (pages walk `c1`, `c2`…; the last has no cursor). */
  const listPage = (idText: string): string => {
    const walk = listing as { cursor: string | undefined; pages: number; page: number; at: number; unread?: boolean };
    // A page over the cap is never read: its walk cannot be snapshotted.
    if (hugePage) walk.unread = true;
    walk.at = toClient.length + 1;
    listingOwed = false;
    walk.page++;
    const last = walk.page >= walk.pages;
    const tools: { name: string; description: string; inputSchema: unknown }[] = ["alpha", "beta", "gamma"]
      .slice(0, walk.page === 1 ? 2 : 1)
      .map((name, i) => ({
        name: walk.page === 1 ? name : `${name}-${walk.page}-${i}`,
        description: `The ${name} tool.`,
        inputSchema: { type: "object", properties: { n: { type: "number" }, s: { type: "string" } } },
      }));
    walk.cursor = last ? undefined : `c${walk.page}`;
    pageNumber = walk.page;
    if (last) listing = undefined;
    if (hugePage)
      tools.push({
        name: "huge",
        description: "d".repeat(9 * 1024 * 1024),
        inputSchema: { type: "object", properties: {} },
      });
    return result(idText, last ? { tools } : { tools, nextCursor: walk.cursor });
  };

  // The handshake (sometimes after a request that comes before it).
  const handshake = (): void => {
    const idText = freshId();
    const text = modern
      ? request(idText, "server/discover", {})
      : request(idText, "initialize", {
          protocolVersion: era,
          capabilities: { sampling: {}, roots: { listChanged: true }, elicitation: {} },
          clientInfo: { name: "model-client", version: "1" },
        });
    client(text, { text, check: "bytes" });
    const at = toServer.length - 1;
    const instructions = pick.chance(0.6) ? { instructions: "Use the tools.  \n" } : {};
    handshakeSurface = JSON.stringify(instructions);
    const answer = result(
      idText,
      modern
        ? {
            supportedVersions: [era],
            capabilities: toolless ? {} : { tools: { listChanged: true } },
            serverInfo: { name: "model-server", version: "1" },
            ...instructions,
          }
        : {
            protocolVersion: era,
            capabilities: {
              ...(toolless ? {} : { tools: { listChanged: true } }),
              logging: {},
              ...(tasks ? { tasks: { requests: { tools: { call: {} } } } } : {}),
            },
            serverInfo: { name: "model-server", version: "1" },
            ...instructions,
          },
    );
    server(answer, { text: answer, check: "handshake" }, at + 1);
    handshakeAt = toClient.length;
    answered.set(idText, toClient.length);
    if (!modern) {
      const initialized = '{"jsonrpc":"2.0","method":"notifications/initialized"}';
      client(initialized, { text: initialized, check: "bytes" }, toClient.length);
    }
  };

  /** Rarer ingredients: junk lines, answers to nothing, task status notices, mixed batches, long calls, walks cut short. */
  const extra = (kind: number): void => {
    if (kind === 0) {
      // A line that is not JSON-RPC, from either side: passed on as it is.
      const text = pick.one(["", "not json at all", '{"x":1}', "[]", "  ", "[1,2]"]);
      if (pick.chance(0.5)) client(text, { text, check: "bytes" });
      else server(text, { text, check: "bytes" }, 0);
    } else if (kind === 1) {
      // An answer to a request nobody made.
      const text = result(JSON.stringify(`ghost-${nextId++}`), { content: [] });
      server(text, { text, check: "bytes" }, 0);
    } else if (kind === 2 && tasksOpen.size > 0) {
      // The server says a task failed (or was cancelled) on its own.
      const taskId = pick.one([...tasksOpen.keys()]);
      const status = pick.one(["failed", "cancelled", "working"]);
      const text = `{"jsonrpc":"2.0","method":"notifications/tasks/status","params":${JSON.stringify({ taskId, status, createdAt: "2026-01-01T00:00:00Z", lastUpdatedAt: "2026-01-01T00:00:00Z", ttl: 60_000 })}}`;
      server(text, { text, check: "bytes" }, 0);
      const waiting = tasksOpen.get(taskId);
      if (waiting !== undefined && status !== "working") {
        waiting.call.outcome ??= status === "cancelled" && cancelAsked.has(taskId) ? "cancelled" : "task_failed";
        tasksOpen.delete(taskId);
      }
    } else if (kind === 3 && batches) {
      // A batch mixing one of our tools' calls, a server tool's call with intent params, and a notification.
      const injectedId = JSON.stringify(`${INJECTED_ID_PREFIX}${injected++}`);
      annotations++;
      const idText = String(nextId++);
      const args = toolArgs();
      const members = [
        `{"jsonrpc":"2.0","id":${injectedId},"method":"tools/call","params":{"name":"baton_annotate","arguments":{"intent":"batched note","signal_type":"friction"}}}`,
        `{"jsonrpc":"2.0","id":${idText},"method":"tools/call","params":${JSON.stringify({ name: "alpha", arguments: { ...args, user_goal: "batch goal" } })}}`,
        '{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}',
      ];
      const order = pick.chance(0.5) ? [0, 1, 2] : [1, 0, 2];
      const text = `[${order.map((i) => members[i]).join(",")}]`;
      const forwarded = order.filter((i) => i !== 0).map((i) => JSON.parse(members[i] as string));
      if (!intentOff) forwarded[order.filter((i) => i !== 0).indexOf(1)].params.arguments = args;
      else forwarded[order.filter((i) => i !== 0).indexOf(1)].params.arguments = { ...args, user_goal: "batch goal" };
      if (!intentOff) noteGoal();
      client(text, { text: JSON.stringify(forwarded), check: "cut" });
      const call: ModelCall = {
        method: "tools/call",
        tool: "alpha",
        params: intentOff ? { ...args, user_goal: "batch goal" } : args,
        outcome: undefined,
        ...(intentOff ? {} : { intent: "batch goal" }),
      };
      calls.push(call);
      tracked.set(idText, { method: "tools/call", call });
      owed.push({ idText, method: "tools/call", at: toServer.length - 1, tool: "alpha", rounds: 0 });
    } else if (kind === 4) {
      // A long call (over 64 KiB), sometimes with intent params to cut from it.
      const idText = freshId();
      const args = { n: 1, s: "y".repeat((goHuge(0.8) ? 9 * 1024 * 1024 : 70_000) + pick.int(1000)) };
      // Over the inspection cap the line passes unread: nothing is cut from it, and its start records no arguments.
      const unread = args.s.length > 8 * 1024 * 1024;
      const withIntent = pick.chance(0.5);
      const sent = withIntent ? { ...args, user_goal: "long goal" } : args;
      const text = request(idText, "tools/call", { name: "beta", arguments: sent });
      const cut = withIntent && !intentOff && !unread;
      const forwarded = cut ? JSON.parse(text) : undefined;
      if (forwarded !== undefined) forwarded.params.arguments = args;
      if (cut) noteGoal();
      const previous = tracked.get(idText);
      if (previous?.call !== undefined && previous.call.outcome === undefined) previous.call.outcome = "evicted";
      const call: ModelCall = {
        method: "tools/call",
        tool: "beta",
        params: unread ? UNREAD : cut ? args : sent,
        outcome: undefined,
        ...(cut ? { intent: "long goal" } : {}),
      };
      calls.push(call);
      tracked.set(idText, { method: "tools/call", call });
      client(
        text,
        forwarded === undefined ? { text, check: "bytes" } : { text: JSON.stringify(forwarded), check: "cut" },
      );
      owed.push({ idText, method: "tools/call", at: toServer.length - 1, tool: "beta", rounds: 0 });
    } else if (kind === 5 && !modern) {
      // A line with a CRLF ending, from either side: passed on with it.
      const text = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"debug","data":"crlf"}}\r';
      if (pick.chance(0.5)) server(text, { text, check: "bytes" }, 0);
      else {
        const note = '{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}\r';
        client(note, { text: note, check: "bytes" });
      }
    } else if (kind === 6 && listing !== undefined && !listingOwed) {
      // A walk cut short: the client starts again from the first page.
      listing = undefined;
    }
  };

  if (pick.chance(0.1)) {
    // A call before the handshake: tracked all the same.
    if (!serve) callTool(false);
  } else if (pick.chance(0.15) && !serve) {
    // A request before the handshake.
    const idText = freshId();
    const text = request(idText, "ping");
    client(text, { text, check: "bytes" });
    tracked.set(idText, { method: "ping" });
    owed.push({ idText, method: "ping", at: toServer.length - 1 });
  }
  handshake();

  for (let n = 0; n < actions; n++) {
    const roll = pick.int(100);
    if (roll < 22) callTool(false);
    else if (roll < 24) callTool(!url);
    else if (roll < 44) {
      if (batches && !url && owed.length > 1 && pick.chance(0.2)) answerTwoAsBatch();
      else if (owed.length > 0) answerOne();
    } else if (roll < 50 && !(url && modern)) {
      // (A stateless-era upstream has no GET stream to send them on.)
      // Server notifications.
      const text = pick.one([
        '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}',
        '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p-1","progress":1,"total":2}}',
        '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}',
        '{"jsonrpc":"2.0","method":"notifications/resources/list_changed"}',
      ]);
      server(text, { text, check: "bytes" }, 0);
    } else if (roll < 56 && !modern) {
      // A request of the server's own (its id space collides with the client's).
      const idText = pick.chance(0.7) ? String(nextServerId++) : JSON.stringify(`s-${nextServerId++}`);
      const method = pick.one(["sampling/createMessage", "elicitation/create", "roots/list", "ping"]);
      const params =
        method === "sampling/createMessage"
          ? { messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 10 }
          : method === "elicitation/create"
            ? { message: "name?", requestedSchema: { type: "object", properties: {} } }
            : undefined;
      const text = `{"jsonrpc":"2.0","id":${idText},"method":"${method}"${params === undefined ? "" : `,"params":${JSON.stringify(params)}`}}`;
      server(text, { text, check: "bytes" }, 0);
      clientOwes.push({ idText, method, at: toClient.length - 1 });
    } else if (roll < 62 && clientOwes.length > 0) {
      // The client answers the server (with errors too; sometimes two answers in one batch).
      const count = batches && clientOwes.length > 1 && pick.chance(0.4) ? 2 : 1;
      const answers = clientOwes.splice(0, count);
      const texts = answers.map((a) =>
        pick.chance(0.25)
          ? error(a.idText, -1, "User rejected")
          : result(
              a.idText,
              a.method === "roots/list"
                ? { roots: [{ uri: "file:///tmp/r" }] }
                : a.method === "ping"
                  ? {}
                  : { action: "decline" },
            ),
      );
      const text = count === 2 ? `[${texts.join(",")}]` : (texts[0] as string);
      client(text, { text, check: "bytes" }, Math.max(...answers.map((a) => a.at)) + 1);
    } else if (roll < 64 && !modern && clientOwes.length > 0) {
      // The server cancels its own request; the client then never answers it.
      const gone = clientOwes.splice(pick.int(clientOwes.length), 1)[0] as { idText: string };
      const text = `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${gone.idText},"reason":"no longer needed"}}`;
      server(text, { text, check: "bytes" }, 0);
    } else if (roll < 70) {
      // The client cancels: a call in flight, an answered id, or one of our tools' calls.
      const inFlight = [...tracked].filter(([, t]) => t.call !== undefined && t.call.outcome === undefined);
      const kind = pick.int(4);
      const otherInFlight = [...tracked].filter(([, t]) => t.call === undefined);
      let idText: string;
      if (kind === 0 && inFlight.length > 0) {
        const [id, t] = pick.one(inFlight);
        idText = id;
        const call = t.call as ModelCall;
        call.outcome = "cancelled";
        tracked.delete(id);
        cancelledIds.add(id);
        const its = owed.filter((o) => o.idText === id);
        const only = its.length === 1 ? (its[0] as Owed) : undefined;
        if (
          !url &&
          only !== undefined &&
          call.method === "tools/call" &&
          !only.task &&
          !only.rounds &&
          pick.chance(0.4)
        ) {
          // The server answers without waiting for the cancellation: the two cross.
          only.racing = call;
          call.racing = true;
        } else for (const o of its) o.cancelledAt = toServer.length + 1;
        // Through --url the cancelled call's stream is let go (README): a late answer has nowhere to go.
        if (url) for (let i = owed.length - 1; i >= 0; i--) if (owed[i]?.idText === id) owed.splice(i, 1);
        // The server may still answer (a late answer is forwarded, with no event).
      } else if (kind === 1 && [...answered.keys()].some((id) => !tracked.has(id) && !owedHas(id))) {
        idText = pick.one([...answered.keys()].filter((id) => !tracked.has(id) && !owedHas(id)));
        seen(idText);
      } else if (kind === 3 && otherInFlight.length > 0) {
        // A request that is not a call (a ping, a task poll, a page): no event either way.
        const [id, t] = pick.one(otherInFlight);
        idText = id;
        tracked.delete(id);
        cancelledIds.add(id);
        // A page the proxy is told to forget: its walk can no longer be snapshotted.
        if (t.method === "tools/list" && listing !== undefined) listing.unread = true;
        for (const o of owed) if (o.idText === id) o.cancelledAt = toServer.length + 1;
        if (url) {
          for (let i = owed.length - 1; i >= 0; i--) if (owed[i]?.idText === id) owed.splice(i, 1);
          if (t.method === "tools/list") listingOwed = true; // its page never comes: no more listings
        }
      } else if (injected > 0) {
        // One of the latest 256 the proxy answered itself (it remembers as many): the server never saw that id, nor its cancellation.
        idText = JSON.stringify(`${INJECTED_ID_PREFIX}${injected - 1 - pick.int(Math.min(injected, 256))}`);
      } else continue;
      const text = request("0", "notifications/cancelled", {
        requestId: JSON.parse(idText),
        reason: "user gave up",
      }).replace('"id":0,', "");
      // Through serve the client group behind a session-less upstream is shared, and there the proxy forgets
      // its own ids after each POST (ids of the group's clients collide): the cancellation is forwarded (README).
      const dropped = idText.startsWith(`"${INJECTED_ID_PREFIX}`) && !serve;
      client(text, dropped ? undefined : { text, check: "bytes" });
    } else if (roll < 75) {
      // A listing: start one, or ask for the next page.
      if (toolless) {
        // Answered by the proxy with its tools alone, once it has seen the handshake say so.
        waitClient = Math.max(waitClient, handshakeAt);
        const text = request(JSON.stringify(`${INJECTED_ID_PREFIX}${injected++}`), "tools/list", {});
        client(text, undefined);
        continue;
      }
      if (listingOwed) continue;
      if (listing === undefined) listing = { cursor: undefined, pages: 1 + pick.int(3), page: 0, at: 0 };
      waitClient = Math.max(waitClient, listing.at);
      const idText = freshId();
      const text = request(idText, "tools/list", listing.cursor === undefined ? {} : { cursor: listing.cursor });
      client(text, { text, check: "bytes" });
      // As the proxy does: a first page starts a walk; a cursor continues the walk that waited longest on it.
      const walk = listing.cursor === undefined ? { pages: [] } : waitingWalks.get(listing.cursor)?.shift();
      tracked.set(idText, { method: "tools/list", walk });
      owed.push({ idText, method: "tools/list", at: toServer.length - 1 });
      listingOwed = true;
    } else if (roll < 80) {
      // baton_annotate: answered by the proxy, never forwarded.
      const idText = JSON.stringify(`${INJECTED_ID_PREFIX}${injected++}`);
      // A note with a signal, or a proactive one (no signal: the session then needs no note made from a goal).
      const signal = pick.chance(0.8) ? { signal_type: "friction" } : {};
      if (!("signal_type" in signal)) proactive = true;
      const text = request(idText, "tools/call", {
        name: "baton_annotate",
        arguments: { intent: "check the model", ...signal, expected_outcome: "green" },
      });
      annotations++;
      client(text, undefined);
    } else if (roll < 83) {
      // baton_session_report once everything so far has been delivered.
      const idText = JSON.stringify(`${INJECTED_ID_PREFIX}${injected++}`);
      const text = request(idText, "tools/call", { name: "baton_session_report", arguments: {} });
      const report: ReportTotals = {
        calls: toolCalls().length,
        errors: toolCalls().filter((c) => c.outcome !== undefined && c.outcome !== "end").length,
        // A cancellation that crossed an answer may have lost to it.
        errorsMin: toolCalls().filter(
          (c) => c.outcome !== undefined && c.outcome !== "end" && c.alternative?.outcome !== "end",
        ).length,
        inFlight: toolCalls().filter((c) => c.outcome === undefined).length,
        annotations: annotations + (goalAnnotation ? 1 : 0),
      };
      client(text, undefined, 0, {
        settle: { server: toServer.length, client: toClient.length, answers: injected - 1 },
        report,
      });
    } else if (roll < 87) {
      // A request of no interest to the proxy.
      const idText = freshId();
      const method = pick.one(["ping", "logging/setLevel", "completion/complete"]);
      const text = request(idText, method, method === "logging/setLevel" ? { level: "debug" } : {});
      client(text, { text, check: "bytes" });
      tracked.set(idText, { method });
      owed.push({ idText, method, at: toServer.length - 1 });
    } else if (roll < 88) {
      // A resource or prompt request: its own start and outcome events.
      const idText = freshId();
      const method = pick.one(["resources/read", "resources/list", "prompts/get", "prompts/list"] as const);
      const subject =
        method === "resources/read" ? `file:///r/${pick.int(5)}` : method === "prompts/get" ? `p${pick.int(3)}` : "";
      const params =
        method === "resources/read"
          ? { uri: subject }
          : method === "prompts/get"
            ? { name: subject, arguments: { a: "1" } }
            : {};
      const text = request(idText, method, params);
      client(text, { text, check: "bytes" });
      const previous = tracked.get(idText);
      if (previous?.call !== undefined) close(previous.call, "evicted");
      const call: ModelCall = { method, tool: subject, params: undefined, outcome: undefined };
      calls.push(call);
      tracked.set(idText, { method, call });
      owed.push({ idText, method, at: toServer.length - 1 });
    } else if (roll < 90 && batches) {
      // A batch of two calls (2025-03-26); the server answers it whole, as a batch.
      const ids = [freshId(), String(nextId++)];
      if (
        ids[0] === ids[1] ||
        tracked.has(ids[0] as string) ||
        tracked.has(ids[1] as string) ||
        owedHas(ids[0] as string)
      )
        continue;
      const members = ids.map((id) => ({ id, tool: pick.one(["alpha", "beta"]), args: toolArgs() }));
      const text = `[${members.map((m) => `{"jsonrpc":"2.0","id":${m.id},"method":"tools/call","params":${JSON.stringify({ name: m.tool, arguments: m.args })}}`).join(",")}]`;
      client(text, { text, check: "bytes" });
      const at = toServer.length - 1;
      const answers = members.map((m) => {
        const call: ModelCall = { method: "tools/call", tool: m.tool, params: m.args, outcome: "end" };
        calls.push(call);
        return result(m.id, { content: [{ type: "text", text: "batched" }] });
      });
      const answer = `[${answers.join(",")}]`;
      server(answer, { text: answer, check: "bytes" }, at + 1);
      for (const m of members) answered.set(m.id, toClient.length);
    } else if (roll < 93 && tasksOpen.size > 0) {
      // Follow a task: tasks/get (still working) or tasks/result (its payload ends the call).
      const taskId = pick.one([...tasksOpen.keys()]);
      waitClient = Math.max(waitClient, tasksOpen.get(taskId)?.at ?? 0);
      const method = pick.one(["tasks/get", "tasks/get", "tasks/result", "tasks/result", "tasks/cancel"]);
      const idText = freshId();
      const text = request(idText, method, { taskId });
      client(text, { text, check: "bytes" });
      if (method === "tasks/cancel") cancelAsked.add(taskId);
      tracked.set(idText, { method });
      owed.push({ idText, method, at: toServer.length - 1, taskId });
    } else if (roll === 93 && !modern && !serve) {
      // A second initialize on the same pipe.
      handshake();
    } else if (roll >= 94) {
      const kind = hugeLeft > 0 && pick.chance(0.6) ? 4 : pick.int(7);
      if (!url || (kind !== 0 && kind !== 5 && !(modern && kind === 1))) extra(kind);
    }
  }
  const end = url || pick.chance(0.5) ? "eof" : "server-exit";
  if (!url) {
    // The server answers a few of its requests after the client's EOF, or as its dying words just
    // before it exits: they still reach the client, and count.
    closing = true;
    for (let late = pick.int(4); late > 0 && owed.length > 0; late--) answerOne();
  }
  // Some requests are left owed: the proxy answers them when the server goes.
  const owedAtEnd = [...tracked.keys()];
  for (const t of tracked.values()) if (t.call !== undefined) t.call.outcome ??= "exit";
  for (const { call } of tasksOpen.values()) call.outcome ??= "exit";
  return {
    seed,
    era,
    intentOff,
    steps,
    toServer,
    toClient,
    calls,
    annotations,
    goalAnnotation,
    snapshots: surfaces.size,
    owedAtEnd,
    end,
  };
}

export type { Pick };
