// A seeded generator of realistic MCP sessions, and two byte forms of each message: one the proxy's byte scan reads (its hot path), one that only a full parse can read. For differential tests of the two paths.

import { seededRandom } from "./seeded-random.ts";

/** A number written as given (`12345678901234567890`, `1.0`): JSON.stringify writes its text. */
const raw = (text: string): unknown => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text);
const isRaw = (value: unknown): boolean => (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON(value);

export type Side = "client" | "server";

/** One message of a session, from `from`. */
export interface Step {
  readonly from: Side;
  readonly message: unknown;
}

export interface GeneratedSession {
  readonly era: string;
  /** Batches are legal in this era (2025-03-26 and before): a one-member batch is a fair second form. */
  readonly batches: boolean;
  readonly steps: readonly Step[];
}

const MODERN = "2026-07-28";
const ERAS = ["2025-03-26", "2025-06-18", "2025-11-25", MODERN];

/**
 * A session of `seed`: a handshake, a (maybe paginated) tool list, then tool calls answered in
 * every way a server answers, out of order, with cancellations, progress, the server's own
 * requests, intent params, the proxy's own tools, resource and prompt reads, and calls left open.
 * `big`: also answers over 64 KiB (parsed in an idle turn); `huge`: one over the 8 MiB cap.
 */
export function generateSession(
  seed: number,
  options: { big?: boolean; huge?: boolean; consentToken?: string } = {},
): GeneratedSession {
  // Neighbouring seeds of the LCG start alike (seeds 1–18 alternated between two eras): mix and warm it up.
  const random = seededRandom((seed * 2654435761) % 2147483647);
  random();
  random();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const chance = (p: number): boolean => random() < p;
  const era = pick(ERAS);
  const modern = era === MODERN;
  const steps: Step[] = [];
  const client = (message: unknown) => steps.push({ from: "client", message });
  const server = (message: unknown) => steps.push({ from: "server", message });
  const clientInfo = { name: pick(["claude-code", "cursor", "inspector"]), version: "1.2.3" };
  /** A request's params in this era (the modern era's per-request `_meta`). */
  // `consentToken`: every request carries it in `_meta` (serve's per-request consent, for clients without headers).
  const consent = options.consentToken === undefined ? undefined : { "baton/consent_token": options.consentToken };
  const params = (value: Record<string, unknown>, meta?: Record<string, unknown>): Record<string, unknown> => {
    const all = modern
      ? {
          ...meta,
          "io.modelcontextprotocol/protocolVersion": era,
          "io.modelcontextprotocol/clientInfo": clientInfo,
          ...consent,
        }
      : meta === undefined && consent === undefined
        ? undefined
        : { ...meta, ...consent };
    return all === undefined ? value : { ...value, _meta: all };
  };
  const serverInfo = { name: "fixture-server", version: "0.9" };
  const complete = (result: Record<string, unknown>) =>
    modern
      ? { resultType: "complete", ...result, _meta: { "io.modelcontextprotocol/serverInfo": serverInfo } }
      : result;
  let nextId = 0;
  const newId = (): unknown => {
    const n = nextId++;
    const kind = random();
    if (kind < 0.55) return n;
    if (kind < 0.8) return `req-${n}-${pick(["a", "é", "z"])}`;
    if (kind < 0.9) return raw(`${90071992547409931n + BigInt(n) * 1000n}`); // beyond 2^53: JSON.parse rounds it
    return `${n}`;
  };

  // The handshake.
  const handshakeId = newId();
  if (modern) {
    client({ jsonrpc: "2.0", id: handshakeId, method: "server/discover", params: params({}) });
    server({
      jsonrpc: "2.0",
      id: handshakeId,
      result: complete({
        supportedVersions: [era],
        capabilities: { tools: { listChanged: true } },
        serverInfo,
        instructions: "Use the tools.",
      }),
    });
  } else {
    client({
      jsonrpc: "2.0",
      id: handshakeId,
      method: "initialize",
      params: {
        protocolVersion: era,
        capabilities: { sampling: {}, roots: {} },
        clientInfo,
        ...(consent === undefined ? {} : { _meta: consent }),
      },
    });
    server({
      jsonrpc: "2.0",
      id: handshakeId,
      result: {
        protocolVersion: era,
        capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} },
        serverInfo,
        ...(chance(0.5) ? { instructions: "Use the tools wisely." } : {}),
      },
    });
    client({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  // The tool list, in one or two pages.
  const tools = [
    { name: "echo", description: "Echoes", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
    {
      name: "search",
      description: "Searches; wants its own user_goal",
      inputSchema: {
        type: "object",
        properties: { query: { type: "string" }, user_goal: { type: "string" } },
        required: ["query"],
      },
    },
    { name: "image", inputSchema: { type: "object" } },
    { name: "structured", inputSchema: { type: "object" }, outputSchema: { type: "object" } },
    { name: "fail", inputSchema: { type: "object" } },
  ];
  const listId = newId();
  client({ jsonrpc: "2.0", id: listId, method: "tools/list", params: params({}) });
  if (chance(0.5)) {
    server({ jsonrpc: "2.0", id: listId, result: complete({ tools: tools.slice(0, 2), nextCursor: "page-2" }) });
    const pageId = newId();
    client({ jsonrpc: "2.0", id: pageId, method: "tools/list", params: params({ cursor: "page-2" }) });
    server({ jsonrpc: "2.0", id: pageId, result: complete({ tools: tools.slice(2) }) });
  } else {
    server({ jsonrpc: "2.0", id: listId, result: complete({ tools }) });
  }

  // Calls, answered out of order.
  const open: { id: unknown; tool: string; progress?: unknown }[] = [];
  const argumentsFor = (tool: string): Record<string, unknown> => {
    const args: Record<string, unknown> = {};
    if (tool === "search") args.query = pick(["cats", "naïve café", 'quote " and \\ slash', "line\nbreak"]);
    else args.text = pick(["hi", "ünïcödé ✓", "tab\there", "emoji 🎉", "", "a/b"]);
    if (chance(0.3)) args.count = pick([0, 1, -3, 2.5, raw("1.0"), raw("12345678901234567890"), 1e21]);
    if (chance(0.3)) args.nested = { list: [1, "two", null, true, { deep: [[]] }], empty: {} };
    if (chance(0.2)) args.user_goal = pick(["find the cat", "check the build"]);
    if (chance(0.15)) args.expected_result = "a short list";
    // Past the event caps: items per array, depth.
    if (chance(0.05)) args.many = Array.from({ length: 1_200 }, (_, i) => i % 7);
    if (chance(0.05)) args.deep = deepNest(36);
    if (chance(0.05)) args.__proto__key = JSON.parse('{"__proto__":{"x":1}}');
    if (chance(0.05)) args.secret = "Bearer sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    return args;
  };
  const answer = (call: { id: unknown; tool: string }): void => {
    const kind = random();
    const textResult = (text: string) => complete({ content: [{ type: "text", text }] });
    if (call.tool === "fail" || kind < 0.12) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: complete({ content: [{ type: "text", text: "it broke: token=abc" }], isError: true }),
      });
    } else if (kind < 0.22) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        error: {
          code: pick([-32602, -32603, -32000]),
          message: "bad arguments",
          ...(chance(0.5) ? { data: { why: ["x", 1] } } : {}),
        },
      });
    } else if (call.tool === "image" || kind < 0.3) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: complete({
          content: [
            { type: "image", data: "aGVsbG8=", mimeType: "image/png" },
            { type: "text", text: "an image" },
          ],
        }),
      });
    } else if (call.tool === "structured" || kind < 0.4) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: complete({
          content: [{ type: "text", text: '{"n":1}' }],
          structuredContent: { n: 1, big: raw("12345678901234567890"), f: raw("1.50") },
        }),
      });
    } else if (options.big === true && kind < 0.5) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: textResult(`big ${"x".repeat(70 * 1024 + Math.floor(random() * 5000))}`),
      });
    } else if (kind < 0.47) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: complete({ content: Array.from({ length: 1_100 }, (_, i) => ({ type: "text", text: `item ${i}` })) }),
      });
    } else if (kind < 0.5) {
      server({
        jsonrpc: "2.0",
        id: call.id,
        result: complete({ content: [{ type: "text", text: "deep" }], structuredContent: deepNest(40) }),
      });
    } else if (kind < 0.55) {
      server({ jsonrpc: "2.0", id: call.id, result: complete({ isError: false, content: [] }) });
    } else {
      server({ jsonrpc: "2.0", id: call.id, result: textResult(pick(["ok", "done ✓", "🎉", "x".repeat(3000)])) });
    }
  };
  const calls = 10 + Math.floor(random() * 12);
  let serverRequestId = 1000;
  let hugeDone = options.huge !== true;
  /** A re-listing in flight (while it is, server lines wait for their newline and are inspected at once). */
  let listing: unknown;
  for (let n = 0; n < calls; n++) {
    const roll = random();
    if (listing === undefined && chance(0.08)) {
      if (chance(0.5)) server({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
      listing = newId();
      client({ jsonrpc: "2.0", id: listing, method: "tools/list", params: params({}) });
    } else if (listing !== undefined && chance(0.3)) {
      server({ jsonrpc: "2.0", id: listing, result: complete({ tools: chance(0.5) ? tools : tools.slice(1) }) });
      listing = undefined;
    }
    if (roll < 0.07) {
      const id = newId();
      client({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: params({
          name: "baton_annotate",
          arguments: {
            signal_type: pick(["failure", "friction", "success"]),
            intent: "list the files",
            outcome: "the tool timed out",
            ...(chance(0.5) ? { context: { attempt: 2, note: "ünï" } } : {}),
          },
        }),
      });
      continue;
    }
    if (roll < 0.12) {
      const id = newId();
      const method = pick(["resources/read", "prompts/get"]);
      client({
        jsonrpc: "2.0",
        id,
        method,
        params: params(
          method === "resources/read" ? { uri: "file:///tmp/a.txt" } : { name: "greet", arguments: { who: "me" } },
        ),
      });
      server(
        chance(0.7)
          ? {
              jsonrpc: "2.0",
              id,
              result: complete(
                method === "resources/read"
                  ? { contents: [{ uri: "file:///tmp/a.txt", text: "hello" }] }
                  : { messages: [{ role: "user", content: { type: "text", text: "hi me" } }] },
              ),
            }
          : { jsonrpc: "2.0", id, error: { code: -32002, message: "not found" } },
      );
      continue;
    }
    if (roll < 0.2 && (modern || era === "2025-11-25")) {
      // A call that outlives its first answer: another round (2026-07-28) or a task (2025-11-25).
      const tool = pick(["echo", "search"]);
      const first = newId();
      if (modern) {
        client({
          jsonrpc: "2.0",
          id: first,
          method: "tools/call",
          params: params({ name: tool, arguments: argumentsFor(tool) }),
        });
        const state = `rs-${nextId}`;
        server({
          jsonrpc: "2.0",
          id: first,
          result: {
            resultType: "input_required",
            inputRequests: { confirm: { method: "elicitation/create", params: { message: "Sure?" } } },
            requestState: state,
          },
        });
        const next = newId();
        client({
          jsonrpc: "2.0",
          id: next,
          method: "tools/call",
          params: params({
            name: tool,
            arguments: argumentsFor(tool),
            inputResponses: { confirm: { action: "accept" } },
            requestState: state,
          }),
        });
        answer({ id: next, tool });
      } else {
        client({
          jsonrpc: "2.0",
          id: first,
          method: "tools/call",
          params: { name: tool, arguments: argumentsFor(tool), task: { ttl: 60_000 } },
        });
        const taskId = `task-${nextId}`;
        server({ jsonrpc: "2.0", id: first, result: { task: { taskId, status: "working", ttl: 60_000 } } });
        if (chance(0.5))
          server({ jsonrpc: "2.0", method: "notifications/tasks/status", params: { taskId, status: "working" } });
        const get = newId();
        client({ jsonrpc: "2.0", id: get, method: "tasks/get", params: { taskId } });
        const failed = chance(0.3);
        server({
          jsonrpc: "2.0",
          id: get,
          result: { taskId, status: failed ? "failed" : "completed", statusMessage: "done" },
        });
        if (!failed) {
          const fetch = newId();
          client({ jsonrpc: "2.0", id: fetch, method: "tasks/result", params: { taskId } });
          answer({ id: fetch, tool });
        }
      }
      continue;
    }
    if (roll < 0.17) {
      // The server's own request, and the client's answer.
      const id = serverRequestId++;
      server({
        jsonrpc: "2.0",
        id,
        method: pick(["sampling/createMessage", "roots/list", "elicitation/create"]),
        params: { messages: [], maxTokens: 10 },
      });
      client({ jsonrpc: "2.0", id, result: { roots: [{ uri: "file:///home" }] } });
      continue;
    }
    if (!hugeDone && roll < 0.3) {
      hugeDone = true;
      const id = newId();
      const upload = chance(0.5);
      const huge = "h".repeat(9 * 1024 * 1024);
      client({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: params({ name: "echo", arguments: { text: upload ? huge : "huge" } }, { progressToken: 99 }),
      });
      const outcome = random();
      server(
        upload || outcome < 0.4
          ? { jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: upload ? "stored" : huge }] }) }
          : outcome < 0.7
            ? { jsonrpc: "2.0", id, error: { code: -32603, message: "dump", data: { dump: huge } } }
            : { jsonrpc: "2.0", id, result: complete({ content: [{ type: "text", text: huge }], isError: true }) },
      );
      // Our own tool's call over the cap: answered by the proxy, never forwarded.
      client({
        jsonrpc: "2.0",
        id: newId(),
        method: "tools/call",
        params: params({ name: "baton_annotate", arguments: { intent: huge } }, { progressToken: 98 }),
      });
      continue;
    }
    const tool = pick(tools.map((t) => t.name));
    const id = newId();
    const progress = chance(0.25) ? pick([7, "tok-1"]) : undefined;
    client({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: params(
        { name: tool, arguments: argumentsFor(tool) },
        progress === undefined ? undefined : { progressToken: progress },
      ),
    });
    open.push({ id, tool, progress });
    // Some work on the calls in flight: progress, a cancellation, answers out of order.
    while (open.length > 0 && chance(0.6)) {
      const index = Math.floor(random() * open.length);
      const call = open[index] as (typeof open)[number];
      if (call.progress !== undefined && chance(0.5)) {
        server({
          jsonrpc: "2.0",
          method: "notifications/progress",
          params: { progressToken: call.progress, progress: 1, total: 2 },
        });
      }
      open.splice(index, 1);
      if (chance(0.1)) {
        client({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: call.id, reason: "user stop" },
        });
        if (chance(0.5)) answer(call); // answered anyway: forwarded, no second event
      } else {
        answer(call);
      }
    }
  }
  // The report tool (only offered with local sinks), then a few calls left open: closed at shutdown.
  client({
    jsonrpc: "2.0",
    id: newId(),
    method: "tools/call",
    params: params({ name: "baton_session_report", arguments: {} }),
  });
  for (const call of open.slice(0, 2)) answer(call);
  if (listing !== undefined) server({ jsonrpc: "2.0", id: listing, result: complete({ tools }) });
  return { era, batches: era === "2025-03-26", steps };
}

/** An object nested `depth` levels. */
function deepNest(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { level: i, next: value };
  return value;
}

/** How a message is written. */
export interface Form {
  /** Whitespace after `:` and `,` (JSON allows any of space, tab, CR, LF between tokens; not LF in a line). */
  readonly space: string;
  /** Keys of each object in this order, those not named following (top level only). */
  readonly order?: readonly string[];
  /** Keys of `params` in this order, those not named following. */
  readonly paramsOrder?: readonly string[];
  /** Escape the first letter of this top-level key (`"\u006asonrpc"`): the scan gives up on escaped top-level keys. */
  readonly escapeKey?: string;
  /**
   * Escapes in every string value: one letter (`\u0061`), every `/` (`\/`, as PHP's json_encode
   * writes), or every non-ASCII character (`\u00e9`, surrogate pairs for emoji: Python's json.dumps).
   */
  readonly escapeValues?: "letter" | "slash" | "ascii";
  /** Escape the first letter of every key below the top level (`"n\u0061me"`): the scan reads params and results no further. */
  readonly escapeInnerKeys?: boolean;
  /** Write the first member of `params` / `result` twice (JSON.parse keeps the last). */
  readonly duplicateInner?: boolean;
  /** Write the top-level `id` twice (JSON.parse keeps the last). */
  readonly duplicateId?: boolean;
  /** End the line with CR LF (a Windows writer) and start it with spaces. */
  readonly crlf?: boolean;
  /** Wrap the message in a one-member batch. */
  readonly batch?: boolean;
  /** Pad the line with this many spaces after its first `{` (lines over 32 KiB are parsed, not scanned). */
  readonly pad?: number;
}

/** The hot path's form: compact JSON, as most SDKs write it. */
export const FAST: Form = { space: "" };

/**
 * A form of `message` only a full parse reads, picked by `random`: an escaped top-level key, a
 * duplicate id, a one-member batch (when `batches`), or a line padded past the scan's 32 KiB; with
 * reordered keys, whitespace and escaped values on top.
 */
export function parsedForm(message: unknown, random: () => number, batches: boolean, long = false): Form {
  const keys = Object.keys(message as object);
  if (long) return longForm(keys, random);
  const hasId = keys.includes("id");
  const choices: Form[] = [
    { space: "", escapeKey: "jsonrpc" },
    { space: "", pad: 33 * 1024 },
    { space: "", pad: 65 * 1024 },
    { space: "", escapeInnerKeys: true },
    { space: "", duplicateInner: true },
  ];
  if (hasId) choices.push({ space: "", duplicateId: true });
  // initialize must not be part of a batch (2025-03-26), nor is its answer
  const value = message as { method?: unknown; result?: { protocolVersion?: unknown } };
  const handshake = value.method === "initialize" || value.result?.protocolVersion !== undefined;
  if (batches && !handshake) choices.push({ space: "", batch: true });
  const base = choices[Math.floor(random() * choices.length)] as Form;
  return {
    ...base,
    space: random() < 0.5 ? " " : random() < 0.5 ? "\t" : random() < 0.5 ? "\r" : "",
    crlf: random() < 0.2,
    order: random() < 0.5 ? [...keys].reverse() : undefined,
    escapeValues: random() < 0.4 ? (["letter", "slash", "ascii"] as const)[Math.floor(random() * 3)] : undefined,
  };
}

/**
 * A line over the 8 MiB inspection cap is read from its first and last 4 KiB only: its forms are
 * the key orders SDKs write (id first or last, jsonrpc anywhere, `_meta` first or last in params),
 * with any whitespace.
 */
function longForm(keys: readonly string[], random: () => number): Form {
  const orders = [
    ["jsonrpc", "id"],
    ["id", "jsonrpc"],
    ["method", "params", "result", "error", "jsonrpc", "id"],
    ["method", "params", "result", "error", "id", "jsonrpc"],
    ["jsonrpc", "method", "id"],
  ];
  const order = orders[Math.floor(random() * orders.length)] as string[];
  return {
    space: random() < 0.5 ? " " : "",
    order: [...order.filter((k) => keys.includes(k)), ...keys.filter((k) => !order.includes(k))],
    paramsOrder: random() < 0.5 ? ["_meta"] : undefined,
    crlf: random() < 0.3,
  };
}

/** `message` written in `form`, without a newline. */
export function render(message: unknown, form: Form): string {
  const sp = form.space;
  const text = (value: string): string => {
    const json = JSON.stringify(value);
    if (form.escapeValues === "slash") return json.replaceAll("/", "\\/");
    if (form.escapeValues === "ascii")
      return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    if (form.escapeValues !== "letter") return json;
    const at = json.search(/[a-z]/);
    return at < 0 ? json : `${json.slice(0, at)}\\u00${json.charCodeAt(at).toString(16)}${json.slice(at + 1)}`;
  };
  const write = (value: unknown, top: boolean, inner = false): string => {
    if (isRaw(value) || value === null || typeof value !== "object") {
      return typeof value === "string" ? text(value) : JSON.stringify(value);
    }
    if (Array.isArray(value)) return `[${value.map((v) => write(v, false, inner)).join(`,${sp}`)}]`;
    let keys = Object.keys(value);
    const order = top ? form.order : inner ? form.paramsOrder : undefined;
    if (order !== undefined)
      keys = [...order.filter((k) => keys.includes(k)), ...keys.filter((k) => !order.includes(k))];
    const members = keys.map((key) => {
      let name = JSON.stringify(key);
      if ((top && key === form.escapeKey) || (!top && form.escapeInnerKeys === true && /^[a-z]/.test(key)))
        name = `"\\u00${key.charCodeAt(0).toString(16)}${key.slice(1)}"`;
      const member = (value as Record<string, unknown>)[key];
      const written = `${name}:${sp}${write(member, false, top && (key === "params" || key === "result"))}`;
      return written;
    });
    if (inner && form.duplicateInner === true && members.length > 0) members.unshift(members[0] as string);
    if (top && form.duplicateId === true && "id" in value)
      members.unshift(`"id":${sp}${write((value as Record<string, unknown>).id, false)}`);
    return `{${members.join(`,${sp}`)}}`;
  };
  let line = write(message, true);
  if (form.pad !== undefined) line = `{${" ".repeat(form.pad)}${line.slice(1)}`;
  if (form.batch === true) line = `[${line}]`;
  return form.crlf === true ? `  ${line}\r` : line;
}

/** The seeds a differential test runs: PATHS_FROM..PATHS_TO when set (to explore), else `defaults`. */
export function seedsOr(defaults: readonly number[]): readonly number[] {
  const to = process.env.PATHS_TO;
  if (to === undefined) return defaults;
  const from = Number(process.env.PATHS_FROM ?? 1);
  return Array.from({ length: Math.max(0, Number(to) - from + 1) }, (_, i) => from + i);
}

/** What reached a peer after one step: `sent` when it was the step's own bytes, else the message as parsed. */
export type Arrival = "sent" | unknown;

/** `line` as it arrived, `sent` being the step's own line: the same bytes, or what they mean. */
export function arrivalOf(line: string, sent: string): Arrival {
  if (line === sent) return "sent";
  const value = parseExact(line);
  return Array.isArray(value) && value.length === 1 ? value[0] : value; // the hot path's form never is a batch
}

/** A line parsed with its numbers as written (big integers, `1.0`) and its keys sorted (a rewrite keeps the order it got), for comparing what was rewritten. */
export function parseExact(line: string): unknown {
  return JSON.parse(line, (_key, value, context?: { source?: string }) => {
    if (typeof value === "number" && context?.source !== undefined) return `#${context.source}`;
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, value[k]]),
    );
  });
}
